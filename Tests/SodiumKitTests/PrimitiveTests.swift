import SodiumKit
import XCTest

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
