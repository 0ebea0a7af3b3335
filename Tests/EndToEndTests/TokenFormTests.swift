import Foundation
import TesseraClient
import XCTest

/// Which token forms each token field takes (`Protocol/PROTOCOL.md` §9, "Token forms"), through
/// the real daemon: a session token, a JWT of the same session, an API key and a refresh token,
/// each given to every field that takes a token. Each check starts from fresh credentials, so
/// one that ends a session does not decide the next.
final class TokenFormTests: XCTestCase {
    var daemon: DaemonProcess!
    var client: TesseraClient!
    let password = Array("correct horse".utf8)

    override func setUp() async throws {
        daemon = DaemonProcess()
        try daemon.start()
        client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: password, roles: ["reader"])
    }

    override func tearDown() async throws {
        await client?.close()
        daemon?.tearDown()
    }

    enum Form: String, CaseIterable {
        case session, jwt, apiKey = "api key", refresh
    }

    /// A fresh login's credential of `form`.
    private func credential(_ form: Form) async throws -> String {
        let login = try await client.login(identifier: "alice", password: password, jwt: true)
        switch form {
        case .session: return login.token
        case .jwt: return try XCTUnwrap(login.jwt)
        case .refresh: return login.refreshToken
        case .apiKey: return try await client.createAPIKey(for: .username("alice"), name: "k\(UUID().uuidString.prefix(6))").key
        }
    }

    /// "ok", or the daemon's error name.
    private func outcome(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "ok"
        } catch let TesseraClientError.server(error) {
            return error.code.description
        } catch {
            return "\(error)"
        }
    }

    /// What the daemon does with each field of §9's token table, by the row's first cell.
    private var calls: [String: (TesseraClient, String) async throws -> Void] {
        let password = self.password
        return [
            "VERIFY `token`": { _ = try await $0.verify(token: $1) },
            "VERIFY_API_KEY `key`": { _ = try await $0.verifyAPIKey($1) },
            "LOGOUT `token`": { try await $0.logout(token: $1) },
            "REFRESH `refresh_token`": { _ = try await $0.refresh(refreshToken: $1) },
            "CHANGE_PASSWORD `token`": { try await $0.changePassword(token: $1, current: password, new: password) },
            "USER_SELECTOR `session_token`, `key-read` operations": { _ = try await $0.user(.sessionToken($1)) },
            "USER_SELECTOR `session_token`, any other operation": {
                _ = try await $0.updateUser(.sessionToken($1), ProfileUpdate(displayName: "Alice"))
            },
            "REVOKE_SESSION and REVOKE_API_KEY `session_token`": { client, token in
                let other = try await client.login(identifier: "alice", password: password)
                try await client.revokeSession(other.sessionID, sessionToken: token)
            },
        ]
    }

    /// §9's "Token forms" table, cell by cell, against the daemon: "yes" is a success, any other
    /// cell the error it names.
    func testEachTokenFieldTakesTheFormsTheSpecSays() async throws {
        let spec = try String(contentsOfFile: CLIEndToEndTests.repositoryRoot + "/Protocol/PROTOCOL.md", encoding: .utf8)
        let lines = spec.components(separatedBy: "\n")
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("**Token forms.**") })
        let table = lines[start...].drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }.dropFirst(2)
        let rows = table.map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        XCTAssertEqual(Set(rows.map { $0[0] }), Set(calls.keys), "every row has its call, every call its row")
        for row in rows {
            let call = try XCTUnwrap(calls[row[0]], row[0])
            for (form, cell) in zip(Form.allCases, row.dropFirst()) {
                let expected = cell == "yes" ? "ok" : cell.trimmingCharacters(in: CharacterSet(charactersIn: "`"))
                let token = try await credential(form)
                let answer = await outcome { try await call(self.client, token) }
                XCTAssertEqual(answer, expected, "\(row[0]) with a \(form.rawValue)")
            }
        }
    }

    /// `--max-sessions-per-user`: a LOGIN past the cap ends the user's oldest session, and what
    /// the ended session's credentials answer is what §7.14 says.
    func testALoginPastTheSessionCapEndsTheOldestSession() async throws {
        await client.close()
        daemon.tearDown()
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--max-sessions-per-user", "2"])
        try daemon.start()
        client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: password)
        let oldest = try await client.login(identifier: "alice", password: password, jwt: true)
        let second = try await client.login(identifier: "alice", password: password, jwt: true)
        let third = try await client.login(identifier: "alice", password: password, jwt: true)
        let answers = [
            await outcome { _ = try await self.client.verify(token: oldest.token) },
            await outcome { _ = try await self.client.verify(token: XCTUnwrap(oldest.jwt)) },
            await outcome { _ = try await self.client.refresh(refreshToken: oldest.refreshToken) },
        ]
        XCTAssertEqual(answers, ["token-invalid", "token-revoked", "token-revoked"], "the oldest session's token, JWT and refresh token")
        for kept in [second, third] {
            let verified = await outcome { _ = try await self.client.verify(token: kept.token) }
            XCTAssertEqual(verified, "ok")
        }
        let sessions = try await client.sessions(of: .username("alice"))
        XCTAssertEqual(Set(sessions.map(\.sessionID)), [second.sessionID, third.sessionID])
    }
}
