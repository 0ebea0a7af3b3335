import Foundation
import NIOCore
import Synchronization
import TesseraClient
import TesseraProtocol
import TestSupport
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

    /// CPU seconds the daemon used so far (user + system, from /proc).
    private func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat.split(separator: ")").last!.split(separator: " ")
        return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Whether a connection is served (PING answered) or refused with `busy` and closed; never
    /// left hanging.
    private enum Admission: Equatable { case served, busy }
    private func admission(_ connection: RawConnection) throws -> Admission {
        connection.send(.ping, requestID: 1, PingMessage(payload: [1]))
        let reply = try XCTUnwrap(connection.readFrame(), "every connection gets an answer")
        if reply.status == 0 { return .served }
        XCTAssertEqual(reply.status, Status.busy.rawValue)
        XCTAssertTrue(reply.flags.contains(.closing))
        return .busy
    }

    /// Under a descriptor limit too low for --max-connections, the daemon holds what the limit
    /// leaves room for and answers the rest `busy`, and it does not spin.
    func testConnectionsBeyondTheDescriptorLimitGetBusy() throws {
        let prlimit = try XCTUnwrap(["/usr/bin/prlimit", "/bin/prlimit"].first { FileManager.default.isExecutableFile(atPath: $0) })
        // The idle timeout is long enough that no connection served is closed for idling
        // before the last of the 60 is admitted (a slow machine took over a second to admit
        // them all, and two closed early connections made room for two more).
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--connection-idle-timeout", "4"])
        daemon.launcher = [prlimit, "--nofile=100:100"]
        try daemon.start()
        XCTAssertTrue(daemon.log.contains("connections.room=36"), daemon.log)
        let connections = try (0..<60).map { _ in try RawConnection(path: daemon.socketPath) }
        let admitted = try connections.map(admission)
        XCTAssertEqual(admitted.filter { $0 == .served }.count, 36)
        XCTAssertEqual(admitted.filter { $0 == .busy }.count, 24)
        let pid = try XCTUnwrap(daemon.process?.processIdentifier)
        let lastServed = connections[try XCTUnwrap(admitted.lastIndex(of: .served))]
        let before = try cpuSeconds(pid)
        // The window: until the daemon closes the last connection served for idling (4 s).
        XCTAssertTrue(lastServed.isClosedByPeer())
        XCTAssertLessThan(try cpuSeconds(pid) - before, 0.3, "the daemon idles at its limit")
    }

    /// When descriptors run out anyway (here the limit is lowered under the running daemon), a
    /// queued connection is shed with `busy` instead of hanging, and accepting does not spin.
    func testOutOfDescriptorsAQueuedConnectionIsShedNotSpunOn() throws {
        let prlimit = try XCTUnwrap(["/usr/bin/prlimit", "/bin/prlimit"].first { FileManager.default.isExecutableFile(atPath: $0) })
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--connection-idle-timeout", "3"])
        try daemon.start()
        let pid = try XCTUnwrap(daemon.process?.processIdentifier)
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count
        let lowered = try runCommand(prlimit, ["--pid", "\(pid)", "--nofile=\(open + 3):\(open + 3)"])
        XCTAssertEqual(lowered.status, 0, lowered.stderr)
        let connections = try (0..<12).map { _ in try RawConnection(path: daemon.socketPath) }
        let admitted = try connections.map(admission)
        // Connections are served while descriptors remain and shed once they run out; which
        // ones depends on what else the daemon holds at that moment (it opens /proc files for a
        // peer's groups, and closes shed and refused connections), so served and shed may
        // alternate. Every one gets an answer: none is left hanging in the queue.
        XCTAssertEqual(admitted.first, .served, "while descriptors remain, connections are served")
        XCTAssertGreaterThanOrEqual(admitted.filter { $0 == .busy }.count, 4, "out of descriptors, connections are shed: \(admitted)")
        let lastServed = connections[try XCTUnwrap(admitted.lastIndex(of: .served))]
        XCTAssertEqual(try admission(lastServed), .served, "the connections it holds serve on")
        let before = try cpuSeconds(pid)
        // The window: until the daemon closes that connection for idling (3 s).
        XCTAssertTrue(lastServed.isClosedByPeer())
        XCTAssertLessThan(try cpuSeconds(pid) - before, 0.3, "no accept loop at the limit")
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
        // One connection pings without pause while the other waits for its end of stream.
        let stop = Atomic<Bool>(false)
        let failures = Atomic<Int>(0)
        let pinged = DispatchSemaphore(value: 0)
        let pinger = Thread {
            var id: UInt32 = 0
            while !stop.load(ordering: .relaxed) {
                id += 1
                busy.send(.ping, requestID: id, PingMessage(payload: [1]))
                if busy.readFrame()?.status != 0 { failures.add(1, ordering: .relaxed) }
            }
            pinged.signal()
        }
        pinger.start()
        XCTAssertTrue(idle.isClosedByPeer(), "the idle one was closed")
        let closedAfter = Date().timeIntervalSince(started)
        stop.store(true, ordering: .relaxed)
        pinged.wait()
        XCTAssertGreaterThanOrEqual(closedAfter, 0.9, "not before its idle timeout")
        XCTAssertLessThan(closedAfter, 8)
        XCTAssertEqual(failures.load(ordering: .relaxed), 0, "a connection in use stays open")
        XCTAssertEqual(ping(busy, id: 0)?.status, 0)
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
        // A send blocked for 2 s returns EAGAIN: the writer then knows the daemon stopped reading.
        var stall = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &stall, socklen_t(MemoryLayout<timeval>.size))
        let finished = DispatchSemaphore(value: 0)
        let writer = Thread {
            defer { finished.signal() }
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
        finished.wait()  // stalled (the daemon stopped reading) or all 64 MB sent
        XCTAssertLessThan(sent.load(ordering: .relaxed), 16, "the daemon stopped reading a client that does not read")
        let grown = try residentKiB() - before
        // AddressSanitizer's redzones, shadow and quarantine make resident memory meaningless.
        if ProcessInfo.processInfo.environment["TESSERA_SANITIZER"] != "address" {
            XCTAssertLessThan(grown, 48 * 1024, "resident memory grew by \(grown) KiB")
        }
        let other = try RawConnection(path: daemon.socketPath)
        let started = Date()
        XCTAssertEqual(ping(other)?.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5, "another client is answered at once")
        shutdown(flooder.fd, Int32(SHUT_RDWR))
    }

    /// Every reply byte counts: 16 connections each send 256 LIST_SESSIONS (about 120 KB a
    /// reply) and never read. Reading stops at the pause budget, but the replies of requests
    /// already in flight still arrive; the first that would take a connection past the output
    /// limit (1 MiB) closes it. Without the limit each connection held every reply (30 MB).
    func testRepliesOfSlowRequestsNeverReadStayUnderTheOutputLimit() async throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let agent = String(repeating: "Mozilla/5.0 ", count: 42)  // 504 bytes
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask { _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8), userAgent: agent) }
            }
            try await group.waitForAll()
        }
        await client.close()
        let pid = try XCTUnwrap(daemon.process?.processIdentifier)
        func memoryKiB(_ field: String) throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix(field + ":") })
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])!
        }
        let probe = try RawConnection(path: daemon.socketPath)
        probe.send(.listSessions, requestID: 1, ListSessionsRequest(user: .username("alice"), limit: 1000))
        let page = try XCTUnwrap(probe.readFrame())
        XCTAssertEqual(page.status, 0)
        XCTAssertGreaterThan(page.body.readableBytes, 100_000, "each reply is large")
        let before = try memoryKiB("VmRSS")

        let flooders = try (0..<16).map { _ in try RawConnection(path: daemon.socketPath) }
        let request = ListSessionsRequest(user: .username("alice"), limit: 1000)
        for flooder in flooders { flooder.sendTogether((0..<256).map { (.listSessions, UInt32($0 + 1), request) }) }
        XCTAssertTrue(
            daemon.waitForLog(timeout: 60) { $0.components(separatedBy: "passed the output limit").count - 1 >= 16 },
            "every connection that never reads is closed at the output limit")
        // The peak, not what is left: the replies must never have been held.
        let grown = try memoryKiB("VmHWM") - before
        if ProcessInfo.processInfo.environment["TESSERA_SANITIZER"] != "address" {
            XCTAssertLessThan(grown, 64 * 1024, "peak resident memory grew by \(grown) KiB")
        }
        print("16 × 256 LIST_SESSIONS never read: peak resident memory grew by \(grown) KiB")
        for flooder in flooders { XCTAssertTrue(flooder.readsToTheEnd(), "closed by the daemon, after what the socket already held") }
        XCTAssertEqual(ping(try RawConnection(path: daemon.socketPath))?.status, 0, "the daemon serves on")
    }

    /// A client the server stopped reading (its replies pile up) is not cut off by the frame
    /// timeout for the frame the server left half-read: once it reads, every request it sent
    /// whole is answered.
    func testAPausedConnectionIsNotCutOffByTheFrameTimeout() throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--frame-timeout", "1"])
        try daemon.start()
        let client = try RawConnection(path: daemon.socketPath, timeoutSeconds: 10)
        var burst = ByteBuffer()
        try burst.writeFrame(opcode: Opcode.ping.rawValue, requestID: 1) {
            try PingMessage(payload: Array(repeating: 7, count: 256)).encode(into: &$0)
        }
        let frame = Array(burst.readableBytesView)
        let stream = Array((0..<20_000).map { _ in frame }.joined())  // 5.4 MB of PINGs
        var stall = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(client.fd, SOL_SOCKET, SO_SNDTIMEO, &stall, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while sent < stream.count {
            let n = stream[sent...].withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }  // blocked for a second: the server stopped reading
            sent += n
        }
        XCTAssertLessThan(sent, stream.count, "the server stopped reading")
        XCTAssertNotEqual(sent % frame.count, 0, "the server stopped in the middle of a frame")
        // The daemon's own clock: a frame begun now on another connection is cut off at the frame
        // timeout, and by then the paused connection's half-read frame, begun earlier, would be too.
        let control = try RawConnection(path: daemon.socketPath, timeoutSeconds: 10)
        control.send([0, 0, 0, 20, 2, 0])
        XCTAssertEqual(control.readFrame()?.status, Status.malformedFrame.rawValue, "the frame timeout passed")
        var answered = 0
        while answered < sent / frame.count, let reply = client.readFrame() {
            XCTAssertEqual(reply.status, 0, "reply \(answered)")
            answered += 1
        }
        XCTAssertEqual(answered, sent / frame.count, "every whole request was answered")
    }
}
