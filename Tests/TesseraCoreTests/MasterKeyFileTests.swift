import Foundation
import TestSupport
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

#if canImport(Glibc)
import Glibc
#endif

/// Where the master key may live: beside the data by default, never created where a reboot
/// empties it, and loose modes reported.
final class MasterKeyFileTests: XCTestCase {
    func testTheDefaultIsBesideTheDataDirectory() {
        XCTAssertEqual(MasterKeyFile.defaultPath(data: "/var/lib/tessera/data"), "/var/lib/tessera/tessera-master.key")
        XCTAssertEqual(MasterKeyFile.defaultPath(data: "/var/lib/tessera/data/"), "/var/lib/tessera/tessera-master.key")
        XCTAssertEqual(MasterKeyFile.defaultPath(data: "tessera-data"), "./tessera-master.key")
        XCTAssertEqual(MasterKeyFile.defaultPath(data: "/data"), "/tessera-master.key")
        XCTAssertEqual(MasterKeyFile.defaultPath(data: "state/data"), "state/tessera-master.key")
    }

    func testAKeyIsNeverCreatedOnATmpfs() throws {
        guard MasterKeyFile.fileSystemType(of: "/dev/shm") == "tmpfs" else { throw XCTSkip("/dev/shm is not a tmpfs here") }
        let volatile = TemporaryDirectory("tessera-shm", in: "/dev/shm")
        let data = TemporaryDirectory("tessera-data")
        defer {
            volatile.remove()
            data.remove()
        }
        let path = volatile.file("tessera-master.key")
        XCTAssertThrowsError(try MasterKeyFile.loadOrCreate(path: path, data: data.file("data"))) {
            XCTAssertEqual($0 as? MasterKeyFile.Failure, .volatile(path: path))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        // On persistent storage the same call makes it.
        XCTAssertNotEqual(MasterKeyFile.fileSystemType(of: data.path), "tmpfs")
        XCTAssertTrue(try MasterKeyFile.loadOrCreate(path: data.file("tessera-master.key"), data: data.file("data")).created)
    }

    func testAKeyIsNeverCreatedInARuntimeSocketDirectory() throws {
        guard access("/run", W_OK) == 0 else { throw XCTSkip("/run is not writable") }
        let runtime = TemporaryDirectory("tessera-run", in: "/run")
        let data = TemporaryDirectory("tessera-data")
        defer {
            runtime.remove()
            data.remove()
        }
        let path = runtime.file("tessera-master.key")
        XCTAssertThrowsError(try MasterKeyFile.loadOrCreate(path: path, data: data.file("data"), socketDirectory: runtime.path)) {
            let failure = $0 as? MasterKeyFile.Failure
            XCTAssertTrue(failure == .besideSocket(path: path) || failure == .volatile(path: path), "\($0)")
        }
        // A socket beside the data on persistent storage (the quick start's working directory) is fine.
        XCTAssertNil(MasterKeyFile.refusal(creating: data.file("tessera-master.key"), socketDirectory: data.path))
    }

    func testLooseModesAreReported() throws {
        let directory = TemporaryDirectory("tessera-key")
        defer { directory.remove() }
        let path = directory.file("tessera-master.key")
        try MasterKeyFile.create(path, MasterKey.generate())
        XCTAssertEqual(MasterKeyFile.warnings(for: path), [], "0600 in a 0700 directory")
        XCTAssertEqual(chmod(path, 0o644), 0)
        XCTAssertEqual(MasterKeyFile.warnings(for: path), ["the master key file \(path) has mode 644; make it 0600"])
        XCTAssertEqual(chmod(path, 0o600), 0)
        XCTAssertEqual(chmod(directory.path, 0o777), 0)
        XCTAssertEqual(MasterKeyFile.warnings(for: path).count, 1, "a directory anyone may write to")
        XCTAssertEqual(chmod(directory.path, 0o1777), 0)
        XCTAssertEqual(MasterKeyFile.warnings(for: path), [], "sticky, as /tmp: others cannot replace the file")
    }
}
