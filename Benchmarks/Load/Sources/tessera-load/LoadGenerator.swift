import ArgumentParser
import Foundation
import LMDBKit
import NIOCore
import NIOPosix
import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraProtocol

@main
struct LoadGenerator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera-load",
        abstract: "Load generator and floor measurements for Tessera and Redis (see Benchmarks/README.md).",
        subcommands: [
            Seed.self, Run.self, InProcess.self, RedisLoad.self, Argon2Floor.self, WriteFloor.self, FirstVerify.self, TransportFloor.self,
            ClientVerify.self,
        ])
}

/// The master key of a data directory: `--master-key`, or `tessera-master.key` beside the
/// data directory (where `tesserad` looks when its socket is beside it too).
func openStore(data: String, masterKey: String?) throws -> TesseraStore {
    let parent = data.contains("/") ? String(data[...data.lastIndex(of: "/")!]) : ""
    let path = masterKey ?? parent + "tessera-master.key"
    return try TesseraStore(directory: data, masterKey: try MasterKeyFile.loadOrCreate(path: path, data: data).key)
}

/// The user every seeded session belongs to.
enum BenchUser {
    static let username = "bench"
    static let password = "bench-password-1"
}

// MARK: seed

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create the bench user and N sessions in a data directory (no daemon running); write the tokens to a file.")
    @Option(help: "Data directory.") var data: String
    @Option(name: .customLong("master-key"), help: "Master key file (default: tessera-master.key beside the data directory).")
    var masterKey: String?
    @Option(help: "Sessions to create.") var sessions: Int = 1_000_000
    @Option(help: "File receiving one token per line.") var tokens: String
    @Option(name: .customLong("api-keys"), help: "API keys to create too (for the API-key verify benchmark).") var apiKeys = 0
    @Option(name: .customLong("api-key-file"), help: "File receiving one API key per line (with --api-keys).") var apiKeyFile: String?
    @Option(name: .customLong("argon2-ops")) var argon2Ops: UInt64 = PasswordHasher.interactive.opsLimit
    @Option(name: .customLong("argon2-mem-kib")) var argon2MemKiB: Int = PasswordHasher.interactive.memLimit / 1024

    func run() async throws {
        let started = Date()
        let store = try openStore(data: data, masterKey: masterKey)
        var configuration = AuthConfiguration()
        configuration.passwordHasher = PasswordHasher(opsLimit: argon2Ops, memLimit: argon2MemKiB * 1024)
        configuration.minimumPasswordLength = 1
        let hashingPool = HashingPool(configuration)
        let service = AuthService(store: store, configuration: configuration, hashingPool: hashingPool)
        let user: UserProfile
        if let existing = try? service.accounts.user(.username(BenchUser.username)) {
            user = existing
        } else {
            var password = Array(BenchUser.password.utf8)
            user = try await service.accounts.createUser(
                NewUser(username: BenchUser.username, password: SecretBytes(wiping: &password), roles: ["bench"]))
        }
        _ = FileManager.default.createFile(atPath: tokens, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tokens))
        var chunk = ""
        try store.bulkLoadSessions(count: sessions, userID: user.id, lifetimeSeconds: 7 * 24 * 3600, clock: SystemClock()) { token in
            chunk += token
            chunk += "\n"
            if chunk.utf8.count > 1 << 20 {
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        handle.write(Data(chunk.utf8))
        try handle.close()
        if apiKeys > 0 {
            guard let apiKeyFile else { throw ValidationError("--api-keys needs --api-key-file") }
            var lines = ""
            try store.bulkLoadAPIKeys(count: apiKeys, userID: user.id, clock: SystemClock()) { key in
                lines += key
                lines += "\n"
            }
            try lines.write(toFile: apiKeyFile, atomically: true, encoding: .utf8)
        }
        hashingPool.shutdown()
        store.close()
        print(
            "seeded \(sessions) sessions and \(apiKeys) API keys for user \(user.id) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s"
        )
    }
}

