import Foundation
import ProtocolVectors
import TesseraProtocol
import XCTest

/// `Protocol/PROTOCOL.md` against the code: its examples are the vector files, its field tables
/// are the message schemas, its operation table is the operations' declarations.
final class SpecificationTests: XCTestCase {
    static let spec: String = {
        let url = TestVectorTests.directory.deletingLastPathComponent().appendingPathComponent("PROTOCOL.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    /// Every message type of the protocol, nested ones included.
    static let messageTypes: [any SchemaMessage.Type] = [
        HelloRequest.self, HelloResponse.self, PingMessage.self, EmptyMessage.self, ErrorBody.self, UserInfo.self, Setting.self,
        UserSelector.self, ProfileFields.self, UserResponse.self, CreateUserRequest.self, UpdateUserRequest.self, SetUserStateRequest.self,
        SetPasswordRequest.self, SetPasswordResponse.self, ChangePasswordRequest.self, ValidateRequest.self, ListUsersRequest.self,
        UserListResponse.self,
        LoginRequest.self, LoginResponse.self, RefreshRequest.self, TokenRequest.self, VerifyRequest.self, VerifyResponse.self,
        SessionInfo.self, ListSessionsRequest.self, SessionListResponse.self, SessionIDRequest.self, RevokeAllSessionsRequest.self,
        CountResponse.self, TwoFactorStatusResponse.self, EnrolTwoFactorRequest.self, EnrolTwoFactorResponse.self,
        ConfirmTwoFactorRequest.self, RecoveryCodesResponse.self, DisableTwoFactorRequest.self, RegenerateRecoveryCodesRequest.self,
        KeyInfo.self, KeyListResponse.self, RotateKeyRequest.self, KeyResponse.self, RetireKeyRequest.self, RetireKeyResponse.self,
        RotateMasterKeyRequest.self, RotateMasterKeyResponse.self, JWKSResponse.self, APIKeyInfo.self, CreateAPIKeyRequest.self,
        CreateAPIKeyResponse.self, APIKeyListResponse.self, RevokeAPIKeyRequest.self, VerifyAPIKeyRequest.self, VerifyAPIKeyResponse.self,
    ]

    func testEveryQuotedExampleIsItsVectorFileAndEveryVectorIsQuoted() throws {
        let quotes = try SpecQuotes.quotes(in: Self.spec)
        for (name, text) in quotes {
            let file = try String(contentsOf: TestVectorTests.directory.appendingPathComponent("\(name).hex"), encoding: .utf8)
            XCTAssertEqual(text, file, "PROTOCOL.md quotes \(name) differently from vectors/\(name).hex: run scripts/write-vectors")
        }
        XCTAssertEqual(Set(quotes.map(\.name)), Set(TestVector.all.map(\.name)))
    }

    /// The rows of the table right after the line `**name**`: the cells of each row.
    private func table(named name: String) -> [[String]]? {
        // Trimmed: a table may sit inside a list item.
        let lines = Self.spec.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let caption = lines.firstIndex(of: "**\(name)**") else { return nil }
        var rows: [[String]] = []
        for line in lines[(caption + 1)...].drop(while: { $0.isEmpty }) {
            guard line.hasPrefix("|") else { break }
            rows.append(
                line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                    .map { $0.trimmingCharacters(in: .whitespaces) })
        }
        return Array(rows.dropFirst(2))  // the header and the rule
    }

    func testEveryFieldTableIsTheMessageSchema() throws {
        func presence(_ value: FieldPresence) -> String {
            switch value {
            case .required: "required"
            case .optional: "optional"
            case .repeated: "repeated"
            case .oneOf: "one of"
            }
        }
        func check<M: SchemaMessage>(_ type: M.Type) {
            let schema = M.schema
            guard !schema.fields.isEmpty else { return }
            guard let rows = table(named: schema.wireName) else {
                return XCTFail("PROTOCOL.md has no table captioned **\(schema.wireName)**")
            }
            let documented = rows.map { Array($0.prefix(4)) }
            let declared = schema.fields.map { ["\($0.tag)", $0.name, $0.kind, presence($0.presence)] }
            XCTAssertEqual(documented, declared, schema.wireName)
        }
        for type in Self.messageTypes { check(type) }
    }

    func testTheOperationTableIsTheOperationsDeclarations() throws {
        let rows = try XCTUnwrap(tableAfterHeading("## 5. Operations"))
        func answered(_ answering: Answering) -> String {
            switch answering {
            case .inline: "at once"
            case .verifyBatch: "batched"
            case .slow: "slow"
            }
        }
        let declared = Operations.all.map { operation -> [String] in
            [String(format: "0x%02X", operation.opcode.rawValue), operation.name, answered(operation.answering), operation.request, operation.reply]
        }
        XCTAssertEqual(rows, declared)
    }

    /// §4's password checks name the operations whose declaration says they hash.
    func testThePasswordChecksNameTheHashingOperations() throws {
        let start = try XCTUnwrap(Self.spec.range(of: "**Password checks.** Operations that run argon2id ("))
        let list = Self.spec[start.upperBound...].prefix { $0 != ")" }
        let named = Set(list.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init))
        XCTAssertEqual(named, Set(Operations.all.filter(\.hashesPassword).map(\.name)))
    }

    /// Each operation's section lists its errors: from its "Errors:" on, the statuses it names,
    /// apart from those every operation of its kind shares (§8), are its declaration's.
    func testEachSectionsErrorsAreItsDeclarations() throws {
        let names = Dictionary(uniqueKeysWithValues: Status.allCases.map { ($0.name, $0) })
        let lines = Self.spec.components(separatedBy: "\n")
        for operation in Operations.all {
            let title = "\(operation.name) (" + String(format: "0x%02X", operation.opcode.rawValue) + ")"
            let first = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("### 7.") && $0.hasSuffix(" " + title) }, title)
            let last = lines[(first + 1)...].firstIndex { $0.hasPrefix("## ") || $0.hasPrefix("### ") } ?? lines.endIndex
            let body = lines[(first + 1)..<last].joined(separator: "\n")
            var documented: Set<Status> = []
            var listed = false
            for paragraph in body.components(separatedBy: "\n\n") {
                guard let errors = paragraph.range(of: "Errors:") ?? paragraph.range(of: "errors:") else { continue }
                listed = true
                for piece in paragraph[errors.upperBound...].split(separator: "`", omittingEmptySubsequences: false).enumerated()
                where piece.offset % 2 == 1 {
                    if let status = names[String(piece.element)] { documented.insert(status) }
                }
            }
            XCTAssertTrue(listed, "\(operation.name): its section has no \"Errors:\" line")
            let shared = Set(operation.sharedErrors)
            XCTAssertEqual(
                documented.subtracting(shared).map(\.name).sorted(), Set(operation.errors).subtracting(shared).map(\.name).sorted(),
                "\(operation.name): the spec's errors against its declaration")
        }
    }

    /// §10's access table is the declarations' ``Access``: one row per operation.
    func testTheAccessTableIsTheOperationsDeclarations() throws {
        let rows = try XCTUnwrap(table(named: "Access"), "PROTOCOL.md has no table captioned **Access**")
        let declared = Operations.all.map { operation -> [String] in
            [String(format: "0x%02X", operation.opcode.rawValue), operation.name, operation.access.rawValue]
        }
        XCTAssertEqual(rows, declared)
    }

    private func tableAfterHeading(_ heading: String) -> [[String]]? {
        let lines = Self.spec.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: heading) else { return nil }
        var rows: [[String]] = []
        var inTable = false
        for line in lines[(start + 1)...] {
            if line.hasPrefix("|") {
                inTable = true
                rows.append(
                    line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                        .map { $0.trimmingCharacters(in: .whitespaces) })
            } else if inTable {
                break
            }
        }
        return Array(rows.dropFirst(2))
    }
}
