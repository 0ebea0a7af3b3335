import XCTest

@testable import TesseraServer

final class ConfigurationFileTests: XCTestCase {
    func testEachLineBecomesItsOptionsInOrder() throws {
        let text = """
            # tesserad.toml
            socket = "/run/tessera/tessera.sock"   # where web processes connect

            app-uid = [33, 1001]
            admin-gid = []
            lockout-threshold = 5
            log-level = "a \\"quoted\\" # not a comment \\\\ path"
            """
        XCTAssertEqual(
            try ConfigurationFile.arguments(from: text),
            [
                "--socket", "/run/tessera/tessera.sock", "--app-uid", "33", "--app-uid", "1001", "--lockout-threshold", "5",
                "--log-level", "a \"quoted\" # not a comment \\ path",
            ])
    }

    func testMistakesNameTheirLine() {
        let cases: [(String, Int, String)] = [
            ("socket /tmp/t.sock", 1, "expected 'name = value'"),
            ("\nsocket = /tmp/t.sock", 2, "'/tmp/t.sock' is neither a quoted string, an integer nor an array"),
            ("--socket = \"x\"", 1, "'--socket' is not an option name (a long option without its dashes)"),
            ("app-uid = [1, 2", 1, "an array ends with ']'"),
            ("socket = \"x", 1, "a string ends with '\"'"),
            ("socket = \"a\\nb\"", 1, "only \\\" and \\\\ are escapes in a string"),
            ("socket = \"x\"\nsocket = \"y\"", 2, "'socket' is set twice"),
        ]
        for (text, line, reason) in cases {
            XCTAssertThrowsError(try ConfigurationFile.arguments(from: text), text) {
                XCTAssertEqual($0 as? ConfigurationFile.SyntaxError, ConfigurationFile.SyntaxError(line: line, reason: reason), text)
            }
        }
    }

    func testTheFileComesFirstSoTheCommandLineWins() throws {
        let expanded = try ConfigurationFile.expand(["--log-level", "debug", "--config", "/etc/t.toml", "--socket", "b"]) { path in
            XCTAssertEqual(path, "/etc/t.toml")
            return "socket = \"a\"\nlog-level = \"info\""
        }
        XCTAssertEqual(expanded, ["--socket", "a", "--log-level", "info", "--config", "/etc/t.toml", "--log-level", "debug", "--socket", "b"])
        XCTAssertEqual(
            try ConfigurationFile.expand(["--socket", "b"]) { _ in
                XCTFail("no file")
                return ""
            }, ["--socket", "b"])
        XCTAssertThrowsError(try ConfigurationFile.expand(["--config=/etc/t.toml"]) { _ in "socket = b" }) {
            XCTAssertEqual(
                "\($0)", "/etc/t.toml, line 1: 'b' is neither a quoted string, an integer nor an array")
        }
    }
}
