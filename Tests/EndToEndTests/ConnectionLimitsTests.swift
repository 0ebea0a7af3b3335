import Foundation
import NIOCore
import Synchronization
import TesseraProtocol
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Connections are bounded: a maximum count, a frame that must arrive whole in time, an idle
/// timeout, and a client that never reads stops being read instead of growing the daemon.
final class ConnectionLimitsTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    private func ping(_ connection: RawConnection, id: UInt32 = 1) -> Frame? {
        connection.send(.ping, requestID: id, PingMessage(payload: [1]))
        return connection.readFrame()
    }

    func testOneConnectionOverTheLimitGetsBusyAndTheRestServeOn() throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--max-connections", "2"])
        try daemon.start()
        let first = try RawConnection(path: daemon.socketPath)
        let second = try RawConnection(path: daemon.socketPath)
        XCTAssertEqual(ping(first)?.status, 0)
        XCTAssertEqual(ping(second)?.status, 0)
        let third = try RawConnection(path: daemon.socketPath)
        let refused = try XCTUnwrap(third.readFrame())
        XCTAssertEqual(refused.status, Status.busy.rawValue)
        XCTAssertTrue(refused.flags.contains(.closing))
        XCTAssertEqual(try ErrorBody(decoding: refused.body).retryAfterSeconds, 1)
        XCTAssertEqual(ping(first, id: 2)?.status, 0, "the connections inside the limit are untouched")
    }

    func testAFrameTrickledInIsCutOffAtTheFrameTimeout() throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--frame-timeout", "1"])
        try daemon.start()
        let slow = try RawConnection(path: daemon.socketPath, timeoutSeconds: 10)
        slow.send([0, 0, 0, 20, 2, 0])  // the start of a 24-byte PING, then nothing
        let started = Date()
        let reply = try XCTUnwrap(slow.readFrame(), "the daemon answers the unfinished frame")
        XCTAssertEqual(reply.status, Status.malformedFrame.rawValue)
        XCTAssertTrue(reply.flags.contains(.closing))
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertTrue(slow.isClosedByPeer())
    }

    func testAnIdleConnectionIsClosedAndABusyOneIsNot() throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--connection-idle-timeout", "1"])
        try daemon.start()
        let idle = try RawConnection(path: daemon.socketPath, timeoutSeconds: 10)
        let busy = try RawConnection(path: daemon.socketPath, timeoutSeconds: 10)
        let started = Date()
        for round in 0..<6 {
            XCTAssertEqual(ping(busy, id: UInt32(round))?.status, 0, "round \(round): a connection in use stays open")
            usleep(400_000)
        }
        XCTAssertTrue(idle.isClosedByPeer(), "the idle one was closed")
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
    }

    /// 64 MB of PINGs from a client that never reads its replies: the daemon stops reading it
    /// once its replies pile up, stays small, and answers another client at once.
    func testAClientThatNeverReadsIsNoLongerReadAndCostsLittle() throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        try daemon.start()
        let pid = try XCTUnwrap(daemon.process?.processIdentifier)
        func residentKiB() throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])!
        }
        let before = try residentKiB()
        let flooder = try RawConnection(path: daemon.socketPath)
        var burst = ByteBuffer()
        for id in 0..<256 {
            try burst.writeFrame(opcode: Opcode.ping.rawValue, requestID: UInt32(id)) {
                try PingMessage(payload: Array(repeating: 7, count: 16_000)).encode(into: &$0)
            }
        }
        let chunk = Array(burst.readableBytesView)  // 4 MB: sent 16 times
        let sent = Atomic<Int>(0)
        let descriptor = flooder.fd
        let writer = Thread {
            for _ in 0..<16 {
                var offset = 0
                while offset < chunk.count {
                    let n = chunk[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { return }
                    offset += n
                }
                sent.add(1, ordering: .relaxed)
            }
        }
        writer.start()
        // Wait until the writer is stuck (the daemon stopped reading) or done.
        var last = -1
        while sent.load(ordering: .relaxed) != last {
            last = sent.load(ordering: .relaxed)
            usleep(500_000)
        }
        XCTAssertLessThan(last, 16, "the daemon stopped reading a client that does not read")
        let grown = try residentKiB() - before
        XCTAssertLessThan(grown, 48 * 1024, "resident memory grew by \(grown) KiB")
        let other = try RawConnection(path: daemon.socketPath)
        let started = Date()
        XCTAssertEqual(ping(other)?.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, "another client is answered at once")
        shutdown(flooder.fd, Int32(SHUT_RDWR))
    }
}
