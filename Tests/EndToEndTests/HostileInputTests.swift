import Foundation
import NIOCore
import TesseraClient
import TesseraProtocol
import XCTest

/// Raw bytes at the real daemon: every bad frame gets a clear answer and nobody else suffers.
final class HostileInputTests: XCTestCase {
    var daemon: DaemonProcess!
    override func setUpWithError() throws {
        daemon = DaemonProcess()
        try daemon.start()
    }
    override func tearDown() { daemon.tearDown() }

    private func assertOthersStillServed(file: StaticString = #filePath, line: UInt = #line) throws {
        let other = try RawConnection(path: daemon.socketPath)
        other.send(.ping, requestID: 77, PingMessage(payload: [1, 2, 3]))
        let reply = try XCTUnwrap(other.readFrame(), "another connection is still served", file: file, line: line)
        XCTAssertEqual(reply.requestID, 77, file: file, line: line)
        XCTAssertEqual(try PingMessage(decoding: reply.body).payload, [1, 2, 3], file: file, line: line)
    }

    func testHostileLengthsGetAnErrorFrameAndAClose() throws {
        for (length, status) in [
            (UInt32(0), Status.malformedFrame), (7, .malformedFrame), (16385, .frameTooLarge),
            (1 << 31, .frameTooLarge), (0xFFFF_FFFF, .frameTooLarge),
        ] {
            let connection = try RawConnection(path: daemon.socketPath)
            var bytes: [UInt8] = []
            withUnsafeBytes(of: length.bigEndian) { bytes.append(contentsOf: $0) }
            connection.send(bytes)
            let reply = try XCTUnwrap(connection.readFrame(), "length \(length)")
            XCTAssertEqual(reply.status, status.rawValue, "length \(length)")
            XCTAssertTrue(reply.flags.contains(.closing))
            XCTAssertEqual(reply.requestID, 0)
            XCTAssertEqual(try ErrorBody(decoding: reply.body).name, status.name)
            XCTAssertTrue(connection.isClosedByPeer(), "length \(length): the server closes")
            try assertOthersStillServed()
        }
    }

    func testUnknownOpcodeKeepsTheConnectionOpen() throws {
        let connection = try RawConnection(path: daemon.socketPath)
        connection.send(opcode: 0x7f, requestID: 5)
        let reply = try XCTUnwrap(connection.readFrame())
        XCTAssertEqual(reply.status, Status.unknownOpcode.rawValue)
        XCTAssertEqual(reply.requestID, 5)
        XCTAssertFalse(reply.flags.contains(.closing))
        connection.send(.ping, requestID: 6, PingMessage())
        XCTAssertEqual(connection.readFrame()?.requestID, 6)
    }

    /// A client that sends its requests and shuts down its write side still gets every reply,
    /// slow ones included, then the close.
    func testAHalfClosedClientGetsItsRepliesThenTheClose() throws {
        let connection = try RawConnection(path: daemon.socketPath)
        connection.send(.createUser, requestID: 1, CreateUserRequest(username: "halfclose", password: Array("correct horse".utf8)))
        connection.send(.ping, requestID: 2, PingMessage(payload: [1]))
        XCTAssertEqual(shutdown(connection.fd, Int32(SHUT_WR)), 0)
        let replies = [connection.readFrame(), connection.readFrame()].compactMap { $0 }
        XCTAssertEqual(Set(replies.map(\.requestID)), [1, 2])
        XCTAssertEqual(replies.map(\.status), [0, 0])
        XCTAssertTrue(connection.isClosedByPeer())
    }

    func testMalformedBodiesAreInvalidArgumentAndTheConnectionStays() throws {
        let connection = try RawConnection(path: daemon.socketPath)
        var truncatedField = ByteBuffer()
        truncatedField.writeMultipleIntegers(UInt8(1), UInt16(500), UInt8(0x41))
        var badUTF8 = ByteBuffer()
        try badUTF8.writeField(1, bytes: [0xff, 0xfe, 0xfd])
        var hugeUsername = ByteBuffer()
        try hugeUsername.writeField(1, string: String(repeating: "u", count: 10_000))
        try hugeUsername.writeField(2, string: "correct horse")
        // A token that is not valid UTF-8 is a malformed string field, as in every other message.
        let cases: [(Opcode, ByteBuffer, Status)] = [
            (.verify, truncatedField, .invalidArgument), (.verify, badUTF8, .invalidArgument), (.verify, ByteBuffer(), .invalidArgument),
            (.login, ByteBuffer(), .invalidArgument), (.createUser, hugeUsername, .invalidArgument), (.hello, ByteBuffer(), .invalidArgument),
        ]
        for (index, (opcode, body, expected)) in cases.enumerated() {
            connection.send(opcode: opcode.rawValue, requestID: UInt32(100 + index), body: body)
            let reply = try XCTUnwrap(connection.readFrame(), "case \(index)")
            XCTAssertEqual(reply.requestID, UInt32(100 + index))
            XCTAssertEqual(reply.status, expected.rawValue, "case \(index): \(String(describing: try? ErrorBody(decoding: reply.body)))")
            XCTAssertFalse(reply.flags.contains(.closing))
        }
        try assertOthersStillServed()
    }

