import Foundation
import LMDBKit
import TestSupport
import XCTest

final class EnvironmentTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    func testPutGetDeleteAcrossReopen() throws {
        var env: Environment? = try Environment(path: directory.path)
        let db = try env!.openDatabases(["items"])[0]
        try env!.write { txn in
            try txn.put([1, 2, 3], forKey: [9], in: db)
            try txn.put([4], forKey: [8], in: db)
        }
        XCTAssertEqual(try env!.read { try $0.value(forKey: [9], in: db) }, [1, 2, 3])
        try env!.write { txn in
            XCTAssertTrue(try txn.delete([8], in: db))
            XCTAssertFalse(try txn.delete([8], in: db))
        }
        env!.close()
        env = nil

        let reopened = try Environment(path: directory.path)
        let db2 = try reopened.openDatabases(["items"])[0]
        XCTAssertEqual(try reopened.read { try $0.value(forKey: [9], in: db2) }, [1, 2, 3])
        XCTAssertNil(try reopened.read { try $0.value(forKey: [8], in: db2) })
    }

    /// Another process (here `mdb_load`, which ignores the daemon's directory lock) grows the
    /// file past this process's map: the next read and write adopt the new size
    /// (`MDB_MAP_RESIZED`) instead of failing.
    func testAMapGrownByAnotherProcessIsAdopted() throws {
        let load = try XCTUnwrap(
            ["/usr/bin/mdb_load", "/usr/local/bin/mdb_load"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "mdb_load (Debian's lmdb-utils) is installed by scripts/install-deps")
        var options = EnvironmentOptions()
        options.initialMapSize = 1 << 20
        let env = try Environment(path: directory.path, options: options)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        try env.write { try $0.put([1, 2, 3], forKey: [9], in: db) }

        // 4 MiB of records into another database, with a 16 MiB map.
        var dump = "VERSION=3\nformat=bytevalue\ntype=btree\nmapsize=16777216\nHEADER=END\n"
        let value = String(repeating: "ab", count: 1024)
        for index in 0..<4096 { dump += " \(String(format: "%08x", index))\n \(value)\n" }
        dump += "DATA=END\n"
        let dumpPath = directory.path + "/../grow-\(UUID().uuidString).dump"
        try dump.write(toFile: dumpPath, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: dumpPath) }
        let loaded = try runCommand(load, ["-f", dumpPath, "-s", "other", directory.path])
        XCTAssertEqual(loaded.status, 0, loaded.stderr)
        XCTAssertGreaterThan(
            (try FileManager.default.attributesOfItem(atPath: directory.path + "/data.mdb")[.size] as? NSNumber)?.intValue ?? 0, 1 << 20,
            "the file grew past this process's map")

        XCTAssertEqual(try env.read { try $0.value(forKey: [9], in: db) }, [1, 2, 3])
        try env.write { try $0.put([4], forKey: [8], in: db) }
        XCTAssertEqual(try env.mapSize(), 16 << 20)
    }

    /// A reader process killed while it held a read transaction leaves its slot (which would pin
    /// old pages and grow the file); `clearStaleReaders` frees it, and leaves live ones alone.
    func testTheSlotOfAKilledReaderProcessIsCleared() throws {
        let dump = try XCTUnwrap(
            ["/usr/bin/mdb_dump", "/usr/local/bin/mdb_dump"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "mdb_dump (Debian's lmdb-utils) is installed by scripts/install-deps")
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        try env.write { txn in
            for index in 0..<4000 {
                try txn.put(Array(repeating: 7, count: 100), forKey: withUnsafeBytes(of: UInt32(index).bigEndian) { Array($0) }, in: db)
            }
        }
        // mdb_dump reads inside one transaction and blocks writing to a pipe nobody reads.
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: dump)
        reader.arguments = ["-s", "items", directory.path]
        let output = Pipe()
        reader.standardOutput = output
        try reader.run()
        var ready = pollfd(fd: output.fileHandleForReading.fileDescriptor, events: Int16(POLLIN), revents: 0)
        XCTAssertEqual(poll(&ready, 1, 10_000), 1, "the reader started dumping: its transaction is open")
        XCTAssertTrue(try env.readerProcesses().contains(reader.processIdentifier))
        XCTAssertEqual(try env.clearStaleReaders(), 0, "a live reader's slot stays")

        kill(reader.processIdentifier, SIGKILL)
        reader.waitUntilExit()
        XCTAssertTrue(try env.readerProcesses().contains(reader.processIdentifier), "the dead reader's slot is left behind")
        XCTAssertEqual(try env.clearStaleReaders(), 1)
        XCTAssertFalse(try env.readerProcesses().contains(reader.processIdentifier))
    }

    func testDataDirectoryIsPrivate() throws {
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700)
        let data = try FileManager.default.attributesOfItem(atPath: directory.path + "/data.mdb")
        XCTAssertEqual((data[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }

    func testAbortedWriteLeavesNothing() throws {
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        struct Boom: Error {}
        XCTAssertThrowsError(
            try env.write { txn in
                try txn.put([1], forKey: [1], in: db)
                throw Boom()
            })
        XCTAssertNil(try env.read { try $0.value(forKey: [1], in: db) })
    }

    func testNoOverwriteReportsKeyExists() throws {
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        try env.write { try $0.put([1], forKey: [1], in: db, overwrite: false) }
        XCTAssertThrowsError(try env.write { try $0.put([2], forKey: [1], in: db, overwrite: false) }) {
            XCTAssertEqual($0 as? LMDBError, .keyExists)
        }
    }

    func testMapGrowsWhenFullThenReportsStorageFullAtTheMaximum() throws {
        var options = EnvironmentOptions()
        options.initialMapSize = 64 << 10
        options.maximumMapSize = 1 << 20
        let env = try Environment(path: directory.path, options: options)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        let value = [UInt8](repeating: 7, count: 1000)
        var written = 0
        var sawStorageFull = false
        for i in 0..<5000 {
            do {
                try env.write { try $0.put(value, forKey: withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }, in: db) }
                written += 1
            } catch LMDBError.storageFull {
                sawStorageFull = true
                break
            }
        }
        XCTAssertTrue(sawStorageFull)
        XCTAssertGreaterThan(try env.mapSize(), 64 << 10, "the map grew")
        XCTAssertGreaterThan(written, 100)
        // Reads keep working after storage is full.
        XCTAssertEqual(try env.read { try $0.value(forKey: withUnsafeBytes(of: UInt32(0).bigEndian) { Array($0) }, in: db) }, value)
        XCTAssertEqual(try env.read { try $0.count(of: db) }, written)
    }

    func testCursorVisitsInKeyOrderFromAStartKey() throws {
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        try env.write { txn in for k: UInt8 in [5, 1, 3, 9] { try txn.put([k], forKey: [k], in: db) } }
        var seen: [UInt8] = []
        try env.read { txn in
            try txn.forEach(in: db, from: [2]) { key, _ in
                seen.append(key[0])
                return true
            }
        }
        XCTAssertEqual(seen, [3, 5, 9])
    }

    func testConcurrentReadersSeeConsistentSnapshots() throws {
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        try env.write { txn in
            try txn.put([0], forKey: [1], in: db)
            try txn.put([0], forKey: [2], in: db)
        }
        let stop = DispatchSemaphore(value: 0)
        let writer = Thread {
            for i in 1...200 {
                try! env.write { txn in
                    try txn.put([UInt8(i % 256)], forKey: [1], in: db)
                    try txn.put([UInt8(i % 256)], forKey: [2], in: db)
                }
            }
            stop.signal()
        }
        writer.start()
        DispatchQueue.concurrentPerform(iterations: 2000) { _ in
            try! env.read { txn in
                XCTAssertEqual(try txn.value(forKey: [1], in: db), try txn.value(forKey: [2], in: db))
            }
        }
        stop.wait()
    }
}
