import ArgumentParser
import Foundation
import LMDBKit
import SodiumKit
@_spi(TesseraInternal) import TesseraCore

/// Verify in process against its floors, side by side, in one run.
struct InProcess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "in-process",
        abstract:
            "Tessera's verify against the keyed-hash + LMDB-get floor on the same records, interleaved rounds; prints the ratio.",
        discussion: """
            Session verify reads the in-memory session index (filled when the store opens; the run             starts once it is complete), so its goal is 3x the floor's throughput. API-key verify             reads LMDB like the floor, so its goal is 0.90.
            """)
    @Option(help: "Data directory seeded by 'seed' (no daemon running on it).") var data: String
    @Option(name: .customLong("master-key"), help: "Master key file (default: tessera-master.key beside the data directory).")
    var masterKey: String?
    @Option(help: "Token file written by 'seed'.") var tokens: String
    @Option(help: "Lookups per round.") var lookups: Int = 200_000
    @Option(help: "Rounds (each runs every variant once).") var rounds: Int = 5
    @Option(name: .customLong("api-keys"), help: "API key file written by 'seed --api-key-file': also measure API-key verify against its floor.")
    var apiKeys: String?

    func run() async throws {
        let texts = try String(contentsOfFile: tokens, encoding: .utf8).split(separator: "\n").map(String.init)
        let store = try openStore(data: data, masterKey: masterKey)
        let configuration = AuthConfiguration()
        let hashingPool = HashingPool(configuration)
        let service = AuthService(store: store, configuration: configuration, hashingPool: hashingPool)
        defer {
            hashingPool.shutdown()
            store.close()
        }
        await store.waitForSessionIndex()
        let sessions = store.benchmarkEnvironment
        let db = try sessions.openDatabases(["sessions"])[0]
        var rng = SystemRandomNumberGenerator()
        let picks = (0..<lookups).map { _ in Int.random(in: 0..<texts.count, using: &rng) }
        let utf8 = picks.map { Array(texts[$0].utf8) }
        let (secrets, ids) = Self.secretsAndIDs(utf8)
        // API keys: the same floor (keyed hash + LMDB get) on their own records.
        let keyTexts = try apiKeys.map { try String(contentsOfFile: $0, encoding: .utf8).split(separator: "\n").map(String.init) } ?? []
        let apiDB = try sessions.openDatabases(["api_keys"])[0]
        let keyUTF8 = keyTexts.isEmpty ? [] : (0..<lookups).map { _ in Array(keyTexts[Int.random(in: 0..<keyTexts.count, using: &rng)].utf8) }
        let (keySecrets, keyIDs) = Self.secretsAndIDs(keyUTF8.map { Array($0.dropFirst(4)) })
        let keyBytes = store.benchmarkActiveKeyMaterial
        let now = SystemClock().now()

        var best: [String: Double] = [:]
        func measure(_ name: String, _ body: () throws -> Int) rethrows {
            let start = DispatchTime.now().uptimeNanoseconds
            let checked = try body()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
            precondition(checked == lookups, "\(name): only \(checked) of \(lookups) lookups succeeded")
            best[name] = min(best[name] ?? .infinity, elapsed / Double(lookups))
        }
        var digest = [UInt8](repeating: 0, count: 32)
        /// The floor: the keyed hash of each secret, then one LMDB get of its record in `db`.
        func floor(_ secrets: [[UInt8]], _ ids: [[UInt8]], _ db: Database) throws -> Int {
            var n = 0
            for (s, id) in zip(secrets, ids) {
                s.withUnsafeBytes { sb in
                    keyBytes.withUnsafeBytes { kb in digest.withUnsafeMutableBytes { KeyedHash.blake2b(sb, key: kb, into: $0) } }
                }
                n +=
                    try sessions.read { txn in
                        try id.withUnsafeBytes { try txn.withValue(forKey: $0, in: db) { $0.count > Int(digest[0] & 0) ? 1 : 0 } }
                    } ?? 0
            }
            return n
        }
        for _ in 0..<rounds {
            measure("hash") {
                var n = 0
                for s in secrets {
                    s.withUnsafeBytes { sb in
                        keyBytes.withUnsafeBytes { kb in digest.withUnsafeMutableBytes { KeyedHash.blake2b(sb, key: kb, into: $0) } }
                    }
                    n += Int(digest[0] & 0) + 1
                }
                return n
            }
            measure("one-block hash") {
                var n = 0
                for s in secrets {
                    s.withUnsafeBytes { sb in
                        keyBytes.withUnsafeBytes { kb in digest.withUnsafeMutableBytes { KeyedHash.blake2bOneBlock(sb, key: kb, into: $0) } }
                    }
                    n += Int(digest[0] & 0) + 1
                }
                return n
            }
            try measure("lmdb") {
                var n = 0
                for id in ids {
                    n += try sessions.read { txn in try id.withUnsafeBytes { try txn.withValue(forKey: $0, in: db) { $0.count > 0 ? 1 : 0 } } } ?? 0
                }
                return n
            }
            try measure("hash+lmdb") { try floor(secrets, ids, db) }
            measure("parse") {
                var n = 0
                for token in utf8 { n += token.withUnsafeBytes { SessionToken.parse($0) != nil ? 1 : 0 } }
                return n
            }
            try measure("verify") {
                var n = 0
                for token in utf8 {
                    n += try token.withUnsafeBytes { bytes in
                        try service.verification.withSnapshot { snapshot in try snapshot.verify(token: bytes, now: now).userID > 0 ? 1 : 0 }
                    }
                }
                return n
            }
            guard !keyUTF8.isEmpty else { continue }
            try measure("api hash+lmdb") { try floor(keySecrets, keyIDs, apiDB) }
            try measure("api verify") {
                var n = 0
                for key in keyUTF8 {
                    n += try key.withUnsafeBytes { bytes in
                        try service.verification.withSnapshot { snapshot in
                            let verified = try snapshot.verify(token: bytes, now: now)
                            return verified.isAPIKey ? 1 : 0
                        }
                    }
                }
                return n
            }
        }
        let floor = best["hash+lmdb"]!
        print(String(format: "keyed BLAKE2b-256:        %7.0f ns", best["hash"]!))
        print(String(format: "one-block BLAKE2b-256:    %7.0f ns (the digest of keys made since)", best["one-block hash"]!))
        print(String(format: "LMDB renew+get+reset:     %7.0f ns", best["lmdb"]!))
        print(String(format: "floor hash + LMDB get:    %7.0f ns", floor))
        print(String(format: "token parse (Base64url):  %7.0f ns", best["parse"]!))
        print(String(format: "Tessera verify:           %7.0f ns", best["verify"]!))
        print(
            String(
                format: "verify throughput / floor throughput = %.2f (goal >= 3.00), %d records, best of %d rounds",
                floor / best["verify"]!, texts.count, rounds))
        if let apiFloor = best["api hash+lmdb"], let apiVerify = best["api verify"] {
            print(String(format: "API key floor hash + get: %7.0f ns", apiFloor))
            print(String(format: "Tessera API-key verify:   %7.0f ns", apiVerify))
            print(
                String(
                    format: "API-key verify throughput / floor throughput = %.2f (goal >= 0.90), %d keys, best of %d rounds",
                    apiFloor / apiVerify, keyTexts.count, rounds))
        }
    }

    /// Each token's secret (bytes 19..<51 of the decoded token) and id (bytes 3..<19).
    static func secretsAndIDs(_ tokens: [[UInt8]]) -> ([[UInt8]], [[UInt8]]) {
        let decoded: [[UInt8]] = tokens.map { token in
            var out = [UInt8](repeating: 0, count: 51)
            var text = token
            _ = text.withUnsafeMutableBytes { t in out.withUnsafeMutableBytes { Base64URL.decode(UnsafeRawBufferPointer(t), into: $0) } }
            return out
        }
        return (decoded.map { Array($0[19..<51]) }, decoded.map { Array($0[3..<19]) })
    }
}
