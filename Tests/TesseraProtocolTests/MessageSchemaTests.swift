import NIOCore
import ProtocolVectors
import TesseraModel
import TesseraProtocol
import XCTest

/// The rules every message gets from its schema, checked on every message of the catalog.
final class MessageSchemaTests: XCTestCase {
    /// The fields of an encoded body, in order.
    private func fields(_ body: ByteBuffer) throws -> [(tag: UInt8, value: [UInt8])] {
        var reader = FieldReader(body)
        var out: [(UInt8, [UInt8])] = []
        while let (tag, value) = try reader.next() { out.append((tag, Array(value.readableBytesView))) }
        return out
    }

    private func body(_ fields: [(tag: UInt8, value: [UInt8])]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for (tag, value) in fields { try! buffer.writeField(tag, bytes: value) }
        return buffer
    }

    private func forEachMessage(_ body: (any SchemaMessage, String) throws -> Void) rethrows {
        for vector in TestVector.all { try body(vector.message, vector.name) }
    }

    func testUnknownTagsAreSkippedEverywhere() throws {
        func check<M: SchemaMessage>(_ message: M, _ name: String) throws {
            var withUnknown = try fields(try message.encoded())
            let unknown = (1...255).map(UInt8.init).first { M.schema.field(tag: $0) == nil }!
            withUnknown.insert((unknown, [1, 2, 3]), at: withUnknown.count / 2)
            XCTAssertEqual(try M(decoding: body(withUnknown)), message, name)
        }
        try forEachMessage { try check($0, $1) }
    }

    func testFieldsInAnyOrderDecodeTheSame() throws {
        func check<M: SchemaMessage>(_ message: M, _ name: String) throws {
            // Tags in reverse order; a repeated field's values keep theirs (their order is their meaning).
            let reordered = try fields(try message.encoded()).enumerated().sorted {
                $0.element.tag != $1.element.tag ? $0.element.tag > $1.element.tag : $0.offset < $1.offset
            }.map(\.element)
            XCTAssertEqual(try M(decoding: body(reordered)), message, name)
        }
        try forEachMessage { try check($0, $1) }
    }

    func testASingularFieldGivenTwiceIsRejected() throws {
        func check<M: SchemaMessage>(_ message: M, _ name: String) throws {
            let present = try fields(try message.encoded())
            for field in present where M.schema.field(tag: field.tag)?.presence != .repeated {
                XCTAssertThrowsError(try M(decoding: body(present + [field])), "\(name): tag \(field.tag)") {
                    XCTAssertEqual($0 as? ProtocolError, .duplicateField(tag: field.tag))
                }
            }
        }
        try forEachMessage { try check($0, $1) }
    }

    func testEachMissingRequiredFieldIsNamed() throws {
        func check<M: SchemaMessage>(_ message: M, _ name: String) throws {
            let present = try fields(try message.encoded())
            for field in M.schema.fields where field.presence == .required {
                let without = present.filter { $0.tag != field.tag }
                XCTAssertThrowsError(try M(decoding: body(without)), "\(name): \(field.name)") {
                    XCTAssertEqual($0 as? ProtocolError, .missingField(name: field.name))
                }
            }
        }
        try forEachMessage { try check($0, $1) }
    }

    func testTagZeroIsRejected() {
        XCTAssertThrowsError(try TokenRequest(decoding: body([(0, [1])]))) { XCTAssertEqual($0 as? ProtocolError, .reservedTag) }
    }

    func testAUserIsNamedByExactlyOneOfItsFields() throws {
        XCTAssertEqual(try UserSelector(decoding: body([(8, Array("+33612345678".utf8))])), .phone("+33612345678"))
        XCTAssertThrowsError(try UserSelector(decoding: body([(1, [0, 0, 0, 0, 0, 0, 0, 1]), (2, Array("a".utf8))]))) {
            XCTAssertEqual($0 as? ProtocolError, .invalidValue("give exactly one of id, username, email, phone, session_token"))
        }
        XCTAssertThrowsError(try SetUserStateRequest(decoding: body([(32, [2])]))) {
            XCTAssertEqual($0 as? ProtocolError, .missingField(name: "id or username or email or phone or session_token"))
        }
    }

