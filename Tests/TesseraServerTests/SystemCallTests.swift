import Foundation
import TestSupport
import XCTest

@testable import TesseraServer

final class SystemCallTests: XCTestCase {
    func testErrnoBecomesATypedReasonWithTheCallAndPath() throws {
        let temporary = TemporaryDirectory("tessera-syscall")
        defer { temporary.remove() }
        let missing = temporary.file("missing")
        XCTAssertThrowsError(try systemCall("unlink", path: missing) { unlink(missing) }) { error in
            let failure = error as? SystemCallError
            XCTAssertEqual(failure?.reason, .noSuchFile)
            XCTAssertEqual(failure?.call, "unlink")
            XCTAssertTrue(failure?.description.contains(missing) ?? false)
        }
        let directory = temporary.path
        XCTAssertThrowsError(try systemCall("mkdir", path: directory) { mkdir(directory, 0o700) }) {
            XCTAssertEqual(($0 as? SystemCallError)?.reason, .fileExists)
        }
        XCTAssertThrowsError(try systemCall("close") { close(-1) }) {
            XCTAssertEqual(($0 as? SystemCallError)?.reason, .other(errno: EBADF))
        }
    }

    func testASuccessReturnsTheResult() throws {
        let fd = try systemCall("open", path: "/dev/null") { open("/dev/null", O_RDONLY) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(try systemCall("close") { close(fd) }, 0)
    }

    func testASocketPathThatIsAFileOrALinkIsRefused() throws {
        let temporary = TemporaryDirectory("tessera-socketpath")
        defer { temporary.remove() }
        let directory = temporary.path
        let file = directory + "/file", link = directory + "/link"
        XCTAssertTrue(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: file)
        XCTAssertThrowsError(try SocketPath.prepare(file))
        XCTAssertThrowsError(try SocketPath.prepare(link))
        XCTAssertNoThrow(try SocketPath.prepare(directory + "/absent.sock"))
        XCTAssertThrowsError(try SocketPath.prepare(directory + "/" + String(repeating: "s", count: 120)))
    }
}
