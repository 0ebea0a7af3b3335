import ArgumentParser
import Foundation
import LMDBKit
import SodiumKit

// MARK: redis-load

struct RedisLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-load",
        abstract: "SET session:<token> for every token (pipelined), the value a JSON session record (RedisSessionValue).")
    @Option(help: "Redis Unix socket.") var socket: String
    @Option(help: "Token file.") var tokens: String

    func run() async throws {
        let all = try String(contentsOfFile: tokens, encoding: .utf8).split(separator: "\n")
        let connection = try BlockingSocket(path: socket)
        var index = 0
        while index < all.count {
            let end = min(index + 10_000, all.count)
            var batch = ""
            for token in all[index..<end] {
                let value: String = RedisSessionValue.value(for: token)
                let length = String(RedisSessionValue.length)
                batch += "*3\r\n$3\r\nSET\r\n$76\r\nsession:" + String(token) + "\r\n$" + length + "\r\n" + value + "\r\n"
            }
            try connection.send(Array(batch.utf8))
            try connection.expect(count: end - index, reply: Array("+OK\r\n".utf8))
            index = end
        }
        print("loaded \(all.count) keys into redis")
    }
}

// MARK: floors

struct Argon2Floor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "floor-argon2", abstract: "Raw crypto_pwhash_str_verify rate on T threads.")
    @Option var threads: Int = 2
    @Option var seconds: Double = 5
    @Option(name: .customLong("argon2-ops")) var argon2Ops: UInt64 = PasswordHasher.interactive.opsLimit
    @Option(name: .customLong("argon2-mem-kib")) var argon2MemKiB: Int = PasswordHasher.interactive.memLimit / 1024

    func run() async throws {
        let hasher = PasswordHasher(opsLimit: argon2Ops, memLimit: argon2MemKiB * 1024)
        var bytes = Array("bench-password-1".utf8)
        let password = SecretBytes(wiping: &bytes)
        let hash = try hasher.hash(password)
        let deadline = Date().addingTimeInterval(seconds)
        let buffer = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
        buffer.initialize(repeating: 0)
        let counts = UncheckedBox(buffer)  // each thread writes only its own slot
        let started = Date()
        DispatchQueue.concurrentPerform(iterations: threads) { index in
            while Date() < deadline {
                precondition(hasher.verify(password, against: hash))
                counts.value[index] += 1
            }
        }
        let rate = Double(counts.value.reduce(0, +)) / Date().timeIntervalSince(started)
        print(String(format: "floor argon2id verify (t=%d, m=%d KiB) x %d threads: %.2f /s", Int(argon2Ops), argon2MemKiB, threads, rate))
    }
}

struct WriteFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "floor-write",
        abstract: "Durable LMDB puts, one write transaction (one fsync) per put.",
        discussion: """
            With --puts-per-commit N the transaction holds N puts of keys in time order (each \
            after the last, so all land on the right-hand edge of one B-tree): the cheapest \
            commit a batch of N writes can have. Its rate, in puts per second, is the ceiling of \
            group commit for N writes per commit.
            """)
    @Option(help: "Scratch directory (created, then removed).") var dir: String
    @Option var seconds: Double = 5
    @Option(name: .customLong("puts-per-commit"), help: "Puts per write transaction (1: the floor, random keys).")
    var putsPerCommit = 1

    func run() async throws {
        let env = try Environment(path: dir)
        let db = try env.openDatabases(["floor"])[0]
        let value = [UInt8](repeating: 0x42, count: 120)
        var count = 0
        var sequence: UInt64 = 0
        let started = Date()
        while Date().timeIntervalSince(started) < seconds {
            if putsPerCommit == 1 {
                let key = SecureRandom.bytes(16)
                try env.write { try $0.put(value, forKey: key, in: db) }
            } else {
                try env.write { txn in
                    for _ in 0..<putsPerCommit {
                        sequence += 1
                        try txn.put(value, forKey: withUnsafeBytes(of: sequence.bigEndian) { Array($0) } + SecureRandom.bytes(8), in: db)
                    }
                }
            }
            count += putsPerCommit
        }
        let rate = Double(count) / Date().timeIntervalSince(started)
        env.close()
        try? FileManager.default.removeItem(atPath: dir)
        if putsPerCommit == 1 {
            print(String(format: "floor durable put, one transaction each: %.0f /s", rate))
        } else {
            print(String(format: "durable puts, %d in time order per transaction: %.0f /s", putsPerCommit, rate))
        }
    }
}

// MARK: first-verify

struct FirstVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "first-verify", abstract: "Poll the socket until a verify of TOKEN succeeds; print the time since --since-ns (CLOCK_REALTIME).")
    @Option var socket: String
    @Option var token: String
    @Option(name: .customLong("since-ns")) var sinceNanoseconds: UInt64

    func run() async throws {
        var frame: [UInt8] = []
        let body = [UInt8(1), 0, 68] + Array(token.utf8)
        let length = UInt32(8 + body.count)
        frame += withUnsafeBytes(of: length.bigEndian) { Array($0) }
        frame += [0x21, 0, 0, 0, 0, 0, 0, 1] + body
        while true {
            if let connection = try? BlockingSocket(path: socket) {
                try connection.send(frame)
                let header = try connection.receive(count: 12)
                let replyLength = Int(UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3]))
                _ = try connection.receive(count: replyLength - 8)
                guard header[6] == 0 && header[7] == 0 else { throw ValidationError("verify failed with status \(header[7])") }
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let elapsed = Double(UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec) - sinceNanoseconds) / 1e6
                print(String(format: "first verify answered %.1f ms after start", elapsed))
                return
            }
            usleep(500)
        }
    }
}

/// A blocking Unix-socket client for loading and polling.
final class BlockingSocket {
    let fd: Int32
    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }
    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            offset += n
        }
    }

    func receive(count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = out[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw POSIXError(.ECONNRESET) }
            offset += n
        }
        return out
    }

    func expect(count: Int, reply: [UInt8]) throws {
        let got = try receive(count: count * reply.count)
        for i in 0..<count where Array(got[i * reply.count..<(i + 1) * reply.count]) != reply {
            throw ValidationError("unexpected reply from redis")
        }
    }
}
