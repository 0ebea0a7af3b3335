import SodiumKit
import XCTest

final class PasswordHasherTests: XCTestCase {
    let cheap = PasswordHasher(opsLimit: 1, memLimit: 64 * 1024)

    private func secret(_ text: String) -> SecretBytes {
        var bytes = Array(text.utf8)
        return SecretBytes(wiping: &bytes)
    }

    func testHashVerifiesOnlyTheRightPassword() throws {
        let hash = try cheap.hash(secret("correct horse"))
        XCTAssertTrue(hash.hasPrefix("$argon2id$v=19$m=64,t=1,p=1$"))
        XCTAssertTrue(cheap.verify(secret("correct horse"), against: hash))
        XCTAssertFalse(cheap.verify(secret("correct horsf"), against: hash))
        XCTAssertFalse(cheap.verify(secret(""), against: hash))
        XCTAssertFalse(cheap.verify(secret("correct horse"), against: "not a hash"))
    }

    func testSaltMakesEveryHashDifferent() throws {
        XCTAssertNotEqual(try cheap.hash(secret("same")), try cheap.hash(secret("same")))
    }

    func testNeedsRehashWhenParametersChange() throws {
        let hash = try cheap.hash(secret("pw"))
        XCTAssertFalse(cheap.needsRehash(hash))
        XCTAssertTrue(PasswordHasher(opsLimit: 2, memLimit: 64 * 1024).needsRehash(hash))
        XCTAssertTrue(PasswordHasher(opsLimit: 1, memLimit: 128 * 1024).needsRehash(hash))
    }

    func testWipingInitialiserZeroesTheSource() {
        var bytes: [UInt8] = [1, 2, 3]
        let secret = SecretBytes(wiping: &bytes)
        XCTAssertEqual(bytes, [0, 0, 0])
        XCTAssertEqual(secret.withUnsafeBytes { Array($0) }, [1, 2, 3])
        XCTAssertFalse("\(secret)".contains("1"))
    }
}
