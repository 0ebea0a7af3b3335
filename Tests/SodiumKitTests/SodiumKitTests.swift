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

final class PrimitiveTests: XCTestCase {
    /// BLAKE2b-256 keyed, checked against Python's hashlib.blake2b(digest_size=32, key=...).
    func testKeyedBlake2bMatchesAnIndependentImplementation() {
        let key = [UInt8](0..<32)
        let digest = KeyedHash.blake2b(Array("tessera".utf8), key: key)
        XCTAssertEqual(digest.map { String(format: "%02x", $0) }.joined(), Self.expectedDigest)
    }
    static let expectedDigest = "7a358e4e9910badd77ea9a42fb5ccd104d9441606128825b5fb24fe3f4dd1e60"

    func testBase64URLRoundTripAndRejection() {
        let bytes = [UInt8](0..<51)
        let text = Base64URL.encode(bytes)
        XCTAssertEqual(text.count, 68)
        XCTAssertFalse(text.contains("+") || text.contains("/") || text.contains("="))
        var out = [UInt8](repeating: 0, count: 51)
        var input = Array(text.utf8)
        XCTAssertEqual(input.withUnsafeBytes { i in out.withUnsafeMutableBytes { Base64URL.decode(i, into: $0) } }, 51)
        XCTAssertEqual(out, bytes)
        input[10] = UInt8(ascii: "*")
        XCTAssertNil(input.withUnsafeBytes { i in out.withUnsafeMutableBytes { Base64URL.decode(i, into: $0) } })
    }

    func testConstantTimeEquality() {
        let a: [UInt8] = [1, 2, 3], b: [UInt8] = [1, 2, 4]
        XCTAssertTrue(a.withUnsafeBytes { x in a.withUnsafeBytes { ConstantTime.equals(x, $0) } })
        XCTAssertFalse(a.withUnsafeBytes { x in b.withUnsafeBytes { ConstantTime.equals(x, $0) } })
        XCTAssertFalse(a.withUnsafeBytes { x in [1, 2].withUnsafeBytes { ConstantTime.equals(x, $0) } })
    }

    func testThirtyTwoByteComparisonSeesEveryByte() {
        let a = SecureRandom.bytes(32)
        XCTAssertTrue(a.withUnsafeBytes { x in a.withUnsafeBytes { ConstantTime.equals32(x, $0) } })
        for index in 0..<32 {
            var b = a
            b[index] ^= 0x01
            XCTAssertFalse(a.withUnsafeBytes { x in b.withUnsafeBytes { ConstantTime.equals32(x, $0) } }, "byte \(index)")
        }
        XCTAssertFalse(a.withUnsafeBytes { x in Array(a.prefix(31)).withUnsafeBytes { ConstantTime.equals32(x, $0) } })
    }

    func testRandomBytesDiffer() {
        XCTAssertNotEqual(SecureRandom.bytes(32), SecureRandom.bytes(32))
    }
}
