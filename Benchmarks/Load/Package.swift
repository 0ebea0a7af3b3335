// swift-tools-version:6.1
// The socket load generator and the floor measurements (`tessera-load`), used by
// `Benchmarks/compare.sh` and `Benchmarks/smoke.sh`. A separate package so the daemon's own
// build and test stay free of the load generator and its histogram dependency.
import PackageDescription

let package = Package(
    name: "TesseraLoad",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Tessera", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .target(name: "CEpoll"),
        .executableTarget(
            name: "tessera-load",
            dependencies: [
                .product(name: "TesseraProtocol", package: "Tessera"),
                .product(name: "TesseraCore", package: "Tessera"),
                .product(name: "TesseraModel", package: "Tessera"),
                .product(name: "LMDBKit", package: "Tessera"),
                .product(name: "SodiumKit", package: "Tessera"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                "CEpoll",
            ],
            swiftSettings: [
                .enableUpcomingFeature("MemberImportVisibility"),
                .enableUpcomingFeature("ExistentialAny"),
            ]),
    ]
)
