import Foundation
import Locking
import NIOCore
@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol
import TestSupport
import XCTest

@testable import TesseraServer

/// Authorization, checked once before any handler runs: the real ``OperationTable`` driven with
/// frames, over a fake domain (token holders and handlers that only record what they were
/// given). One test per access rule, each for every peer class and credential kind.
final class AuthorizationTests: XCTestCase {
    /// alice (id 7): a session token and an API key; everything else is not live.
    struct Holders: TokenHolders {
        func holder(ofToken token: String) throws -> TokenHolder {
            switch token {
            case "alice-session": TokenHolder(userID: 7)
            case "alice-key": TokenHolder(userID: 7, apiKey: APIKeyScope(id: APIKeyID(high: 1, low: 2), permissions: ["reader"]))
            default: throw AuthError.tokenInvalid
            }
        }
    }

    /// What a handler was handed: the user (as text) or the owner, and how many handlers ran.
    private let seen = Locked<[String]>([])

    private static func describe(_ lookup: UserLookup) -> String {
        switch lookup {
        case .id(let id): "id \(id)"
        case .username(let name): "username \(name)"
        case .email(let email): "email \(email)"
        case .phone(let phone): "phone \(phone)"
        }
    }

    private func makeTable() -> OperationTable {
        var table = OperationTable(holders: Holders())
        let seen = self.seen
        let describe = Self.describe
        table.inline(Operations.getUser) { _, user in
            seen.withLock { $0.append(describe(user.lookup) + (user.apiKey.map { " by key \($0.permissions)" } ?? "")) }
            return UserResponse()
        }
        table.slow(Operations.listSessions) { _, user in
            seen.withLock { $0.append(describe(user.lookup)) }
            return SessionListResponse()
        }
        table.slow(Operations.updateUser) { _, user in
            seen.withLock { $0.append(describe(user.lookup)) }
            return UserResponse()
        }
        table.slow(Operations.deleteUser) { _, user in
            seen.withLock { $0.append(describe(user.lookup)) }
            return EmptyMessage()
        }
        table.slow(Operations.listUsers) { _ in
            seen.withLock { $0.append("listed") }
            return UserListResponse()
        }
        table.slow(Operations.newValidationCode) { _, user in
            seen.withLock { $0.append(describe(user.lookup)) }
            return UserResponse()
        }
        table.slow(Operations.createUser) { request in
            seen.withLock { $0.append("created \(request.username)") }
            return UserResponse()
        }
        table.slow(Operations.revokeSession) { _, owner in
            seen.withLock { $0.append(owner.userID.map { "owner \($0)" } ?? "any owner") }
            return EmptyMessage()
        }
        table.slow(Operations.createAPIKey) { _, user in
            seen.withLock { $0.append(describe(user.lookup)) }
            return CreateAPIKeyResponse()
        }
        table.slow(Operations.enrolTwoFactor) { _, user in
            seen.withLock { $0.append(describe(user.lookup)) }
            return EnrolTwoFactorResponse()
        }
        table.slow(Operations.confirmTwoFactor) { _, user in
            seen.withLock { $0.append(describe(user.lookup)) }
            return RecoveryCodesResponse()
        }
        table.slow(Operations.disableTwoFactor) { _, user in
            seen.withLock { $0.append(describe(user.lookup)) }
            return EmptyMessage()
        }
        return table
    }

    /// Sends `request` as `operation` from `peer`: what the handler saw, or the refusal's status.
    private func send<Request, Reply, Names>(
        _ operation: TesseraProtocol.Operation<Request, Reply, Names>, _ request: Request, from peer: PeerClass
    ) async throws -> String {
        let table = makeTable()
        seen.withLock { $0 = [] }
        let frame = Frame(opcode: operation.opcode.rawValue, requestID: 1, body: try request.encoded())
        do {
            if operation.answering == .inline {
                var out = ByteBuffer()
                try table.answerInline(frame, peer: peer, into: &out)
            } else {
                _ = try await table.answerSlow(frame, peer: peer)
            }
        } catch {
            XCTAssertEqual(seen.withLock { $0 }, [], "a refused request reached its handler")
            return RequestFailure(error).status.name
        }
        let handled = seen.withLock { $0 }
        XCTAssertEqual(handled.count, 1)
        return handled.first ?? "no handler ran"
    }