    func testTruncatedFrameThenHangUpLeavesTheDaemonServing() throws {
        do {
            let connection = try RawConnection(path: daemon.socketPath)
            var buffer = ByteBuffer()
            try buffer.writeFrame(opcode: Opcode.ping.rawValue, requestID: 1) { try $0.writeField(1, bytes: [1, 2, 3, 4]) }
            connection.send(Array(buffer.readableBytesView.dropLast(3)))
        }
        try assertOthersStillServed()
    }

    func testManyPipelinedVerifiesInOneWriteAreAllAnswered() throws {
        let connection = try RawConnection(path: daemon.socketPath)
        var burst = ByteBuffer()
        for id in 0..<500 as Range<UInt32> {
            try burst.writeFrame(opcode: Opcode.verify.rawValue, requestID: id) { try TokenRequest(token: "x\(id)").encode(into: &$0) }
        }
        connection.send(Array(burst.readableBytesView))
        var seen = Set<UInt32>()
        for _ in 0..<500 {
            let reply = try XCTUnwrap(connection.readFrame())
            XCTAssertEqual(reply.status, Status.tokenInvalid.rawValue)
            seen.insert(reply.requestID)
        }
        XCTAssertEqual(seen, Set(0..<500))
    }
}

/// A flood of bad requests does not flood the log: a client's mistakes are logged at debug.
final class LogFloodTests: XCTestCase {
    func testBadVerifiesAreNotLoggedAtInfo() throws {
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--log-level", "info"])
        defer { daemon.tearDown() }
        try daemon.start()
        let before = daemon.log.utf8.count
        let connection = try RawConnection(path: daemon.socketPath)
        connection.sendTogether((1...1000).map { (.verify, UInt32($0), VerifyRequest(token: "not-a-token-\($0)")) })
        let replies = (1...1000).compactMap { _ in connection.readFrame() }
        XCTAssertEqual(replies.count, 1000)
        XCTAssertTrue(replies.allSatisfy { $0.status == Status.tokenInvalid.rawValue })
        let written = daemon.log.utf8.count - before
        XCTAssertLessThan(written, 1000, "1,000 bad verifies wrote \(written) bytes of log")
    }

    /// Even at debug level, where each failed request has a line, a flood is rate-limited.
    func testAFloodAtDebugLevelIsRateLimited() throws {
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--log-level", "debug"])
        defer { daemon.tearDown() }
        try daemon.start()
        let before = daemon.log.utf8.count
        let connection = try RawConnection(path: daemon.socketPath)
        for round in 0..<10 {
            connection.sendTogether((1...2000).map { (.verify, UInt32(round * 2000 + $0), VerifyRequest(token: "not-a-token-\($0)")) })
            let replies = (1...2000).compactMap { _ in connection.readFrame() }
            XCTAssertEqual(replies.count, 2000)
        }
        daemon.stop()
        let log = daemon.log.utf8.dropFirst(before)
        let lines = log.split(separator: UInt8(ascii: "\n")).filter { String(decoding: $0, as: UTF8.self).hasSuffix("request failed") }
        // 100 at once, then 20 a second: a few hundred lines, not 20,000.
        XCTAssertLessThan(lines.count, 1000, "20,000 bad verifies wrote \(lines.count) lines")
        XCTAssertGreaterThanOrEqual(lines.count, 100, "the first ones are logged")
    }
}

/// A profile too big to encode is refused at the door, so no reply can ever trap the daemon.
final class OversizedProfileTests: XCTestCase {
    func testSettingsThatWouldNotFitInAReplyAreInvalidArgument() async throws {
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--max-frame", "262144"])
        defer { daemon.tearDown() }
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        // 64 KiB of settings cannot even be encoded: the client refuses to send it, and does not trap.
        let huge = Dictionary(uniqueKeysWithValues: (0..<64).map { ("key\($0)", String(repeating: "v", count: 1024)) })
        do {
            _ = try await client.updateUser(.username("alice"), ProfileUpdate(settings: huge))
            XCTFail("64 KiB of settings cannot be sent")
        } catch let error as TesseraClientError {
            XCTAssertEqual(error.name, "invalid-request")
        }
        // 19 KiB fits a field but not the daemon's cap: refused, nothing written.
        let big = Dictionary(uniqueKeysWithValues: (0..<64).map { ("key\($0)", String(repeating: "v", count: 300)) })
        do {
            _ = try await client.updateUser(.username("alice"), ProfileUpdate(settings: big))
            XCTFail("19 KiB of settings must be refused")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .invalidArgument)
        }
        let user = try await client.user(.username("alice"))
        XCTAssertEqual(user.settings, [:], "nothing was written")
        await client.close()
    }
}
