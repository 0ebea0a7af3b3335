import SodiumKit
import XCTest

/// SHA-1 and HMAC against their standards' published vectors (FIPS 180 examples, RFC 2202,
/// RFC 4231).
final class HMACTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    func testSHA1MatchesTheStandardExamples() {
        XCTAssertEqual(hex(SHA1.hash(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(SHA1.hash([UInt8]())), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(
            hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))), "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))), "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    func testHMACSHA1MatchesRFC2202() {
        XCTAssertEqual(
            hex(HMAC.authenticate(Array("Hi There".utf8), key: [UInt8](repeating: 0x0B, count: 20), algorithm: .sha1)),
            "b617318655057264e28bc0b6fb378c8ef146be00")
        XCTAssertEqual(
            hex(HMAC.authenticate(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8), algorithm: .sha1)),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        XCTAssertEqual(
            hex(
                HMAC.authenticate(
                    Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8), key: [UInt8](repeating: 0xAA, count: 80),
                    algorithm: .sha1)), "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }

    func testAnEmptyKeyIsTheZeroPaddedBlock() {
        for algorithm in HMAC.Algorithm.allCases {
            XCTAssertEqual(
                HMAC.authenticate([1, 2, 3], key: [], algorithm: algorithm), HMAC.authenticate([1, 2, 3], key: [0, 0], algorithm: algorithm))
        }
        XCTAssertEqual(hex(HMAC.authenticate([], key: [], algorithm: .sha1)), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d")
    }

    func testHMACSHA256AndSHA512MatchRFC4231() {
        let message = Array("what do ya want for nothing?".utf8)
        XCTAssertEqual(
            hex(HMAC.authenticate(message, key: Array("Jefe".utf8), algorithm: .sha256)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(
            hex(HMAC.authenticate(message, key: Array("Jefe".utf8), algorithm: .sha512)),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
    }
}