    func testKeyReadTakesASessionTokenOrAnAPIKeyFromAnApplicationAndAnySelectorFromAnAdministrator() async throws {
        let op = Operations.getUser
        let cases: [(UserSelector, PeerClass, String)] = [
            (.sessionToken("alice-session"), .application, "id 7"),
            (.sessionToken("alice-key"), .application, #"id 7 by key ["reader"]"#),
            (.sessionToken("stale"), .application, "token-invalid"),
            (.username("bob"), .application, "forbidden"),
            (.id(8), .application, "forbidden"),
            (.email("bob@example.com"), .application, "forbidden"),
            (.phone("+15550100"), .application, "forbidden"),
            (.username("bob"), .admin, "username bob"),
            (.sessionToken("alice-key"), .admin, #"id 7 by key ["reader"]"#),
            (.sessionToken("alice-session"), .refused, "forbidden"),
        ]
        for (selector, peer, expected) in cases {
            let answer = try await send(op, selector, from: peer)
            XCTAssertEqual(answer, expected, "GET_USER \(selector) from \(peer)")
        }
    }

    /// The account holder's reads (its sessions, with their addresses and agents; its second
    /// factor) take a session token or a JWT, never an API key, from any peer.
    func testSelfReadRefusesAnAPIKeyFromEveryPeer() async throws {
        let cases: [(UserSelector, PeerClass, String)] = [
            (.sessionToken("alice-session"), .application, "id 7"),
            (.sessionToken("alice-key"), .application, "forbidden"),
            (.sessionToken("alice-key"), .admin, "forbidden"),
            (.username("alice"), .application, "forbidden"),
            (.username("alice"), .admin, "username alice"),
        ]
        for (selector, peer, expected) in cases {
            let answer = try await send(Operations.listSessions, ListSessionsRequest(user: selector), from: peer)
            XCTAssertEqual(answer, expected, "LIST_SESSIONS \(selector) from \(peer)")
        }
    }

    func testSelfWriteRefusesAnAPIKeyFromEveryPeerAndWhatOnlyAnAdministratorMayChange() async throws {
        let op = Operations.updateUser
        let name = ProfileFields(displayName: "Alice")
        let cases: [(UpdateUserRequest, PeerClass, String)] = [
            (UpdateUserRequest(user: .sessionToken("alice-session"), changes: name), .application, "id 7"),
            (UpdateUserRequest(user: .sessionToken("alice-key"), changes: name), .application, "forbidden"),
            (UpdateUserRequest(user: .sessionToken("alice-key"), changes: name), .admin, "forbidden"),
            (UpdateUserRequest(user: .username("alice"), changes: name), .application, "forbidden"),
            (UpdateUserRequest(user: .username("alice"), changes: name), .admin, "username alice"),
            (UpdateUserRequest(user: .sessionToken("alice-session"), roles: ["admin"]), .application, "forbidden"),
            (UpdateUserRequest(user: .sessionToken("alice-session"), roles: []), .application, "forbidden"),
            (UpdateUserRequest(user: .sessionToken("alice-session"), changes: ProfileFields(accountType: 1)), .application, "forbidden"),
            (UpdateUserRequest(user: .sessionToken("alice-session"), changes: ProfileFields(rootRole: "Admin")), .application, "forbidden"),
            (UpdateUserRequest(user: .sessionToken("alice-session"), changes: ProfileFields(externalID: "x")), .application, "forbidden"),
            (UpdateUserRequest(user: .sessionToken("alice-session"), roles: ["admin"]), .admin, "id 7"),
        ]
        for (request, peer, expected) in cases {
            let answer = try await send(op, request, from: peer)
            XCTAssertEqual(answer, expected, "UPDATE_USER \(request.user) from \(peer)")
        }
        let pending = try await send(
            Operations.disableTwoFactor, DisableTwoFactorRequest(user: .sessionToken("alice-session")), from: .application)
        XCTAssertEqual(pending, "invalid-argument", "an application proves the password")
        let reset = try await send(Operations.disableTwoFactor, DisableTwoFactorRequest(user: .username("alice")), from: .admin)
        XCTAssertEqual(reset, "username alice", "an administrator's reset proves nothing")
    }

    func testAddingACredentialFromAnApplicationNeedsThePassword() async throws {
        // A stolen session token alone must not become a key or a second factor: an application
        // sends the user's password (the handler checks it); an administrator need not.
        let session = UserSelector.sessionToken("alice-session")
        let password: [UInt8] = Array("correct horse".utf8)
        let cases: [(String, PeerClass, [UInt8]?, String)] = [
            ("CREATE_API_KEY", .application, nil, "invalid-argument"),
            ("CREATE_API_KEY", .application, password, "id 7"),
            ("CREATE_API_KEY", .admin, nil, "id 7"),
            ("ENROL_TWO_FACTOR", .application, nil, "invalid-argument"),
            ("ENROL_TWO_FACTOR", .application, password, "id 7"),
            ("ENROL_TWO_FACTOR", .admin, nil, "id 7"),
            ("CONFIRM_TWO_FACTOR", .application, nil, "invalid-argument"),
            ("CONFIRM_TWO_FACTOR", .application, password, "id 7"),
            ("CONFIRM_TWO_FACTOR", .admin, nil, "id 7"),
        ]
        for (name, peer, password, expected) in cases {
            let answer: String
            switch name {
            case "CREATE_API_KEY":
                answer = try await send(Operations.createAPIKey, CreateAPIKeyRequest(user: session, name: "k", password: password), from: peer)
            case "ENROL_TWO_FACTOR":
                answer = try await send(Operations.enrolTwoFactor, EnrolTwoFactorRequest(user: session, password: password), from: peer)
            default:
                answer = try await send(
                    Operations.confirmTwoFactor, ConfirmTwoFactorRequest(user: session, code: "123456", password: password), from: peer)
            }
            XCTAssertEqual(answer, expected, "\(name) from \(peer) \(password == nil ? "without" : "with") a password")
        }
        let byKey = try await send(
            Operations.createAPIKey, CreateAPIKeyRequest(user: .sessionToken("alice-key"), name: "k", password: password), from: .application)
        XCTAssertEqual(byKey, "forbidden", "an API key makes no other key, password or not")
    }

    func testAdminOperationsRefuseApplicationsWhateverTheyCarry() async throws {
        for selector in [UserSelector.sessionToken("alice-session"), .username("alice"), .id(7)] {
            let answer = try await send(Operations.deleteUser, selector, from: .application)
            XCTAssertEqual(answer, "forbidden", "DELETE_USER \(selector) from an application")
        }
        let deleted = try await send(Operations.deleteUser, .username("alice"), from: .admin)
        XCTAssertEqual(deleted, "username alice")
        let byKey = try await send(Operations.deleteUser, .sessionToken("alice-key"), from: .admin)
        XCTAssertEqual(byKey, "forbidden", "an API key names no user to change, even for an administrator")
        let listed = try await send(Operations.listUsers, ListUsersRequest(), from: .application)
        XCTAssertEqual(listed, "forbidden")
        let listedByAdmin = try await send(Operations.listUsers, ListUsersRequest(), from: .admin)
        XCTAssertEqual(listedByAdmin, "listed")
    }

    func testApplicationOperationsTakeAnySelectorAndRefuseWhatSignUpMayNotSet() async throws {
        let code = try await send(Operations.newValidationCode, .username("bob"), from: .application)
        XCTAssertEqual(code, "username bob", "an unvalidated account has no token")
        let codeByKey = try await send(Operations.newValidationCode, .sessionToken("alice-key"), from: .application)
        XCTAssertEqual(codeByKey, "forbidden")
        let signUps: [(CreateUserRequest, PeerClass, String)] = [
            (CreateUserRequest(username: "trudy", password: []), .application, "created trudy"),
            (CreateUserRequest(username: "trudy", password: [], roles: ["admin"]), .application, "forbidden"),
            (CreateUserRequest(username: "trudy", password: [], profile: ProfileFields(accountType: 1)), .application, "forbidden"),
            (CreateUserRequest(username: "trudy", password: [], profile: ProfileFields(rootRole: "Admin")), .application, "forbidden"),
            (CreateUserRequest(username: "trudy", password: [], profile: ProfileFields(externalID: "x")), .application, "forbidden"),
            (CreateUserRequest(username: "trudy", password: [], roles: ["admin"]), .admin, "created trudy"),
            (CreateUserRequest(username: "trudy", password: []), .refused, "forbidden"),
        ]
        for (request, peer, expected) in signUps {
            let answer = try await send(Operations.createUser, request, from: peer)
            XCTAssertEqual(answer, expected, "CREATE_USER \(request.profile) from \(peer)")
        }
    }

    func testAnOwnerIsTheUserOfTheSessionTokenAndOnlyAnAdministratorMayLeaveItOut() async throws {
        let id = [UInt8](repeating: 1, count: 16)
        let cases: [(String?, PeerClass, String)] = [
            ("alice-session", .application, "owner 7"),
            ("alice-key", .application, "forbidden"),
            ("stale", .application, "token-invalid"),
            (nil, .application, "forbidden"),
            (nil, .admin, "any owner"),
            ("alice-session", .admin, "owner 7"),
        ]
        for (token, peer, expected) in cases {
            let answer = try await send(Operations.revokeSession, SessionIDRequest(sessionID: id, sessionToken: token), from: peer)
            XCTAssertEqual(answer, expected, "REVOKE_SESSION with \(token ?? "no token") from \(peer)")
        }
    }

    func testATableWithoutAHandlerOrWithTwoIsNamed() {
        var table = OperationTable(holders: Holders())
        table.inline(Operations.ping) { $0 }
        table.inline(Operations.ping) { $0 }
        let defects = table.defects
        XCTAssertTrue(defects.contains("PING has 2 handlers"), "\(defects)")
        XCTAssertTrue(defects.contains("LOGIN has no handler"), "\(defects)")
        XCTAssertFalse(defects.contains { $0.hasPrefix("HELLO has 2") })
    }

    /// The daemon's own table: every declared operation has exactly one handler.
    func testTheDaemonsTableIsComplete() throws {
        let temporary = TemporaryDirectory("tessera-table")
        defer { temporary.remove() }
        let directory = temporary.path
        var configuration = AuthConfiguration()
        configuration.hashingThreads = 1
        let pool = HashingPool(configuration)
        let store = try TesseraStore(directory: directory, masterKey: MasterKey.generate())
        defer {
            pool.shutdown()
            store.close()
        }
        let service = AuthService(store: store, configuration: configuration, hashingPool: pool)
        let table = RequestDispatcher.makeTable(
            service: service, configuration: ServerConfiguration(socketPath: directory + "/s", socketThreads: 1))
        XCTAssertEqual(table.defects, [])
    }
}
