import SodiumKit
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// Password hashes other systems store, each checked by its own library, then replaced by
/// Tessera's argon2id on the first right password (issue 23, item 1). Every hash below was made
/// by an independent implementation from "correct horse" (Python's bcrypt, passlib and
/// argon2-cffi; the yescrypt one by libxcrypt through Python's crypt module).
final class StoredPasswordTests: XCTestCase {
    static let vectors: [(label: String, hash: String)] = [
        ("bcrypt $2b$ (bcrypt)", "$2b$04$aMwLH51pIxn8QzhfPU6Sgent42WPv4o9WPXCogNtJnP78f85qBzQ2"),
        ("bcrypt $2a$ (bcrypt, prefix 2a)", "$2a$04$adOHe7s00Bt2N8UtVypLIOZI9oPulf3k.KauBkQM8nCM5Gzc/xvgG"),
        ("bcrypt $2y$ (the $2b$ one's salt and digest)", "$2y$04$aMwLH51pIxn8QzhfPU6Sgent42WPv4o9WPXCogNtJnP78f85qBzQ2"),
        ("sha256crypt (passlib)", "$5$rounds=1000$BD2i0Lp8.8aepizq$TFZLSnN3ncGKo7p/8ap5SlnyxUuyiRkcSUc78btYUW5"),
        (
            "sha512crypt (passlib)",
            "$6$rounds=1000$Kj5i0d.Q1YLQ3jTv$qJUv8OEUlE6RuS/6NOZ6eBpr0u.Pk/PjjTruk6MyzoR8P1U/j8jCbQPBkA6P.K1H/Iah8WnWKyDGLkzdNaRvV."
        ),
        ("yescrypt (libxcrypt)", "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$zwtVrjrUCmXcyLTs6oxLTQlzifSUkF8RHJ./tK5KU79"),
        ("PBKDF2 passlib form", "$pbkdf2-sha256$1000$9d6bs/aeM6a0NobQWstZiw$bSd8DhcR6n/9316DydofFfAGQ6C4EHSId01dqURqtqs"),
        ("PBKDF2 Django form", "pbkdf2_sha256$1000$Sh2ng43Dv9kL$S2Q1Fp1tS4BT8FOK+ayInKUDsXX5vO2h3P8hkRfewP0="),
        (
            "argon2id of other parameters (argon2-cffi)",
            "$argon2id$v=19$m=128,t=2,p=1$p48mxz6ie0hMVqPB27iOTA$h5RfRJ4NyQp8uRFSZIePXiHziKsXdYEMwuDfWBTcu6M"
        ),
        ("argon2i (argon2-cffi)", "$argon2i$v=19$m=64,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$rB84JT5z5pR7npjABPWWPmhej9GHFq2J2QtVNJPtUE0"),
        ("Rocket.Chat: bcrypt of the SHA-256 hex", "sha256-hex:$2b$04$bcRoafkZIXfSHT9.cq.BXeybcNlvoUc.vGVrD0LgUvYMENhRea6pm"),
        (
            "newer Meteor: argon2id of the SHA-256 hex",
            "sha256-hex:$argon2id$v=19$m=128,t=2,p=1$jBkqo4ntB6G1FS2TfeT75w$UtMxluMa+aCmdnKaXkLSoFNKW35EiBGO59WmSggh12I"
        ),
    ]

    let hasher = PasswordHasher(opsLimit: 1, memLimit: 64 * 1024)

    func testEachSchemeAcceptsTheRightPasswordOnlyAndIsReplacedByArgon2id() throws {
        for (label, hash) in Self.vectors {
            let stored = try XCTUnwrap(StoredPassword(parsing: hash), label)
            XCTAssertEqual(stored.text, hash, label)
            XCTAssertTrue(stored.verify(CoreFixture.secret("correct horse"), hasher: hasher), label)
            for wrong in ["correct horsf", "Correct horse", "correct horse ", ""] {
                XCTAssertFalse(stored.verify(CoreFixture.secret(wrong), hasher: hasher), "\(label): \(wrong)")
            }
            XCTAssertTrue(stored.needsRehash(hasher), label)
            let replacement = try stored.replacement(for: CoreFixture.secret("correct horse"), hasher: hasher)
            let replaced = try XCTUnwrap(StoredPassword(parsing: replacement), label)
            XCTAssertFalse(replaced.needsRehash(hasher), "\(label): \(replacement)")
            XCTAssertTrue(replaced.verify(CoreFixture.secret("correct horse"), hasher: hasher), label)
            // A hash over the SHA-256 hex stays one: the clients that send the hex keep working.
            XCTAssertEqual(replacement.hasPrefix("sha256-hex:$argon2id$v=19$m=64,t=1,p=1$"), hash.hasPrefix("sha256-hex:"), label)
            XCTAssertEqual(replacement.hasPrefix("$argon2id$v=19$m=64,t=1,p=1$"), !hash.hasPrefix("sha256-hex:"), label)
        }
    }

    /// Hashes that cost the same share a cost key, and a dummy of a hash costs what it does
    /// without being any known password's hash.
    func testCostKeysAndDummies() throws {
        let keys = Self.vectors.map { StoredPassword(parsing: $0.hash)?.costKey }
        XCTAssertEqual(
            keys,
            [
                "$2b$04", "$2a$04", "$2y$04", "$5$rounds=1000", "$6$rounds=1000", "$y$j9T", "pbkdf2-sha256$1000$32",
                "pbkdf2-sha256$1000$32", nil, nil, "$2b$04", nil,
            ])
        XCTAssertEqual(StoredPassword(parsing: "$6$saltsalt$" + String(repeating: "a", count: 86))?.costKey, "$6")
        for (label, hash) in Self.vectors {
            let stored = try XCTUnwrap(StoredPassword(parsing: hash))
            guard stored.isForeign else {
                XCTAssertNil(stored.dummy(), label)
                continue
            }
            let dummy = try XCTUnwrap(stored.dummy(), label)
            XCTAssertEqual(dummy.costKey, stored.costKey, label)
            XCTAssertNotEqual(dummy.text, hash, label)
            XCTAssertFalse(dummy.verify(CoreFixture.secret("correct horse"), hasher: hasher), label)
        }
    }

