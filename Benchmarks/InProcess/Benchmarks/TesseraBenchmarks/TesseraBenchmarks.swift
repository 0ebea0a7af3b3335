import Benchmark
import Foundation
import LMDBKit
import NIOCore
import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraProtocol

/// The verify path and its floors over one data set (TESSERA_BENCH_SESSIONS sessions, default
/// 1,000,000, seeded once into /tmp and reused; TESSERA_BENCH_SECONDS per benchmark, default 3): the keyed hash alone, the LMDB read alone, the
/// two together, then Tessera's verify on the same tokens; plus the codec and argon2id.
let benchmarks: @Sendable () -> Void = {
    let sessions = Int(ProcessInfo.processInfo.environment["TESSERA_BENCH_SESSIONS"] ?? "") ?? 1_000_000
    let fixture = try! Fixture(sessions: sessions)
    let seconds = Int(ProcessInfo.processInfo.environment["TESSERA_BENCH_SECONDS"] ?? "") ?? 3
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(seconds))

    Benchmark("floor: keyed BLAKE2b-256 of a token secret") { benchmark in
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        for i in benchmark.scaledIterations {
            fixture.secrets[fixture.next(i)].withUnsafeBytes { s in
                fixture.key.withUnsafeBytes { k in withUnsafeMutableBytes(of: &digest) { KeyedHash.blake2b(s, key: k, into: $0) } }
            }
            blackHole(digest)
        }
    }
    Benchmark("floor: LMDB renew + get + reset of a session record") { benchmark in
        for i in benchmark.scaledIterations {
            let found = try fixture.ids[fixture.next(i)].withUnsafeBytes { id in
                try fixture.environment.read { try $0.withValue(forKey: id, in: fixture.sessions) { $0.count } }
            }
            blackHole(found)
        }
    }
    Benchmark("floor: hash + LMDB get") { benchmark in
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        for i in benchmark.scaledIterations {
            let n = fixture.next(i)
            fixture.secrets[n].withUnsafeBytes { s in
                fixture.key.withUnsafeBytes { k in withUnsafeMutableBytes(of: &digest) { KeyedHash.blake2b(s, key: k, into: $0) } }
            }
            let found = try fixture.ids[n].withUnsafeBytes { id in
                try fixture.environment.read { try $0.withValue(forKey: id, in: fixture.sessions) { $0.count } }
            }
            blackHole((digest, found))
        }
    }
    Benchmark("Tessera verify") { benchmark in
        let now = SystemClock().now()
        for i in benchmark.scaledIterations {
            let user = try fixture.tokens[fixture.next(i)].withUnsafeBytes { token in
                try fixture.service.verification.withSnapshot { try $0.verify(token: token, now: now).userID }
            }
            blackHole(user)
        }
    }
    Benchmark("Tessera API-key verify") { benchmark in
        let now = SystemClock().now()
        for i in benchmark.scaledIterations {
            let user = try fixture.apiKeys[i % fixture.apiKeys.count].withUnsafeBytes { key in
                try fixture.service.verification.withSnapshot { try $0.verify(token: key, now: now).userID }
            }
            blackHole(user)
        }
    }
    Benchmark("codec: decode a verify request, encode its reply") { benchmark in
        var request = ByteBuffer()
        try request.writeFrame(opcode: Opcode.verify.rawValue, requestID: 7) {
            try VerifyRequest(token: String(decoding: fixture.tokens[0], as: UTF8.self)).encode(into: &$0)
        }
        let role: [UInt8] = Array("admin".utf8)
        var out = ByteBuffer()
        out.reserveCapacity(1 << 16)
        // Setup above is per sample; only the loop is measured (allocations included).
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var input = request
            let frame = try FrameDecoder.decodeFrame(from: &input, maximumLength: 16384)!
            let token = try VerifyRequest.fields(in: frame.body).token
            out.clear()
            _ = VerifyResponse.writeSessionReply(
                opcode: frame.opcode, requestID: frame.requestID, userID: 1, sessionID: (1, 2), expiresAt: 1_767_312_000_000,
                forEachRole: { role.withUnsafeBytes($0) }, into: &out)
            blackHole((token.readableBytes, out.readableBytes))
        }
    }
    Benchmark("codec: encode a LOGIN or REFRESH reply (the schema encoder, a nested USER)") { benchmark in
        var user = UserInfo(id: 1, username: "bench", email: "bench@example.com", createdAt: 1_767_312_000_000, roles: ["user"])
        user.lastLoginAt = 1_767_312_000_000
        let reply = LoginResponse(
            token: String(decoding: fixture.tokens[0], as: UTF8.self), sessionID: Array(repeating: 7, count: 16),
            expiresAt: 1_767_312_900_000, user: user, refreshToken: String(decoding: fixture.tokens[1], as: UTF8.self),
            refreshExpiresAt: 1_769_904_000_000)
        var out = ByteBuffer()
        out.reserveCapacity(1 << 16)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            out.clear()
            try reply.encode(into: &out)
            blackHole(out.readableBytes)
        }
    }
    Benchmark("argon2id verify, libsodium INTERACTIVE", configuration: .init(maxDuration: .seconds(seconds), maxIterations: 20)) { benchmark in
        let hasher = PasswordHasher.interactive
        var bytes = Array("bench-password-1".utf8)
        let password = SecretBytes(wiping: &bytes)
        let hash = try hasher.hash(password)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(hasher.verify(password, against: hash)) }
    }
}

