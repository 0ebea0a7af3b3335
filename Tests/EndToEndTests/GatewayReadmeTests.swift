import Foundation
import TestSupport
import XCTest

/// The README's "Serving an existing login API" block, run as written (temporary paths, a
/// free port): every curl example answers as the README says.
final class GatewayReadmeTests: XCTestCase {
    func testTheReadmesGatewayExamplesRun() throws {
        let readme = try String(contentsOfFile: CLIEndToEndTests.repositoryRoot + "/README.md", encoding: .utf8)
        let marker = "(GatewayReadmeTests)"
        let afterMarker = try XCTUnwrap(readme.range(of: marker).map { readme[$0.upperBound...] }, "the README lost its tested block")
        let start = try XCTUnwrap(afterMarker.range(of: "```sh\n"))
        let end = try XCTUnwrap(afterMarker[start.upperBound...].range(of: "```\n"))
        var block = String(afterMarker[start.upperBound..<end.lowerBound])
        XCTAssertTrue(block.hasPrefix("swift build -c release\n"))
        block = String(block.dropFirst("swift build -c release\n".count))
        let root = "/tmp/tessera-readme-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let port = Int.random(in: 20_000...60_000)
        block = block.replacingOccurrences(of: ".build/release/", with: productsDirectory.path + "/")
            .replacingOccurrences(of: "/run/tessera", with: root + "/run")
            .replacingOccurrences(of: "/var/lib/tessera", with: root + "/data")
            .replacingOccurrences(of: "/tmp/unleash.cookies", with: root + "/unleash.cookies")
            .replacingOccurrences(of: "tesserad --socket", with: "tesserad --argon2-ops 1 --argon2-mem-kib 64 --socket")
            .replacingOccurrences(of: "tessera-gateway &", with: "tessera-gateway --listen 127.0.0.1:\(port) &")
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:\(port)")
        let result = try runCommand("/bin/bash", ["-c", "set -euo pipefail\n" + block + "wait\n"])
        XCTAssertEqual(result.status, 0, result.stderr + result.stdout)
        let out = result.stdout
        for expected in [
            #""username":"alice""#, #""user":{"#, #""status":"success""#, #""authToken":"#, #""session_expiration_time":"#,
            "x-cloud-error-codes: root.unauthenticated", #""access_token":"#, #""refresh_token":"#, #""success":true"#,
            #""apiKeys":[{"#, #""message":"Logged out""#,
        ] {
            XCTAssertTrue(out.contains(expected), "\(expected) missing from:\n\(out)")
        }
    }
}