// MARK: run

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Closed-loop load: C connections with D requests in flight each; prints throughput and latency percentiles.")
    @Option(help: "Target: tessera or redis.") var target: String = "tessera"
    @Option(help: "Unix socket of the target.") var socket: String
    @Option(help: "Token file written by 'seed'.") var tokens: String
    @Option(name: .shortAndLong, help: "Connections.") var connections: Int = 1
    @Option(name: .shortAndLong, help: "Requests in flight per connection.") var depth: Int = 1
    @Option(help: "Seconds to run.") var seconds: Double = 10
    @Option(help: "Operation mix for tessera, e.g. verify:90,login:10 (verify, login, logout).") var mix: String = "verify:100"
    @Option(help: "Tokens reserved for logout, taken from the end of the token file.") var logoutTokens: Int = 0
    @Option(help: "Event-loop threads of the generator.") var threads: Int = 1
    @Option(help: "Expected user id in verify replies.") var userID: UInt64 = 1
    @Option(help: "Label for the result line.") var label: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() async throws {
        let all = try String(contentsOfFile: tokens, encoding: .utf8).split(separator: "\n").map(String.init)
        guard !all.isEmpty else { throw ValidationError("no tokens in \(tokens)") }
        let logout = Array(all.suffix(logoutTokens))
        let verify = Array(all.prefix(all.count - logoutTokens))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let result =
            try await target == "redis"
            ? runRedis(group: group, tokens: verify)
            : runTessera(group: group, verify: verify, logout: logout)
        try? await group.shutdownGracefully()
        let (stats, elapsed) = result
        Report.print(label: label ?? "\(target) \(connections)x\(depth)", stats: stats, elapsed: elapsed, json: json)
        if stats.values.contains(where: { $0.failed > 0 }) { throw ExitCode(2) }
    }

    private func parseMix() throws -> [(LoadOperation, Int)] {
        try mix.split(separator: ",").map { part in
            let pieces = part.split(separator: ":")
            guard pieces.count == 2, let op = LoadOperation(rawValue: String(pieces[0])), let weight = Int(pieces[1]) else {
                throw ValidationError("bad --mix entry '\(part)'")
            }
            return (op, weight)
        }
    }

    private func runTessera(
        group: MultiThreadedEventLoopGroup, verify: [String], logout: [String]
    ) async throws -> ([LoadOperation: OperationStats], Double) {
        let workload = TesseraWorkload(
            verifyTokens: verify.isEmpty ? logout : verify, logoutTokens: logout, expectedUserID: userID,
            username: BenchUser.username, password: Array(BenchUser.password.utf8), mix: try parseMix())
        let cursor = Cursor()
        var handlers: [(any Channel, TesseraLoadHandler)] = []
        let started = Clock.nanoseconds()
        for index in 0..<connections {
            let loop = group.next()
            let done = loop.makePromise(of: Void.self)
            let boxed = try await loop.submit {
                UncheckedBox(
                    TesseraLoadHandler(
                        workload: workload, depth: depth, seed: UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15,
                        logoutCursor: cursor, done: done))
            }.get()
            let handler = boxed.value
            let channel = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumLength: 1 << 20)))
                        try channel.pipeline.syncOperations.addHandler(boxed.value)
                    }
                }
                .connect(unixDomainSocketPath: socket).get()
            handlers.append((channel, handler))
        }
        // Refresh chains log in first (argon2id); the measured interval starts once every
        // chain holds its refresh token, so the logins' seconds do not dilute the refresh rate.
        var measuredFrom = started
        if workload.operations.contains(where: { $0.0 == .refresh }) {
            while true {
                var warm = true
                for (channel, handler) in handlers {
                    let boxed = UncheckedBox(handler)
                    warm = try await channel.eventLoop.submit { boxed.value.isWarm }.get() && warm
                }
                if warm { break }
                try await Task.sleep(nanoseconds: 10_000_000)
            }
            for (channel, handler) in handlers {
                let boxed = UncheckedBox(handler)
                try await channel.eventLoop.submit { boxed.value.resetStatistics() }.get()
            }
            measuredFrom = Clock.nanoseconds()
        }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        let stopAt = Clock.nanoseconds()
        var lastReply = measuredFrom
        var merged: [LoadOperation: OperationStats] = [:]
        for (channel, handler) in handlers {
            let boxed = UncheckedBox(handler)
            try await channel.eventLoop.submit {
                boxed.value.stop(context: try channel.pipeline.syncOperations.context(handler: boxed.value))
            }.get()
            _ = try? await handler.done.futureResult.get()
            let (stats, last) = try await channel.eventLoop.submit { UncheckedBox((boxed.value.stats, boxed.value.lastReplyAt)) }.get().value
            for (op, s) in stats { merged[op, default: .init()].merge(s) }
            lastReply = max(lastReply, last)
            try? await channel.close()
        }
        _ = stopAt
        return (merged, Double(lastReply - measuredFrom) / 1e9)
    }

    private func runRedis(group: MultiThreadedEventLoopGroup, tokens: [String]) async throws -> ([LoadOperation: OperationStats], Double) {
        var handlers: [(any Channel, RedisLoadHandler)] = []
        let started = Clock.nanoseconds()
        for index in 0..<connections {
            let loop = group.next()
            let done = loop.makePromise(of: Void.self)
            let boxed = try await loop.submit {
                UncheckedBox(RedisLoadHandler(tokens: tokens, depth: depth, seed: UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15, done: done))
            }.get()
            let handler = boxed.value
            let channel = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(boxed.value) }
                }
                .connect(unixDomainSocketPath: socket).get()
            handlers.append((channel, handler))
        }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        let stopAt = Clock.nanoseconds()
        var lastReply = started
        var merged = OperationStats()
        for (channel, handler) in handlers {
            let boxed = UncheckedBox(handler)
            try await channel.eventLoop.submit {
                boxed.value.stop(context: try channel.pipeline.syncOperations.context(handler: boxed.value))
            }.get()
            _ = try? await handler.done.futureResult.get()
            let (stats, last) = try await channel.eventLoop.submit { UncheckedBox((boxed.value.stats, boxed.value.lastReplyAt)) }.get().value
            merged.merge(stats)
            lastReply = max(lastReply, last)
            try? await channel.close()
        }
        _ = stopAt
        return ([.redisGet: merged], Double(lastReply - started) / 1e9)
    }
}

/// Moves a non-Sendable value to its event loop; only touched there.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

enum Report {
    static func print(label: String, stats: [LoadOperation: OperationStats], elapsed: Double, json: Bool) {
        for (op, s) in stats.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let rate = Double(s.completed) / elapsed
            if json {
                let object: [String: Any] = [
                    "label": label, "op": op.rawValue, "ops_per_sec": rate, "completed": s.completed, "failed": s.failed,
                    "p50_us": s.microseconds(50), "p99_us": s.microseconds(99), "p999_us": s.microseconds(99.9),
                ]
                let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                Swift.print(String(decoding: data, as: UTF8.self))
            } else {
                Swift.print(
                    String(
                        format: "%@ %@: %.0f ops/s, p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, %d ok, %d failed", label, op.rawValue, rate,
                        s.microseconds(50), s.microseconds(99), s.microseconds(99.9), s.completed, s.failed)
                        + (s.firstFailure.map { " (first failure: \($0))" } ?? ""))
            }
        }
    }
}
