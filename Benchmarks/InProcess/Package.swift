// swift-tools-version:6.1
// In-process benchmarks with package-benchmark: `swift package benchmark` from this directory.
// A separate package so the daemon's own build and test stay free of the benchmark harness.
import PackageDescription

let package = Package(
    name: "TesseraInProcessBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Tessera", path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "TesseraBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TesseraCore", package: "Tessera"),
                .product(name: "LMDBKit", package: "Tessera"),
                .product(name: "SodiumKit", package: "Tessera"),
                .product(name: "TesseraProtocol", package: "Tessera"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/TesseraBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