    func testFlagsAndEnumeratedIntegersRejectValuesOutOfRange() {
        var create = try! fields(CreateUserRequest(username: "bob", password: Array("correct horse".utf8)).encoded())
        create.append((33, [2]))
        XCTAssertThrowsError(try CreateUserRequest(decoding: body(create))) { XCTAssertNotNil($0 as? ProtocolError) }
        XCTAssertThrowsError(try SetUserStateRequest(decoding: body([(2, Array("a".utf8)), (32, [3])])))
        XCTAssertThrowsError(try ListUsersRequest(decoding: body([(2, [0, 0, 0, 0])])), "limit 0")
        XCTAssertThrowsError(try VerifyRequest.fields(in: body([(1, Array("t".utf8)), (2, [2])])), "with_user 2")
        XCTAssertThrowsError(try VerifyRequest.fields(in: body([(1, Array("t".utf8)), (3, [2])])), "with_api_keys 2")
        XCTAssertThrowsError(try VerifyRequest.fields(in: body([(1, Array("t".utf8)), (3, [1]), (3, [1])])), "with_api_keys twice")
        XCTAssertEqual(try VerifyRequest.fields(in: body([(1, Array("t".utf8)), (3, [1])])).withAPIKeys, true)
    }

    func testASettingKeyGivenTwiceIsRejected() {
        func setting(_ key: String, _ value: String) -> (UInt8, [UInt8]) {
            (16, Array(try! Setting(key: key, value: value).encoded().readableBytesView))
        }
        let base: [(tag: UInt8, value: [UInt8])] = [(2, Array("bob".utf8)), (32, Array("correct horse".utf8))]
        XCTAssertEqual(try CreateUserRequest(decoding: body(base + [setting("a", "1"), setting("b", "2")])).profile.settings, ["a": "1", "b": "2"])
        XCTAssertThrowsError(try CreateUserRequest(decoding: body(base + [setting("a", "1"), setting("a", "2")])))
    }

    func testAnAttributeHasItsNameAndExactlyOneValueAndANameGivenTwiceIsRejected() throws {
        let name: (UInt8, [UInt8]) = (1, Array("rank".utf8))
        let number: (UInt8, [UInt8]) = (3, [0x40, 0x0c, 0, 0, 0, 0, 0, 0])  // 3.5
        XCTAssertEqual(try Attribute(decoding: body([name, number])).value, .number(3.5))
        XCTAssertEqual(try Attribute(decoding: body([name, (4, [0])])).value, .bool(false), "a bool's 0 is sent, not omitted")
        XCTAssertEqual(try Attribute(decoding: body([name, (5, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])])).value, .date(milliseconds: -1))
        XCTAssertThrowsError(try Attribute(decoding: body([name])), "no value")
        XCTAssertThrowsError(try Attribute(decoding: body([name, number, (2, Array("x".utf8))])), "two values")
        XCTAssertThrowsError(try Attribute(decoding: body([name, (4, [2])])), "a bool of 2")
        XCTAssertThrowsError(try Attribute(decoding: body([name, (3, [0x40, 0x0c])])), "a number of 2 bytes")
        XCTAssertThrowsError(try Attribute(decoding: body([number])), "no name")

