import Foundation
import TesseraClient
import XCTest

/// The client's public API as a web app sees it, from a target that links `TesseraClient` and
/// nothing else: the README's snippet and the DocC catalog's examples compile here, verbatim,
/// and the tests check that the documents still say what this file compiles.
final class ClientAPITests: XCTestCase {
    /// What the README's snippet takes from its surroundings.
    struct Request {
        var remoteAddress: String?
        var userAgent: String?
    }

    // README.md, "Using it" (the lines between the markers are the README's, verbatim).
    static func readmeSnippet(password: String, request: Request, bearerToken: String) async throws -> VerifiedSession {
        // BEGIN README
        let tessera = TesseraClient(socketPath: "/run/tessera/tessera.sock")
        let login = try await tessera.login(
            identifier: "alice", password: Array(password.utf8),
            clientIP: request.remoteAddress, userAgent: request.userAgent)
        // on every request:
        let session = try await tessera.verify(token: bearerToken)  // user id, session id, roles, expiry
        // END README
        _ = login
        return session
    }

    // TesseraClient.docc, the overview's first example.
    static func doccOverview(password: String) async throws {
        // BEGIN DOCC 1
        let tessera = TesseraClient(socketPath: "/run/tessera/tessera.sock")

        // POST /auth/login
        let login = try await tessera.login(
            identifier: "alice", password: Array(password.utf8),
            clientIP: "203.0.113.7", userAgent: "Mozilla/5.0")
        // on every request
        let session = try await tessera.verify(token: login.token)  // user id, session id, roles, expiry
        // POST /auth/refresh-token
        let pair = try await tessera.refresh(refreshToken: login.refreshToken)
        // POST /auth/logout
        try await tessera.logout(token: pair.token)
        // END DOCC 1
        _ = session
    }

    // TesseraClient.docc, the errors example.
    static func doccErrors(tessera: TesseraClient, password: String) async throws {
        // BEGIN DOCC 2
        do {
            _ = try await tessera.login(identifier: "alice", password: Array(password.utf8))
        } catch TesseraClientError.server(let error) where error.code == .locked {
            print("locked; retry in \(error.retryAfter ?? .seconds(1))")
        }
        // END DOCC 2
    }

    /// The lines of the first ```swift block after `marker` in `document`, without `import` lines.
    private func swiftBlock(in document: String, after marker: String, skipping: Int = 0) throws -> [String] {
        let text = try String(contentsOfFile: Self.root + document, encoding: .utf8)
        var rest = try XCTUnwrap(text.range(of: marker).map { text[$0.upperBound...] }, "\(document) lost its \(marker)")
        for _ in 0..<skipping {
            let next = try XCTUnwrap(rest.range(of: "```swift\n"))
            rest = rest[next.upperBound...]
        }
        let start = try XCTUnwrap(rest.range(of: "```swift\n"))
        let end = try XCTUnwrap(rest[start.upperBound...].range(of: "```"))
        return rest[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.hasPrefix("import ") }
    }

    /// The lines of this file between `// BEGIN name` and `// END name`, unindented.
    private func compiled(_ name: String) throws -> [String] {
        let source = try String(contentsOfFile: #filePath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let begin = try XCTUnwrap(source.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "// BEGIN \(name)" })
        let end = try XCTUnwrap(source.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "// END \(name)" })
        let indent = source[begin].prefix { $0 == " " }.count
        return source[(begin + 1)..<end].map { String($0.dropFirst(min(indent, $0.prefix { $0 == " " }.count))) }
    }

    private static let root =
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path + "/"

    private func trimmed(_ lines: [String]) -> [String] {
        Array(lines.drop { $0.isEmpty }.reversed().drop { $0.isEmpty }.reversed())
    }

    func testTheReadmesSnippetIsWhatCompilesHere() throws {
        XCTAssertEqual(trimmed(try swiftBlock(in: "README.md", after: "link the `TesseraClient` product:")), try compiled("README"))
    }

    func testTheDocCExamplesAreWhatCompilesHere() throws {
        let catalog = "Sources/TesseraClient/TesseraClient.docc/TesseraClient.md"
        XCTAssertEqual(trimmed(try swiftBlock(in: catalog, after: "## Overview")), try compiled("DOCC 1"))
        XCTAssertEqual(trimmed(try swiftBlock(in: catalog, after: "Failures are ``TesseraClientError``")), try compiled("DOCC 2"))
    }

    /// The error codes a web app matches on are the protocol's, by number and name.
    func testErrorCodesCarryTheProtocolsNumbersAndNames() {
        XCTAssertEqual(TesseraError.Code.badCredentials.rawValue, 1)
        XCTAssertEqual(TesseraError.Code.twoFactorInvalid.description, "2fa-invalid")
        XCTAssertEqual(TesseraError.Code(rawValue: 99).description, "code-99", "an unknown code keeps its number")
        XCTAssertEqual(Set(TesseraError.Code.known.map(\.code.rawValue)).count, TesseraError.Code.known.count)
        XCTAssertTrue(TesseraError.Code.locked.refusesCredentials)
        XCTAssertFalse(TesseraError.Code.busy.refusesCredentials)
    }
}
