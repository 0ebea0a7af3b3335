import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

/// API keys through the real daemon: made with permissions among the user's roles, shown once,
/// verified by VERIFY and VERIFY_API_KEY, listed without their secret, last use recorded,
/// revoked one by one, all at once, by disabling the account and by deleting the user; the CLI;
/// and a data file that holds no key.
final class APIKeyEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    var client: TesseraClient!
    override func setUp() async throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        try daemon.start()
        client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8), roles: ["reader", "deploy"])
    }
    override func tearDown() async throws {
        await client?.close()
        daemon?.tearDown()
    }

    private func expectFailure(_ name: String, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void) async {
        do {
            try await body()
            XCTFail("expected \(name)", file: file, line: line)
        } catch let error as TesseraClientError {
            XCTAssertEqual(error.name, name, "\(error)", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testAKeyIsVerifiedLikeATokenAndListedWithoutItsSecret() async throws {
        let (key, info) = try await client.createAPIKey(for: .username("alice"), name: "ci deploy", lifetimeSeconds: 3600, permissions: ["deploy"])
        XCTAssertTrue(key.hasPrefix("tsk_") && key.count == 72, key)
        XCTAssertEqual(info.prefix, String(key.prefix(12)))

        let verified = try await client.verify(token: key)
        XCTAssertEqual(verified.userID, 1)
        XCTAssertEqual(verified.credential, .apiKey(info.id, name: "ci deploy"))
        XCTAssertEqual(verified.roles, ["deploy"])
        XCTAssertEqual(verified.apiKeyName, "ci deploy")
        XCTAssertEqual(verified.expiresAt, info.expiresAt)
        let direct = try await client.verifyAPIKey(key)
        XCTAssertEqual(direct.name, "ci deploy")
        XCTAssertEqual(direct.keyID, info.id)
        XCTAssertEqual(direct.permissions, ["deploy"])

        // A session token is a session: VERIFY says so, VERIFY_API_KEY refuses it.
        let session = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let sessionVerified = try await client.verify(token: session.token)
        XCTAssertNil(sessionVerified.apiKeyName)
        await expectFailure("token-invalid") { _ = try await self.client.verifyAPIKey(session.token) }

        // The last use was queued with the verify; a later write commits after it.
        _ = try await client.createAPIKey(for: .username("alice"), name: "second")
        let listed = try await client.apiKeys(of: .username("alice"))
        XCTAssertEqual(listed.map(\.name), ["ci deploy", "second"])
        XCTAssertNotNil(listed[0].lastUsedAt)
        XCTAssertNil(listed[1].lastUsedAt)
        XCTAssertEqual(listed[0].permissions, ["deploy"])
    }

    func testAPermissionOutsideTheUsersRolesIsRefusedAtCreation() async throws {
        await expectFailure("invalid-argument") {
            _ = try await self.client.createAPIKey(for: .username("alice"), name: "x", permissions: ["deploy", "admin"])
        }
        let none = try await client.apiKeys(of: .username("alice"))
        XCTAssertEqual(none.count, 0)
    }

    func testRevokedKeysAreRefusedOneByOneAndAllAtOnce() async throws {
        let (first, firstInfo) = try await client.createAPIKey(for: .username("alice"), name: "one")
        let (second, _) = try await client.createAPIKey(for: .username("alice"), name: "two")
        let (third, _) = try await client.createAPIKey(for: .username("alice"), name: "three")
        try await client.revokeAPIKey(firstInfo.id)
        await expectFailure("token-revoked") { _ = try await self.client.verify(token: first) }
        await expectFailure("token-revoked") { _ = try await self.client.verifyAPIKey(first) }
        _ = try await client.verify(token: second)
        let revoked = try await client.revokeAllAPIKeys(of: .username("alice"))
        XCTAssertEqual(revoked, 2)
        for key in [second, third] { await expectFailure("token-revoked") { _ = try await self.client.verify(token: key) } }
        let listed = try await client.apiKeys(of: .username("alice"))
        XCTAssertTrue(listed.allSatisfy { $0.revokedAt != nil })
    }

    func testDisablingTheAccountAndDeletingTheUserEndEveryKeyAtOnce() async throws {
        let (key, _) = try await client.createAPIKey(for: .username("alice"), name: "k")
        _ = try await client.createUser(username: "bob", password: Array("correct horse".utf8))
        let (bobs, _) = try await client.createAPIKey(for: .username("bob"), name: "b")
        _ = try await client.setUserState(.username("alice"), to: .disabled)
        await expectFailure("token-revoked") { _ = try await self.client.verify(token: key) }
        try await client.deleteUser(.username("bob"))
        await expectFailure("token-invalid") { _ = try await self.client.verify(token: bobs) }
    }

    func testTheCLIMakesListsAndRevokesKeys() async throws {
        let tessera = { (arguments: [String], input: String?) in
            try runCommand(DaemonProcess.tessera, ["--socket", self.daemon.socketPath] + arguments, input: input)
        }
        let create = try tessera(["apikey", "create", "alice", "ci deploy", "--expires", "30d", "--permission", "deploy", "--json"], nil)
        XCTAssertEqual(create.status, 0, create.stderr)
        let made = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(create.stdout.utf8)) as? [String: Any])
        let key = try XCTUnwrap(made["key"] as? String)
        let id = try XCTUnwrap(made["id"] as? String)
        XCTAssertEqual(made["permissions"] as? [String], ["deploy"])
        XCTAssertNotNil(made["expires_at"])

        let verify = try tessera(["verify"], key + "\n")
        XCTAssertEqual(verify.status, 0, verify.stderr)
        let list = try tessera(["apikey", "list", "alice"], nil)
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains(id) && list.stdout.contains("ci deploy") && list.stdout.contains(String(key.prefix(12))), list.stdout)
        XCTAssertFalse(list.stdout.contains(key), "never the key")

        let bad = try tessera(["apikey", "create", "alice", "x", "--expires", "30 days"], nil)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--expires takes a number and a unit"), bad.stderr)

        XCTAssertEqual(try tessera(["apikey", "revoke", id], nil).status, 0)
        let refused = try tessera(["verify"], key + "\n")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("token-revoked"), refused.stderr)
    }

    func testTheDaemonCapsTheLifetimeOfAKey() async throws {
        daemon.stop()
        daemon.extraArguments += ["--api-key-max-lifetime", "3600"]
        try daemon.start()
        let started = Date()
        let (_, unbounded) = try await client.createAPIKey(for: .username("alice"), name: "no lifetime asked")
        let expiresAt = try XCTUnwrap(unbounded.expiresAt)
        XCTAssertEqual(expiresAt.timeIntervalSince(started), 3600, accuracy: 60)
        await expectFailure("invalid-argument") {
            _ = try await self.client.createAPIKey(for: .username("alice"), name: "longer", lifetimeSeconds: 3601)
        }
    }

    func testTheDataFileHoldsNoKey() async throws {
        let (key, _) = try await client.createAPIKey(for: .username("alice"), name: "k")
        _ = try await client.verify(token: key)
        await client.close()
        daemon.stop()
        let file = try Data(contentsOf: URL(fileURLWithPath: daemon.dataPath + "/data.mdb"))
        let base64 = String(key.dropFirst(4)).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "="
        let raw = try XCTUnwrap(Data(base64Encoded: base64))
        XCTAssertEqual(raw.count, 51)
        XCTAssertNotNil(file.range(of: raw.subdata(in: 3..<19)), "the key's id names its record")
        XCTAssertNil(file.range(of: raw.subdata(in: 19..<51)), "the secret")
        XCTAssertNil(file.range(of: raw.subdata(in: 19..<35)), "half the secret")
        XCTAssertNil(file.range(of: Data(key.utf8)), "the key's text")
    }
}

