import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// TOTP against RFC 6238 appendix B and RFC 4226 appendix D, and the acceptance rules: one step
/// of drift either way, a code used once.
final class TOTPTests: XCTestCase {
    private static let sha1 = TOTP(secret: Array("12345678901234567890".utf8), algorithm: .sha1, digits: 8)
    private static let sha256 = TOTP(secret: Array("12345678901234567890123456789012".utf8), algorithm: .sha256, digits: 8)
    private static let sha512 = TOTP(
        secret: Array(("1234567890" + "1234567890" + "1234567890" + "1234567890" + "1234567890" + "1234567890" + "1234").utf8),
        algorithm: .sha512, digits: 8)

    func testRFC6238AppendixB() {
        let table: [(seconds: Int64, sha1: String, sha256: String, sha512: String)] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ]
        for row in table {
            let time = row.seconds * 1000
            XCTAssertEqual(Self.sha1.code(at: time), row.sha1, "SHA1 at \(row.seconds)")
            XCTAssertEqual(Self.sha256.code(at: time), row.sha256, "SHA256 at \(row.seconds)")
            XCTAssertEqual(Self.sha512.code(at: time), row.sha512, "SHA512 at \(row.seconds)")
        }
    }

    func testRFC4226AppendixDSixDigitCodes() {
        let hotp = TOTP(secret: Array("12345678901234567890".utf8))
        XCTAssertEqual(
            (0..<10).map { hotp.code(forStep: $0) },
            ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"])
    }

    func testOneStepOfDriftEitherWayIsAcceptedAndNoMore() {
        let totp = TOTP.generate()
        let now: Timestamp = 1_767_225_615_000  // 15 s into a step
        let current = totp.step(at: now)
        for offset: Int64 in [-1, 0, 1] {
            XCTAssertEqual(totp.acceptedStep(of: totp.code(forStep: current + offset), at: now, lastUsedStep: nil), current + offset)
        }
        for offset: Int64 in [-3, -2, 2, 3] where totp.code(forStep: current + offset) != totp.code(forStep: current) {
            XCTAssertNil(totp.acceptedStep(of: totp.code(forStep: current + offset), at: now, lastUsedStep: nil), "offset \(offset)")
        }
    }

    func testACodeIsAcceptedOnceAndNoOlderOneAfterIt() {
        let totp = TOTP.generate()
        let now: Timestamp = 1_767_225_615_000
        let current = totp.step(at: now)
        let used = totp.acceptedStep(of: totp.code(forStep: current), at: now, lastUsedStep: nil)
        XCTAssertEqual(used, current)
        XCTAssertNil(totp.acceptedStep(of: totp.code(forStep: current), at: now, lastUsedStep: used), "the same code again")
        XCTAssertNil(totp.acceptedStep(of: totp.code(forStep: current - 1), at: now, lastUsedStep: used), "an older code after it")
        XCTAssertEqual(totp.acceptedStep(of: totp.code(forStep: current + 1), at: now + 30_000, lastUsedStep: used), current + 1)
    }

    func testMalformedCodesAreRefused() {
        let totp = TOTP.generate()
        for code in ["", "12345", "1234567", "12a456", " 123456", "１２３４５６"] {
            XCTAssertNil(totp.acceptedStep(of: code, at: 1_767_225_615_000, lastUsedStep: nil), code)
        }
    }

    func testTheOTPAuthURIAndBase32() {
        XCTAssertEqual(Base32.encode(Array("12345678901234567890".utf8)), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        XCTAssertEqual(Base32.encode(Array("foobar".utf8)), "MZXW6YTBOI")  // RFC 4648 §10, unpadded
        XCTAssertEqual(Base32.decode("mzxw 6ytb oi======"), Array("foobar".utf8))
        XCTAssertNil(Base32.decode("MZXW1"))
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        XCTAssertEqual(
            totp.uri(issuer: "Acme Co", account: "alice@example.com"),
            "otpauth://totp/Acme%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30")
    }
}
