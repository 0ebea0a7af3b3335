import Foundation
import LMDBKit
import TestSupport
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

#if canImport(Glibc)
import Glibc
#endif

/// Loose modes of the data directory are reported (issue 22, item 17), and what the store makes
/// itself is not loose.
final class DataDirectoryPermissionsTests: XCTestCase {
    func testTheStoresOwnDirectoryAndFilesDrawNoWarningLooseOnesDo() throws {
        let parent = TemporaryDirectory("tessera-modes")
        defer { parent.remove() }
        let data = parent.path + "/data"
        let store = try TesseraStore(directory: data, masterKey: MasterKey.generate())
        defer { store.close() }
        XCTAssertEqual(DataDirectoryPermissions.warnings(for: data), [], "0700 and 0600, as made")

        XCTAssertEqual(chmod(data, 0o755), 0)
        XCTAssertEqual(chmod(data + "/data.mdb", 0o644), 0)
        XCTAssertEqual(chmod(parent.path, 0o777), 0)
        let warnings = DataDirectoryPermissions.warnings(for: data)
        XCTAssertEqual(warnings.count, 3, "\(warnings)")
        XCTAssertTrue(warnings[0].contains("mode 755") && warnings[0].contains("make it 0700"), warnings[0])
        XCTAssertTrue(warnings[1].contains("data.mdb has mode 644"), warnings[1])
        XCTAssertTrue(warnings[2].contains("writable by others"), warnings[2])

        // A sticky world-writable parent (/tmp) lets nobody replace another's directory.
        XCTAssertEqual(chmod(parent.path, 0o1777), 0)
        XCTAssertEqual(DataDirectoryPermissions.warnings(for: data).count, 2)
    }
}