extension APIKeyEndToEndTests {
    /// An API key names its user to read what concerns the key (issue 22, item 17): who it acts
    /// for, with its own permissions as roles, and itself among the user's keys; not the
    /// account's sessions (their addresses and agents), other keys or second factor, and nothing
    /// to change: it cannot make more keys, revoke, change the profile or the password.
    func testAnAPIKeyReadsWhatConcernsItAndChangesNothing() async throws {
        let (key, made) = try await client.createAPIKey(for: .username("alice"), name: "reader", permissions: ["reader"])
        _ = try await client.createAPIKey(for: .username("alice"), name: "deploy", permissions: ["deploy"])
        _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8), clientIP: "203.0.113.9")
        let me = try await client.user(.sessionToken(key))
        XCTAssertEqual(me.username, "alice")
        XCTAssertEqual(me.roles, ["reader"], "the key's permissions, not the user's roles")
        let byName = try await client.user(.username("alice"))
        XCTAssertEqual(byName.roles.sorted(), ["deploy", "reader"], "an administrator by name sees all")
        let keys = try await client.apiKeys(of: .sessionToken(key))
        XCTAssertEqual(keys.map(\.id), [made.id], "itself, not the deploy key")
        let all = try await client.apiKeys(of: .username("alice"))
        XCTAssertEqual(all.count, 2)
        await expectFailure("forbidden") { _ = try await self.client.sessions(of: .sessionToken(key)) }
        await expectFailure("forbidden") { _ = try await self.client.twoFactorStatus(of: .sessionToken(key)) }
        await expectFailure("forbidden") { _ = try await self.client.createAPIKey(for: .sessionToken(key), name: "more") }
        await expectFailure("forbidden") {
            _ = try await self.client.updateUser(.sessionToken(key), ProfileUpdate(displayName: "Mallory"))
        }
        await expectFailure("forbidden") { _ = try await self.client.revokeAllAPIKeys(of: .sessionToken(key)) }
        await expectFailure("token-invalid") {
            try await self.client.changePassword(token: key, current: Array("correct horse".utf8), new: Array("battery staple".utf8))
        }
        await expectFailure("token-invalid") { try await self.client.logout(token: key) }
    }

    /// VERIFY with `with_api_keys` lists what LIST_API_KEYS lists to the same token, in the
    /// verify's round trip: a session's user's every key (a revoked one too), an API key only
    /// itself; nothing without the flag, and nothing for a token that fails.
    func testAVerifyWithAPIKeysListsWhatTheTokenMayList() async throws {
        let (readerKey, reader) = try await client.createAPIKey(for: .username("alice"), name: "reader", permissions: ["reader"])
        let (_, deploy) = try await client.createAPIKey(for: .username("alice"), name: "deploy", permissions: ["deploy"])
        try await client.revokeAPIKey(deploy.id)
        let session = try await client.login(identifier: "alice", password: Array("correct horse".utf8))

        let bySession = try await client.verifyWithUser(token: session.token, apiKeys: true)
        XCTAssertEqual(bySession.user?.username, "alice")
        XCTAssertEqual(bySession.apiKeys.map(\.id), [reader.id, deploy.id], "every key, oldest first")
        XCTAssertEqual(bySession.apiKeys.map(\.name), ["reader", "deploy"])
        XCTAssertNil(bySession.apiKeys[0].revokedAt)
        XCTAssertNotNil(bySession.apiKeys[1].revokedAt, "a revoked key is listed as revoked")
        let listed = try await client.apiKeys(of: .sessionToken(session.token))
        XCTAssertEqual(bySession.apiKeys.map(\.id), listed.map(\.id))
        XCTAssertEqual(bySession.apiKeys.map(\.permissions), listed.map(\.permissions))

        let byKey = try await client.verifyWithUser(token: readerKey, apiKeys: true)
        XCTAssertEqual(byKey.apiKeyName, "reader")
        XCTAssertEqual(byKey.apiKeys.map(\.id), [reader.id], "an API key sees itself, not the others")

        let withoutFlag = try await client.verifyWithUser(token: session.token)
        XCTAssertEqual(withoutFlag.apiKeys, [])
        XCTAssertNotNil(withoutFlag.user)
        try await client.logout(token: session.token)
        await expectFailure("token-invalid") { _ = try await self.client.verifyWithUser(token: session.token, apiKeys: true) }
    }
}
