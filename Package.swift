// swift-tools-version:6.1
import Foundation
import PackageDescription

let package = Package(
    name: "Tessera",
    // Linux only: the daemon is built on epoll, eventfd, SO_PEERCRED and /proc; no Apple platform
    // is declared, built or tested.
    products: [
        .executable(name: "tesserad", targets: ["tesserad"]),
        .executable(name: "tessera", targets: ["tessera"]),
        .executable(name: "tessera-gateway", targets: ["tessera-gateway"]),
        // The socket load generator and the floor measurements (Benchmarks/compare.sh).
        .executable(name: "tessera-load", targets: ["tessera-load"]),
        .library(name: "TesseraClient", targets: ["TesseraClient"]),
        .library(name: "TesseraProtocol", targets: ["TesseraProtocol"]),
        .library(name: "TesseraModel", targets: ["TesseraModel"]),
        .library(name: "TesseraCore", targets: ["TesseraCore"]),
        // For the in-process benchmarks, which measure the storage and hashing floors.
        .library(name: "LMDBKit", targets: ["LMDBKit"]),
        .library(name: "SodiumKit", targets: ["SodiumKit"]),
        // For the fuzzer (Fuzz/), which builds with libFuzzer and AddressSanitizer.
        .library(name: "FuzzTargets", targets: ["FuzzTargets"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // tessera import unleash reads Unleash's PostgreSQL database; swift-crypto's HMAC checks
        // its signed session cookies (the importer and the gateway).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        // tessera-load's latency histograms.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // `swift package generate-documentation`: CI builds the client's DocC catalog, warnings as errors.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C libraries: each is imported by exactly one Swift module.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt", providers: [.apt(["libcrypt-dev"])]),

        // The names the domain and the client share (session and API key ids, account states,
        // hexadecimal): no dependencies; the client re-exports it.
        .target(name: "TesseraModel"),

        // Storage: the only importer of CLMDB.
        // A value behind a pthread mutex, which ThreadSanitizer understands (see Locked.swift).
        .target(name: "Locking"),
        .target(name: "LMDBKit", dependencies: ["CLMDB", "Locking"]),
        // Cryptography: the only importer of CSodium.
        .target(name: "SodiumKit", dependencies: ["CSodium"]),
        // The crypt(3) family of password hashes other systems store (bcrypt, sha512crypt,
        // yescrypt), checked by libxcrypt: the only importer of CCrypt.
        .target(name: "CryptKit", dependencies: ["CCrypt"]),
        // The daemon's inherited descriptors, marked close-on-exec at start: imported by tesserad alone.
        .target(name: "CDescriptors"),
        // epoll, eventfd, accept4 (shedding at the descriptor limit) and SO_PEERCRED for the
        // server's socket loop: imported by TesseraServer alone.
        .target(name: "CEventPoll"),
        // Wire protocol: frames and message codecs over ByteBuffer, no I/O.
        .target(
            name: "TesseraProtocol",
            dependencies: [
                "TesseraModel",
                .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Domain: users, sessions, tokens, records on LMDBKit, hashing on SodiumKit.
        .target(
            name: "TesseraCore",
            dependencies: [
                "TesseraModel", "LMDBKit", "SodiumKit", "CryptKit", "Locking",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // The Unix-socket server: its own epoll loop (CEventPoll), NIOCore's ByteBuffer for bytes.
        .target(
            name: "TesseraServer",
            dependencies: [
                "TesseraModel", "TesseraCore", "TesseraProtocol", "SodiumKit", "Locking", "CEventPoll",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The async client library that web processes link.
        .target(
            name: "TesseraClient",
            dependencies: [
                "TesseraModel", "TesseraProtocol", "Locking",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .executableTarget(
            name: "tesserad",
            dependencies: [
                "CDescriptors",
                "TesseraServer", "TesseraCore", "LMDBKit", "SodiumKit",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "tessera",
            dependencies: [
                "TesseraClient", "TesseraModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // The five login APIs over TesseraClient, served by Hummingbird: the reference integration.
        .executableTarget(
            name: "tessera-gateway",
            dependencies: [
                "TesseraClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                // NIOSingletons' takeover of Swift's global executor: handlers run on the event loops.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),

        // The benchmarks' load generator and floors (Benchmarks/Load): clients for tesserad and
        // Redis, verify in process, the transport floor. CEpoll is its own accept4, imported by
        // tessera-load alone.
        .target(name: "CEpoll", path: "Benchmarks/Load/Sources/CEpoll"),
        .executableTarget(
            name: "tessera-load",
            dependencies: [
                "CEpoll", "TesseraModel", "TesseraProtocol", "TesseraCore", "LMDBKit", "SodiumKit", "TesseraClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ], path: "Benchmarks/Load/Sources/tessera-load"),

        // The protocol's byte-exact vectors: the catalog, and the generator of Protocol/vectors/.
        .target(
            name: "ProtocolVectors",
            dependencies: [
                "TesseraModel", "TesseraProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
            ], path: "Protocol/Sources/ProtocolVectors"),
        .executableTarget(name: "tessera-vectors", dependencies: ["ProtocolVectors"], path: "Protocol/Sources/tessera-vectors"),

        // What the fuzzer feeds each decoder: the frame decoder, every message, every stored
        // record, the importers' JSON reader.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "TesseraProtocol", "TesseraCore", "TesseraModel", "ProtocolVectors",
                .product(name: "NIOCore", package: "swift-nio"),
            ]),

        // What the test targets share: temporary directories, the process launcher.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TesseraModelTests", dependencies: ["TesseraModel"]),
        .testTarget(name: "LMDBKitTests", dependencies: ["LMDBKit", "Locking", "TestSupport"]),
        .testTarget(name: "SodiumKitTests", dependencies: ["SodiumKit"]),
        .testTarget(
            name: "TesseraProtocolTests",
            dependencies: [
                "TesseraModel", "TesseraProtocol", "ProtocolVectors",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]),
        .testTarget(name: "TesseraCoreTests", dependencies: ["TestSupport", "TesseraModel", "TesseraCore", "LMDBKit", "SodiumKit", "Locking"]),
        // Replays the fuzzing corpus (Fuzz/corpus): every input found stays a test.
        .testTarget(name: "FuzzCorpusTests", dependencies: ["FuzzTargets"]),
        .testTarget(
            name: "TesseraServerTests",
            dependencies: [
                "TesseraServer", "TesseraCore", "TesseraModel", "TesseraProtocol", "Locking", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "TesseraClientTests",
            dependencies: [
                "TesseraClient", "TesseraProtocol", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        // Links TesseraClient alone: the README's client snippet and the DocC examples compile
        // against the public API, which needs nothing of the wire.
        .testTarget(name: "ClientAPITests", dependencies: ["TesseraClient"]),
        // The gateway's pure pieces (its JSON writer, header parsing), without a server.
        .testTarget(name: "GatewayTests", dependencies: ["tessera-gateway"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TesseraClient", "TesseraProtocol", "Locking", "TestSupport", "tesserad", "tessera", "tessera-gateway",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
    ]
)

// Every module names what it imports, and existential types are spelled `any`. CI builds with
// TESSERA_STRICT=1: a warning in the project's own code fails the build.
let strict = ProcessInfo.processInfo.environment["TESSERA_STRICT"] == "1"
for target in package.targets where target.type != .system {
    target.swiftSettings =
        (target.swiftSettings ?? []) + [
            .enableUpcomingFeature("MemberImportVisibility"),
            .enableUpcomingFeature("ExistentialAny"),
        ] + (strict ? [.unsafeFlags(["-warnings-as-errors"])] : [])
}
