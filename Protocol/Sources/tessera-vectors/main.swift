// Writes `Protocol/vectors/*.hex` from the catalog in `ProtocolVectors`, and refreshes the
// examples quoted in `Protocol/PROTOCOL.md` (each fenced block after a `<!-- vector: NAME -->`
// line). Run by `scripts/write-vectors`.
//
//     tessera-vectors VECTORS_DIRECTORY SPEC_FILE
import Foundation
import ProtocolVectors

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tessera-vectors: \(message)\n".utf8))
    exit(1)
}

let arguments = CommandLine.arguments.dropFirst()
guard arguments.count == 2 else { fail("usage: tessera-vectors VECTORS_DIRECTORY SPEC_FILE") }
let directory = arguments.first!, specPath = arguments.last!

for vector in TestVector.all {
    let path = directory + "/" + vector.name + ".hex"
    do {
        try vector.annotatedFile.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        fail("cannot write \(path): \(error)")
    }
}

guard let spec = try? String(contentsOfFile: specPath, encoding: .utf8) else { fail("cannot read \(specPath)") }
let byName = Dictionary(uniqueKeysWithValues: TestVector.all.map { ($0.name, $0) })
do {
    let refreshed = try SpecQuotes.refresh(spec) { name in byName[name]?.annotatedFile }
    try refreshed.write(toFile: specPath, atomically: true, encoding: .utf8)
} catch {
    fail("\(specPath): \(error)")
}
print("wrote \(TestVector.all.count) vectors to \(directory) and refreshed the examples in \(specPath)")