    /// Meteor's digest form: the SHA-256 hex given instead of the password checks a hash made
    /// over that hex, and no other; the re-hash keeps it over the hex.
    func testThePasswordsSHA256HexChecksOnlyAHashMadeOverIt() throws {
        let hex = SHA256.lowercaseHex(of: CoreFixture.secret("correct horse"))
        let wrongHex = CoreFixture.secret(String(repeating: "0", count: 64))
        for (label, hash) in Self.vectors {
            let stored = try XCTUnwrap(StoredPassword(parsing: hash), label)
            guard case .overSHA256Hex = stored else {
                XCTAssertFalse(stored.verify(hex, as: .sha256Hex, hasher: hasher), "\(label): not made over the hex")
                continue
            }
            XCTAssertTrue(stored.verify(hex, as: .sha256Hex, hasher: hasher), label)
            XCTAssertFalse(stored.verify(wrongHex, as: .sha256Hex, hasher: hasher), label)
            XCTAssertFalse(stored.verify(hex, as: .plain, hasher: hasher), "\(label): the hex typed as a password is another password")
            let replaced = try XCTUnwrap(StoredPassword(parsing: try stored.replacement(for: hex, as: .sha256Hex, hasher: hasher)))
            XCTAssertTrue(replaced.verify(CoreFixture.secret("correct horse"), hasher: hasher), label)
            XCTAssertTrue(replaced.verify(hex, as: .sha256Hex, hasher: hasher), label)
        }
        XCTAssertTrue(PasswordForm.isSHA256Hex(Array(String(repeating: "a", count: 64).utf8)))
        XCTAssertFalse(PasswordForm.isSHA256Hex(Array(String(repeating: "A", count: 64).utf8)))
        XCTAssertFalse(PasswordForm.isSHA256Hex(Array(String(repeating: "a", count: 63).utf8)))
    }

    func testWhatIsNotAHashTesseraChecksIsRefused() {
        for text in [
            "", "correct horse", "$1$saltsalt$md5cryptisnotaccepted", "pbkdf2_sha256$many$salt$AAAA", "pbkdf2_sha256$0$salt$AAAA",
            "pbkdf2_sha256$99999999$salt$S2Q1Fp1tS4BT8FOK+ayInKUDsXX5vO2h3P8hkRfewP0=", "pbkdf2_sha1$1000$salt$AAAA",
            "sha256-hex:", "sha256-hex:sha256-hex:$2b$04$bcRoafkZIXfSHT9.cq.BXeybcNlvoUc.vGVrD0LgUvYMENhRea6pm", "$scrypt$ln=4,r=8,p=1$",
        ] {
            XCTAssertNil(StoredPassword(parsing: text), text)
        }
        // A crypt prefix with a broken body parses (libxcrypt is the judge) and matches nothing.
        let broken = StoredPassword(parsing: "$2b$04$short")
        XCTAssertEqual(broken.map { $0.verify(CoreFixture.secret("correct horse"), hasher: hasher) }, false)
    }
}

/// The first right password of a user imported with a foreign hash logs in and replaces the hash
/// in the same commit; a wrong one changes nothing.
final class ImportedHashLoginTests: XCTestCase {
    var fixture: CoreFixture!
    override func setUp() async throws { fixture = try CoreFixture() }
    override func tearDown() { fixture.tearDown() }

    private func storedHash() throws -> String {
        let store = fixture.service.store
        return try store.read { try store.user(identifier: "alice", in: $0)!.passwordHash }
    }

    private func give(_ hash: String) async throws {
        let store = fixture.service.store
        try await store.write { txn in
            let previous = try store.user(identifier: "alice", in: txn)!
            var record = previous
            record.passwordHash = hash
            try store.putUser(record, replacing: previous, in: txn)
        }
    }

    func testAnImportedUserLogsInAndIsRehashedOnce() async throws {
        try await fixture.createUser("alice")
        for (label, hash) in StoredPasswordTests.vectors {
            try await give(hash)
            do {
                _ = try await fixture.service.sessions.login(LoginAttempt(identifier: "alice", password: CoreFixture.secret("correct horsf")))
                XCTFail("\(label): a wrong password logged in")
            } catch let error as AuthError {
                XCTAssertEqual(error, .badCredentials, label)
            }
            XCTAssertEqual(try storedHash(), hash, "\(label): a wrong password leaves the hash")
            _ = try await fixture.service.sessions.login(LoginAttempt(identifier: "alice", password: CoreFixture.secret("correct horse")))
            let after = try storedHash()
            XCTAssertNotEqual(after, hash, label)
            XCTAssertTrue(after.contains("$argon2id$v=19$m=64,t=1,p=1$"), "\(label): \(after)")
            _ = try await fixture.service.sessions.login(LoginAttempt(identifier: "alice", password: CoreFixture.secret("correct horse")))
            XCTAssertEqual(try storedHash(), after, "\(label): re-hashed once")
            try await fixture.service.accounts.unlock(.username("alice"))
        }
    }
}