        func attribute(_ name: String, _ value: AttributeValue) -> (UInt8, [UInt8]) {
            (17, Array(try! Attribute(name: name, value: value).encoded().readableBytesView))
        }
        let base: [(tag: UInt8, value: [UInt8])] = [(2, Array("bob".utf8)), (32, Array("correct horse".utf8))]
        XCTAssertEqual(
            try CreateUserRequest(decoding: body(base + [attribute("a", .bool(true)), attribute("b", .string("x"))])).profile.attributes,
            ["a": .bool(true), "b": .string("x")])
        XCTAssertThrowsError(try CreateUserRequest(decoding: body(base + [attribute("a", .bool(true)), attribute("a", .number(1))]))) {
            XCTAssertEqual(($0 as? ProtocolError)?.description, "attribute a is given twice")
        }
    }

    /// Clients decode VERIFY replies with ``VerifyResponse/decodeReply(_:)``: every VERIFY
    /// vector decodes to what the schema decodes, and each malformed reply is refused as the
    /// schema refuses it.
    func testTheHotPathVerifyReaderDecodesAndRefusesAsTheSchemaDoes() throws {
        let vectors = TestVector.all.filter { $0.message is VerifyResponse }
        XCTAssertGreaterThanOrEqual(vectors.count, 3)
        for vector in vectors {
            let body = try (vector.message as! VerifyResponse).encoded()
            XCTAssertEqual(try VerifyResponse.decodeReply(body).encoded(), try VerifyResponse(decoding: body).encoded(), vector.name)
        }
        let withUser = try XCTUnwrap(TestVector.all.first { $0.name == "verify-with-user-response" }?.message as? VerifyResponse)
        let user = Array(try XCTUnwrap(withUser.user).encoded().readableBytesView)
        let id: (UInt8, [UInt8]) = (1, [0, 0, 0, 0, 0, 0, 0, 7])
        let session: (UInt8, [UInt8]) = (2, Array(repeating: 9, count: 16))
        let expiry: (UInt8, [UInt8]) = (3, [0, 0, 1, 0x9b, 0, 0, 0, 0])
        let malformed: [[(tag: UInt8, value: [UInt8])]] = [
            [session, expiry], [id, expiry], [id, session], [id, id, session, expiry], [id, session, expiry, expiry],
            [id, (2, [1, 2, 3]), expiry], [(1, [7]), session, expiry], [id, session, expiry, (4, [0xff, 0xfe])],
            [id, session, expiry, (0, [])],
            [id, session, expiry, (5, [0xff])], [id, session, expiry, (5, user), (5, user)],
            [id, session, expiry, (6, Array("ci".utf8)), (6, Array("ci".utf8))], [id, session, expiry, (6, [0xc0, 0x80])],
            [id, session, expiry, (7, [1, 0, 1])],
        ]
        for fields in malformed {
            var fast = "", schema = ""
            XCTAssertThrowsError(try VerifyResponse.decodeReply(body(fields))) { fast = "\($0)" }
            XCTAssertThrowsError(try VerifyResponse(decoding: body(fields))) { schema = "\($0)" }
            XCTAssertEqual(fast, schema, "the same refusal for \(fields.map(\.tag))")
        }
        let plain = try VerifyResponse.decodeReply(body([id, session, expiry, (4, Array("admin".utf8)), (99, [1]), (4, Array("ops".utf8))]))
        XCTAssertEqual(plain.roles, ["admin", "ops"], "roles in order, an unknown tag skipped")

        // With a reader for the user, the user field's bytes go to it, undecoded.
        var handed: [[UInt8]] = []
        let read = try VerifyResponse.decodeReply(try withUser.encoded()) { handed.append(Array($0.readableBytesView)) }
        XCTAssertEqual(handed, [user])
        XCTAssertNil(read.user)
        XCTAssertEqual(read.userID, withUser.userID)
        XCTAssertEqual(read.roles, withUser.roles)
    }

    func testFixedLengthBytesAreChecked() {
        XCTAssertThrowsError(try SessionIDRequest(decoding: body([(1, [1, 2, 3])]))) {
            XCTAssertEqual($0 as? ProtocolError, .badFieldLength(tag: 1, expected: 16, actual: 3))
        }
    }

    /// The server's hot path writes VERIFY replies with ``VerifyResponse/writeSessionReply``, not
    /// the message: both must give the vector's bytes.
    func testTheHotPathVerifyWriterMatchesTheVector() throws {
        for name in ["verify-response", "verify-with-user-response", "verify-with-api-keys-response"] {
            let vector = try XCTUnwrap(TestVector.all.first { $0.name == name })
            let reply = try XCTUnwrap(vector.message as? VerifyResponse)
            let id = reply.sessionID.withUnsafeBytes {
                (
                    UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                    UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
                )
            }
            XCTAssertEqual(vector.flags, .response)
            XCTAssertEqual(vector.status, 0)
            var out = ByteBuffer(bytes: [0xAA, 0xBB])  // the reply follows others in the buffer
            let roles = reply.roles.map { Array($0.utf8) }
            let start = VerifyResponse.writeSessionReply(
                opcode: vector.opcode, requestID: vector.requestID, userID: reply.userID, sessionID: id, expiresAt: reply.expiresAt,
                forEachRole: { visit in for role in roles { role.withUnsafeBytes(visit) } }, into: &out)
            XCTAssertEqual(start, 2)
            if let user = reply.user { try VerifyResponse.writeUser(user, into: &out) }
            for key in reply.apiKeys { try VerifyResponse.writeAPIKey(key, into: &out) }
            out.finishFrame(startingAt: start)
            out.moveReaderIndex(forwardBy: 2)
            let file = try String(contentsOf: TestVectorTests.directory.appendingPathComponent("\(name).hex"), encoding: .utf8)
            XCTAssertEqual(Array(out.readableBytesView), TestVector.parse(file), name)
        }
    }

    func testEveryOperationIsDeclaredOnce() {
        XCTAssertEqual(Operations.all.map(\.opcode), Opcode.allCases, "Operations.all holds every opcode once, in opcode order")
        for operation in Operations.all {
            XCTAssertEqual(Operations.facts(of: operation.opcode), operation)
            XCTAssertEqual(operation.opcode.answering, operation.answering, operation.name)
            XCTAssertEqual(operation.opcode.admitsApplications, operation.access != .admin, operation.name)
        }
    }
}
