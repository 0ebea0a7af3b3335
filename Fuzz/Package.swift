// swift-tools-version:6.1
// The libFuzzer harness over Tessera's decoders (frames, messages, stored records). Built with
// `-sanitize=fuzzer,address` by `scripts/fuzz`; a separate package so the main build stays
// free of sanitizer flags. The corpus in Fuzz/corpus is replayed by `swift test`.
import PackageDescription

let package = Package(
    name: "TesseraFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Tessera", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "tessera-fuzz",
            dependencies: [.product(name: "FuzzTargets", package: "Tessera")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])])
    ]
)
