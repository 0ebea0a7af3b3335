import Foundation
import Locking
import Logging
import Synchronization
import XCTest

@testable import TesseraServer

#if canImport(Glibc)
import Glibc
#endif

final class LoggingTests: XCTestCase {
    func testTheRateLimiterLetsABurstThroughThenTheRateAndCountsWhatItHeldBack() {
        let clock = Atomic<UInt64>(1_000_000_000)
        let limiter = LogRateLimiter(burst: 3, perSecond: 2, now: { clock.load(ordering: .relaxed) })
        XCTAssertEqual((0..<3).map { _ in limiter.admit("request failed") }, [0, 0, 0])
        XCTAssertNil(limiter.admit("request failed"))
        XCTAssertNil(limiter.admit("request failed"))
        XCTAssertEqual(limiter.admit("listening"), 0, "each message has its own budget")
        clock.add(500_000_000, ordering: .relaxed)  // half a second: one more line
        XCTAssertEqual(limiter.admit("request failed"), 2, "the next line says how many were held back")
        XCTAssertNil(limiter.admit("request failed"))
        clock.add(10_000_000_000, ordering: .relaxed)
        XCTAssertEqual((0..<4).map { _ in limiter.admit("request failed") }, [1, 0, 0, nil], "refilled up to the burst, not beyond")
    }

    func testTheHandlerFormatsOneLineWithSortedMetadataAndTheSuppressedCount() throws {
        let (reader, writerEnd) = try Self.pipe()
        defer { close(reader) }
        let writer = LogWriter(descriptor: writerEnd)
        let clock = Atomic<UInt64>(0)
        var handler = LineLogHandler(
            label: "tesserad", writer: writer, limiter: LogRateLimiter(burst: 1, perSecond: 1, now: { clock.load(ordering: .relaxed) }))
        handler.logLevel = .debug
        handler[metadataKey: "connection.id"] = "7"
        let logger = Logger(label: "tesserad", factory: { _ in handler })
        logger.info("request failed", metadata: ["error.name": "token-invalid"])
        logger.info("request failed", metadata: ["error.name": "token-invalid"])
        clock.add(1_000_000_000, ordering: .relaxed)
        logger.info("request failed", metadata: ["error.name": "token-invalid"])
        writer.shutdown()
        close(writerEnd)
        let lines = Self.readAll(reader).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, "\(lines)")
        XCTAssertTrue(lines[0].hasSuffix(" info tesserad : connection.id=7 error.name=token-invalid request failed"), lines[0])
        XCTAssertTrue(lines[1].hasSuffix(" info tesserad : connection.id=7 error.name=token-invalid log.suppressed=1 request failed"), lines[1])
    }

    /// A log that cannot be written (a pipe nobody reads) never stops the thread that logs:
    /// lines are dropped and counted, and the count is written once the log drains.
    func testWritingNeverBlocksOnASlowDescriptorAndDropsAreReported() throws {
        let (reader, writerEnd) = try Self.pipe()
        defer { close(reader) }
        let writer = LogWriter(descriptor: writerEnd, capacity: 4096)
        let line = Array(String(repeating: "x", count: 99).utf8) + [10]
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            for _ in 0..<100_000 { writer.write(line) }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success, "writing 10 MB of log to a full pipe blocked the caller")
        XCTAssertGreaterThan(writer.droppedLines, 90_000)
        // Drain the pipe while the writer flushes and reports.
        let drained = Locked<String>("")
        let reading = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let all = Self.readAll(reader)
            drained.withLock { $0 = all }
            reading.signal()
        }
        writer.shutdown()
        close(writerEnd)
        XCTAssertEqual(reading.wait(timeout: .now() + 20), .success)
        let text = drained.withLock { $0 }
        let notes = text.split(separator: "\n").filter { $0.hasSuffix("the log could not keep up; lines were dropped") }
        let reported = notes.compactMap { note in note.split(separator: " ").first { $0.hasPrefix("log.dropped=") }.flatMap { Int($0.dropFirst(12)) }
        }
        XCTAssertFalse(notes.isEmpty, String(text.suffix(300)))
        XCTAssertEqual(reported.reduce(0, +), writer.droppedLines, "every dropped line is counted once")
    }

    private static func pipe() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        return (fds[0], fds[1])
    }

    private static func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
