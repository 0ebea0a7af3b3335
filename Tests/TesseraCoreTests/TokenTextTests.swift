import SodiumKit
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// The fast token decoder agrees with libsodium's codec and rejects what it rejects.
final class TokenTextTests: XCTestCase {
    private func decode(_ text: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 51)
        let ok = text.withUnsafeBytes { t in out.withUnsafeMutableBytes { TokenText.decode(t, into: $0) } }
        return ok ? out : nil
    }

    func testDecodesWhatLibsodiumEncodes() {
        for _ in 0..<1000 {
            let bytes = SecureRandom.bytes(51)
            XCTAssertEqual(decode(Array(Base64URL.encode(bytes).utf8)), bytes)
        }
    }

    func testRejectsEveryCharacterOutsideTheAlphabetAtEveryPosition() {
        let valid = Array(Base64URL.encode(SecureRandom.bytes(51)).utf8)
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for position in [0, 1, 2, 3, 33, 67] {
            for byte in UInt8.min...UInt8.max where !alphabet.contains(byte) {
                var text = valid
                text[position] = byte
                XCTAssertNil(decode(text), "byte \(byte) at \(position)")
            }
        }
    }

    func testRejectsLengthsThatAreNotWholeQuads() {
        XCTAssertNil(decode(Array("AAA".utf8)))
        XCTAssertNil(SessionToken.parse(String(repeating: "A", count: 67)))
        XCTAssertNil(SessionToken.parse(String(repeating: "A", count: 72)))
    }
}
