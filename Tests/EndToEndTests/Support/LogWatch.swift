import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Waits for the daemon's log file to hold what a test expects. Each write to the file wakes
/// the waiter (inotify), so a test waits on the daemon's own report of an event (a sweep, a
/// drain) instead of sleeping and looking again.
enum LogWatch {
    /// Returns once `satisfied(log)` holds, or false after `timeout` seconds.
    static func wait(path: String, timeout: TimeInterval, until satisfied: (String) -> Bool) -> Bool {
        let watcher = inotify_init1(Int32(IN_CLOEXEC))
        defer { close(watcher) }
        _ = inotify_add_watch(watcher, path, UInt32(IN_MODIFY))
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            // Read after the watch is in place: a write between the two still wakes the poll.
            if satisfied((try? String(contentsOfFile: path, encoding: .utf8)) ?? "") { return true }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return false }
            var entry = pollfd(fd: watcher, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, Int32(remaining * 1000) + 1) > 0 { _ = read(watcher, &buffer, buffer.count) }
        }
    }

    /// The sum of `key=N` over the log's `swept` lines (how many of a kind the sweeper removed).
    static func swept(_ key: String, in log: String) -> Int {
        log.split(separator: "\n").filter { $0.hasSuffix(" swept") }.reduce(0) { total, line in
            let field = line.split(separator: " ").first { $0.hasPrefix(key + "=") }
            return total + (field.flatMap { Int($0.dropFirst(key.count + 1)) } ?? 0)
        }
    }
}