/// A seeded store and its tokens, reused between runs.
final class Fixture: @unchecked Sendable {
    let environment: Environment
    let service: AuthService
    let sessions: Database
    let key: [UInt8]
    let tokens: [[UInt8]]
    let secrets: [[UInt8]]
    let ids: [[UInt8]]
    /// API keys of the same user (a tenth as many as sessions), for the API-key verify.
    let apiKeys: [[UInt8]]
    var count: Int { tokens.count }
    private var cursor = 0

    /// A different record on every call (each sample runs a single iteration, so the
    /// iteration number alone would hit one record over and over).
    func next(_ iteration: Int) -> Int {
        cursor = (cursor &+ 1 &+ iteration) % tokens.count
        return cursor
    }

    init(sessions count: Int) throws {
        let directory = NSTemporaryDirectory() + "tessera-inprocess-\(count)"
        let (tokenFile, keyFile, apiKeyFile) = (directory + ".tokens", directory + ".master.key", directory + ".apikeys")
        func open() throws -> TesseraStore {
            try TesseraStore(directory: directory, masterKey: try MasterKeyFile.loadOrCreate(path: keyFile, data: directory).key)
        }
        var seeded = [tokenFile, keyFile, apiKeyFile].allSatisfy { FileManager.default.fileExists(atPath: $0) }
        // A data set left by another build may not open with this one: seed it again.
        var existing = seeded ? try? open() : nil
        if existing == nil {
            seeded = false
            for path in [directory, tokenFile, keyFile, apiKeyFile] { try? FileManager.default.removeItem(atPath: path) }
            existing = try open()
        }
        let store = existing!
        var configuration = AuthConfiguration()
        configuration.passwordHasher = PasswordHasher(opsLimit: 1, memLimit: 64 * 1024)
        service = AuthService(store: store, configuration: configuration, hashingPool: HashingPool(configuration))
        if !seeded {
            var bytes = Array("bench-password-1".utf8)
            let password = SecretBytes(wiping: &bytes)
            let service = self.service
            let user = try blockingAwait { try await service.accounts.createUser(NewUser(username: "bench", password: password)) }
            var lines: [String] = []
            lines.reserveCapacity(count)
            try store.bulkLoadSessions(count: count, userID: user.id, lifetimeSeconds: 30 * 24 * 3600, clock: SystemClock()) { lines.append($0) }
            try lines.joined(separator: "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
            var keys: [String] = []
            try store.bulkLoadAPIKeys(count: max(1, count / 10), userID: user.id, clock: SystemClock()) { keys.append($0) }
            try keys.joined(separator: "\n").write(toFile: apiKeyFile, atomically: true, encoding: .utf8)
        }
        apiKeys = try String(contentsOfFile: apiKeyFile, encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }.shuffled()
        let texts = try String(contentsOfFile: tokenFile, encoding: .utf8).split(separator: "\n").map(String.init).shuffled()
        environment = store.benchmarkEnvironment
        self.sessions = try environment.openDatabases(["sessions"])[0]
        key = store.benchmarkActiveKeyMaterial
        tokens = texts.map { Array($0.utf8) }
        var secrets: [[UInt8]] = [], ids: [[UInt8]] = []
        for text in tokens {
            var raw = [UInt8](repeating: 0, count: 51)
            _ = text.withUnsafeBytes { t in raw.withUnsafeMutableBytes { Base64URL.decode(t, into: $0) } }
            ids.append(Array(raw[3..<19]))
            secrets.append(Array(raw[19..<51]))
        }
        self.secrets = secrets
        self.ids = ids
    }
}

/// Runs async set-up code from the synchronous benchmark registration.
func blockingAwait<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, Error>!
    Task {
        do { result = .success(try await body()) } catch { result = .failure(error) }
        semaphore.signal()
    }
    semaphore.wait()
    return try result.get()
}
