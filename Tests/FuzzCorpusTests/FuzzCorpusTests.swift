import Foundation
import FuzzTargets
import XCTest

/// Every input of the fuzzing corpus (`Fuzz/corpus`: the seeds, and every crash or slow input
/// the fuzzer found) runs through the decoders again: none may crash or hang.
final class FuzzCorpusTests: XCTestCase {
    func testTheCorpusReplaysWithoutACrash() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted()
        XCTAssertGreaterThan(files.count, 10, "the corpus holds at least the seeds")
        let started = Date()
        for file in files {
            let bytes = try Data(contentsOf: corpus.appendingPathComponent(file))
            bytes.withUnsafeBytes { FuzzInput.run($0) }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "\(files.count) inputs")
    }
}
