import Foundation
import NIOCore
import TesseraProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A blocking Unix-socket connection that sends arbitrary bytes: for hostile-input tests.
/// Sendable so a test may hand it to another thread; one thread uses it at a time.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(path: String, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    static func canConnect(_ path: String) -> Bool {
        (try? RawConnection(path: path)) != nil
    }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    func send(opcode: UInt8, requestID: UInt32, body: ByteBuffer = ByteBuffer()) {
        var buffer = ByteBuffer()
        var body = body
        buffer.writeFrame(opcode: opcode, requestID: requestID) { $0.writeBuffer(&body) }
        send(Array(buffer.readableBytesView))
    }

    func send(_ opcode: Opcode, requestID: UInt32, _ message: some WireMessage) {
        // The tests' messages are small: a field can always hold them.
        send(opcode: opcode.rawValue, requestID: requestID, body: try! message.encoded())
    }

    /// Sends every frame in one write, so they reach the server in this order in one read burst.
    func sendTogether(_ frames: [(Opcode, UInt32, any WireMessage)]) {
        var buffer = ByteBuffer()
        for (opcode, id, message) in frames {
            try! buffer.writeFrame(opcode: opcode.rawValue, requestID: id) { try message.encode(into: &$0) }
        }
        send(Array(buffer.readableBytesView))
    }

    private var pending = ByteBuffer()

    /// The next whole frame, or `nil` when the server closed the connection (or timed out).
    func readFrame() -> Frame? {
        while true {
            if let frame = try? FrameDecoder.decodeFrame(from: &pending, maximumLength: 1 << 24) { return frame }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            pending.writeBytes(chunk[0..<n])
        }
    }

    /// Reads and discards whatever is left until the server's close: `true` when it closed,
    /// `false` when a read timed out or failed first. Bounded by what a socket buffer holds.
    func readsToTheEnd() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<100_000 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return false }
        }
        return false
    }

    /// `true` when the server has closed its side (read returns 0).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }
}
