import SodiumKit
import XCTest

/// PBKDF2-HMAC-SHA-256 against the vectors of RFC 7914 §11 and Python's hashlib, and SHA-256's
/// hex as Meteor's accounts apply it.
final class PBKDF2Tests: XCTestCase {
    private func pbkdf2(_ password: String, _ salt: String, _ iterations: Int, _ length: Int) -> String {
        Array(password.utf8).withUnsafeBytes { PBKDF2.sha256(password: $0, salt: Array(salt.utf8), iterations: iterations, length: length) }
            .map { String(format: "%02x", $0) }.joined()
    }

    func testTheRFCAndHashlibVectors() {
        // RFC 7914 §11 (1 and 80,000 iterations are its; 4096 and the 40-byte one are hashlib's,
        // `hashlib.pbkdf2_hmac("sha256", ...)`).
        XCTAssertEqual(pbkdf2("password", "salt", 1, 32), "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
        XCTAssertEqual(pbkdf2("password", "salt", 4096, 32), "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        XCTAssertEqual(
            pbkdf2("passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 40),
            "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9")
        XCTAssertEqual(pbkdf2("passwd", "salt", 1, 64).prefix(32), "55ac046e56e3089fec1691c22544b605")
    }

    func testSHA256HexOfAPassword() {
        var password = Array("correct horse".utf8)
        let hex = SHA256.lowercaseHex(of: SecretBytes(wiping: &password))
        // hashlib.sha256(b"correct horse").hexdigest()
        XCTAssertEqual(
            hex.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }, "4104d36f8da2c254349f85836793ebe029e0c957063a34c91c2e9203187b5631")
    }
}
