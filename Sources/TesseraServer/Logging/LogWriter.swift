import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes log lines to a file descriptor from its own thread, so that no socket thread ever waits
/// for the log: ``write(_:)`` copies the line into a bounded buffer and returns; when the buffer
/// is full (the descriptor is slower than the lines come), the line is dropped and counted, and
/// the count is written once the writer catches up.
package final class LogWriter: @unchecked Sendable {
    // @unchecked: `pending`, `pendingBytes`, `dropped`, `stopping` and `finished` are only touched under `condition`.
    private let condition = NSCondition()
    private var pending: [[UInt8]] = []
    private var pendingBytes = 0
    private var dropped = 0
    private var stopping = false
    private var finished = false
    private let descriptor: Int32
    /// Bytes that may wait for the descriptor before lines are dropped.
    package let capacity: Int

    /// A writer to `descriptor` (standard error by default) holding at most `capacity` bytes.
    package init(descriptor: Int32 = STDERR_FILENO, capacity: Int = 1 << 20) {
        self.descriptor = descriptor
        self.capacity = capacity
        // The thread holds this object until it stops (after shutdown), so it never outlives it.
        let thread = Thread { [self] in
            Thread.current.name = "tessera-log"
            self.run()
        }
        thread.start()
    }

    /// Queues one line (with its newline). Never blocks on the descriptor.
    package func write(_ line: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, pendingBytes + line.count <= capacity else {
            dropped += 1
            return
        }
        pending.append(line)
        pendingBytes += line.count
        condition.signal()
    }

    /// Lines dropped so far because the buffer was full.
    package var droppedLines: Int {
        condition.lock()
        defer { condition.unlock() }
        return dropped
    }

    /// Writes what is queued, stops the thread and returns once it has (lines written after
    /// this are dropped).
    package func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        var reportedDrops = 0
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            let batch = pending
            let drops = dropped
            pending.removeAll(keepingCapacity: true)
            pendingBytes = 0
            let done = stopping
            condition.unlock()
            for line in batch { writeAll(line) }
            if drops > reportedDrops {
                let note =
                    "\(Self.timestamp()) warning tesserad : log.dropped=\(drops - reportedDrops) the log could not keep up; lines were dropped\n"
                writeAll(Array(note.utf8))
                reportedDrops = drops
            }
            if done {
                condition.lock()
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // nowhere to report a failing log
                }
                offset += written
            }
        }
    }

    /// `2026-11-24T02:43:13.123Z`
    static func timestamp() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var time = spec.tv_sec
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
            parts.tm_min, parts.tm_sec, spec.tv_nsec / 1_000_000)
    }
}
