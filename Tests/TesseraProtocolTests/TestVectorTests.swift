import Foundation
import NIOCore
import ProtocolVectors
import TesseraProtocol
import XCTest

/// `Protocol/vectors/*.hex` and the codec agree in both directions.
final class TestVectorTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors")

    func testEveryVectorFileIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".hex") }
        XCTAssertEqual(Set(files), Set(TestVector.all.map { "\($0.name).hex" }))
    }

    func testDecodeEveryVector() throws {
        for vector in TestVector.all {
            let text = try String(contentsOf: Self.directory.appendingPathComponent("\(vector.name).hex"), encoding: .utf8)
            var buffer = ByteBuffer(bytes: TestVector.parse(text))
            let frame = try XCTUnwrap(try FrameDecoder.decodeFrame(from: &buffer, maximumLength: 1 << 20), vector.name)
            XCTAssertEqual(buffer.readableBytes, 0, vector.name)
            XCTAssertEqual(frame.opcode, vector.opcode, vector.name)
            XCTAssertEqual(frame.flags, vector.flags, vector.name)
            XCTAssertEqual(frame.status, vector.status, vector.name)
            XCTAssertEqual(frame.requestID, vector.requestID, vector.name)
            let decoded = try vector.decodeMessage(frame.body)
            XCTAssertTrue(isEqual(decoded, vector.message), "\(vector.name): decoded \(decoded), expected \(vector.message)")
        }
    }

    func testEncodeEveryVector() throws {
        for vector in TestVector.all {
            let text = try String(contentsOf: Self.directory.appendingPathComponent("\(vector.name).hex"), encoding: .utf8)
            XCTAssertEqual(vector.bytes, TestVector.parse(text), vector.name)
        }
    }

    func testDecodedThenReencodedIsIdentical() throws {
        for vector in TestVector.all {
            let text = try String(contentsOf: Self.directory.appendingPathComponent("\(vector.name).hex"), encoding: .utf8)
            let original = TestVector.parse(text)
            var buffer = ByteBuffer(bytes: original)
            let frame = try XCTUnwrap(try FrameDecoder.decodeFrame(from: &buffer, maximumLength: 1 << 20))
            let message = try vector.decodeMessage(frame.body)
            var out = ByteBuffer()
            try out.writeFrame(opcode: frame.opcode, flags: frame.flags, status: frame.status, requestID: frame.requestID) {
                try message.encode(into: &$0)
            }
            XCTAssertEqual(Array(out.readableBytesView), original, vector.name)
        }
    }

    private func isEqual(_ a: any SchemaMessage, _ b: any SchemaMessage) -> Bool {
        func open<T: SchemaMessage>(_ a: T) -> Bool { (b as? T) == a }
        return open(a)
    }
}

/// The vectors say what the spec's prose says (§7.28, §9): a token names its session's id, an
/// id begins with its creation time in milliseconds, a recovery code is lower-case Base32.
final class VectorContentTests: XCTestCase {
    /// The 16-byte id a token (or an API key, after `tsk_`) carries: bytes 3..<19 of its Base64url.
    private func id(ofToken text: String) throws -> [UInt8] {
        var base64 = String(text.hasPrefix("tsk_") ? text.dropFirst(4) : Substring(text))
            .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        let bytes = try XCTUnwrap(Data(base64Encoded: base64), text)
        XCTAssertEqual(bytes.count, 51, text)
        return Array(bytes[3..<19])
    }

    private func milliseconds(_ id: [UInt8]) -> Int64 {
        id.prefix(6).reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    func testTokensNameTheirIdsAndIdsBeginWithTheirCreationTime() throws {
        var checked = 0
        // 2025-01-01 to 2030-01-01: a millisecond clock, not bytes that happen to be there.
        let plausible: ClosedRange<Int64> = 1_735_689_600_000...1_893_456_000_000
        for vector in TestVector.all {
            switch vector.message {
            case let login as LoginResponse:
                XCTAssertEqual(try id(ofToken: login.token), login.sessionID, "\(vector.name): the token names the session")
                XCTAssertTrue(plausible.contains(milliseconds(login.sessionID)), vector.name)
                XCTAssertTrue(plausible.contains(milliseconds(try id(ofToken: login.refreshToken))), vector.name)
                checked += 1
            case let created as CreateAPIKeyResponse:
                XCTAssertEqual(try id(ofToken: created.key), created.apiKey.keyID, vector.name)
                XCTAssertEqual(milliseconds(created.apiKey.keyID), created.apiKey.createdAt, vector.name)
                XCTAssertTrue(created.key.hasPrefix(created.apiKey.prefix), vector.name)
                checked += 1
            case let list as SessionListResponse:
                for session in list.sessions { XCTAssertEqual(milliseconds(session.sessionID), session.createdAt, vector.name) }
                checked += 1
            case let list as APIKeyListResponse:
                for key in list.apiKeys { XCTAssertEqual(milliseconds(key.keyID), key.createdAt, vector.name) }
                checked += 1
            case let verify as VerifyResponse:
                XCTAssertTrue(plausible.contains(milliseconds(verify.sessionID)), vector.name)
                checked += 1
            case let request as VerifyRequest:
                XCTAssertTrue(plausible.contains(milliseconds(try id(ofToken: request.token))), vector.name)
                checked += 1
            default: break
            }
        }
        XCTAssertGreaterThan(checked, 8)
    }

    func testRecoveryCodesAreLowerCaseBase32() throws {
        let pattern = try NSRegularExpression(pattern: "^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$")
        var codes: [String] = []
        for vector in TestVector.all {
            if let reply = vector.message as? RecoveryCodesResponse { codes += reply.recoveryCodes }
            if let login = vector.message as? LoginRequest, let code = login.recoveryCode { codes.append(code) }
        }
        XCTAssertFalse(codes.isEmpty)
        for code in codes {
            XCTAssertNotNil(pattern.firstMatch(in: code, range: NSRange(code.startIndex..., in: code)), code)
        }
    }
}
