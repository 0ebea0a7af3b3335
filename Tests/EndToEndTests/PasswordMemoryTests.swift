import Foundation
import TesseraProtocol
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Once a password is hashed, the daemon's memory holds no copy of it (issue 22, item 17): the
/// frames that carried it (the read buffer, the slow request's copy) are wiped, as the decoded
/// fields already were. The test reads the live daemon's memory through `/proc/PID/mem`, as an
/// attacker who can read it (a core file, a swap image, a later bug) would.
final class PasswordMemoryTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    func testNoPasswordIsLeftInTheDaemonsMemoryAfterItIsHashed() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to read another process's memory") }
        // AddressSanitizer maps terabytes of shadow memory and keeps freed blocks in quarantine
        // instead of reusing them: the plain build's run is the one this measures.
        if ProcessInfo.processInfo.environment["TESSERA_SANITIZER"] != nil {
            throw XCTSkip("the memory scan runs on the plain build")
        }
        daemon = DaemonProcess()
        try daemon.start()
        let signUp = "first-Q7x9-sign-up-password", wrong = "second-K2v8-wrong-password", changed = "third-M4z6-changed-password"
        do {
            let connection = try RawConnection(path: daemon.socketPath)
            connection.send(.createUser, requestID: 1, CreateUserRequest(username: "zed", password: Array(signUp.utf8)))
            XCTAssertEqual(connection.readFrame()?.status, 0)
            var token = ""
            for round in 0..<3 {
                connection.send(.login, requestID: 2, LoginRequest(identifier: "zed", password: Array(signUp.utf8)))
                let reply = try XCTUnwrap(connection.readFrame())
                XCTAssertEqual(reply.status, 0, "login \(round)")
                token = try LoginResponse(decoding: reply.body).token
            }
            connection.send(.login, requestID: 3, LoginRequest(identifier: "zed", password: Array(wrong.utf8)))
            XCTAssertEqual(connection.readFrame()?.status, Status.badCredentials.rawValue)
            var change = ChangePasswordRequest()
            change.token = token
            change.currentPassword = Array(signUp.utf8)
            change.newPassword = Array(changed.utf8)
            connection.send(.changePassword, requestID: 4, change)
            XCTAssertEqual(connection.readFrame()?.status, 0)
            connection.send(.login, requestID: 5, LoginRequest(identifier: "zed", password: Array(changed.utf8)))
            XCTAssertEqual(connection.readFrame()?.status, 0)
        }
        // The last reply is read when the request is answered, its copy wiped just before: wait
        // for the connection's close to be handled, with a ping on a new one.
        let ping = try RawConnection(path: daemon.socketPath)
        ping.send(.ping, requestID: 1, PingMessage(payload: [1]))
        XCTAssertEqual(ping.readFrame()?.status, 0)

        let pid = try XCTUnwrap(daemon.process?.processIdentifier)
        let found = try Self.occurrences(of: [signUp, wrong, changed], inMemoryOf: pid)
        XCTAssertEqual(found, [signUp: 0, wrong: 0, changed: 0], "copies of each password in the daemon's anonymous memory")
    }

    /// How often each needle occurs in the readable anonymous memory (heap, stacks, thread
    /// arenas) of `pid`; file mappings (the program, libraries, LMDB's map) are skipped.
    static func occurrences(of needles: [String], inMemoryOf pid: Int32) throws -> [String: Int] {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        let memory = open("/proc/\(pid)/mem", O_RDONLY)
        guard memory >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(memory) }
        var counts = Dictionary(uniqueKeysWithValues: needles.map { ($0, 0) })
        var scanned = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 5, fields[1].hasPrefix("rw") else { continue }
            let name = fields.count > 5 ? String(fields[5]) : ""
            guard name.isEmpty || name == "[heap]" || name.hasPrefix("[stack") else { continue }
            let bounds = fields[0].split(separator: "-").compactMap { UInt64($0, radix: 16) }
            guard bounds.count == 2 else { continue }
            // Read in chunks, each overlapping the last by a needle's length, so a match across
            // two chunks is counted once.
            let longest = needles.map(\.utf8.count).max() ?? 0
            let chunkSize = 1 << 20
            var chunk = [UInt8](repeating: 0, count: chunkSize + longest)
            var offset = bounds[0]
            var carried = 0
            while offset < bounds[1] {
                let want = Int(min(UInt64(chunkSize), bounds[1] - offset))
                let read = chunk.withUnsafeMutableBytes { pread(memory, $0.baseAddress! + carried, want, off_t(Int64(bitPattern: offset))) }
                guard read > 0 else { break }
                scanned += read
                let filled = carried + read
                for needle in needles {
                    let pattern = Array(needle.utf8)
                    chunk.withUnsafeBytes { haystack in
                        // memchr for the first byte, memcmp for the rest (memmem is not imported).
                        let base = haystack.baseAddress!
                        var at = 0
                        while at + pattern.count <= filled, let found = memchr(base + at, Int32(pattern[0]), filled - at) {
                            at = base.distance(to: UnsafeRawPointer(found))
                            guard at + pattern.count <= filled else { break }
                            // A match wholly inside the carried bytes was counted with the last chunk.
                            if at + pattern.count > carried, memcmp(base + at, pattern, pattern.count) == 0 { counts[needle, default: 0] += 1 }
                            at += 1
                        }
                    }
                }
                // Keep the last bytes for a match that straddles into the next chunk.
                carried = min(longest - 1, filled)
                if carried > 0 {
                    chunk.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: $0.baseAddress! + filled - carried, byteCount: carried) }
                }
                offset += UInt64(read)
            }
        }
        XCTAssertGreaterThan(scanned, 1 << 20, "the scan read the daemon's memory")
        return counts
    }
}
