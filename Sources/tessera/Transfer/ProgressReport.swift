import Foundation

/// Progress of a long command on standard error: on a terminal, a bar redrawn at most ten times
/// a second with the rate and the time left; otherwise (a log, a pipe) one line at each tenth.
/// Work done within its first second shows none.
final class ProgressReport {
    private let total: Int
    private let unit: String
    private let terminal = isatty(STDERR_FILENO) == 1
    private let started = ContinuousClock.now
    private var lastDraw = ContinuousClock.now - .seconds(1)
    private var lastTenth = 0
    private var drawn = false

    /// `total`: the amount of work (bytes of input, say) the fraction is taken of.
    init(total: Int, unit: String) {
        self.total = max(total, 1)
        self.unit = unit
    }

    /// `done` of the total, and `items` handled so far (what the rate counts).
    func update(done: Int, items: Int) {
        let fraction = min(1, Double(done) / Double(total))
        let now = ContinuousClock.now
        guard now - started >= .seconds(1) else { return }
        if terminal {
            guard now - lastDraw >= .milliseconds(100) || done >= total else { return }
            lastDraw = now
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            write("\r[\(bar)] \(Self.percent(fraction)) \(items) \(unit)  \(rate(items, now))  \(remaining(fraction, now))\u{1B}[K")
            drawn = true
        } else {
            let tenth = Int(fraction * 10)
            guard tenth > lastTenth else { return }
            lastTenth = tenth
            write("\(Self.percent(fraction)) \(items) \(unit), \(rate(items, now))\n")
        }
    }

    /// Ends the bar's line.
    func finish() {
        if terminal && drawn { write("\n") }
    }

    /// Seconds since the start.
    var elapsedSeconds: Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private func rate(_ items: Int, _ now: ContinuousClock.Instant) -> String {
        let seconds = max(elapsedSeconds, 0.001)
        return "\(Int(Double(items) / seconds)) \(unit)/s"
    }

    private func remaining(_ fraction: Double, _ now: ContinuousClock.Instant) -> String {
        guard fraction > 0.001, fraction < 1 else { return "" }
        let left = Int((elapsedSeconds / fraction) * (1 - fraction))
        return left >= 60 ? "\(left / 60) min \(left % 60) s left" : "\(left) s left"
    }

    private static func percent(_ fraction: Double) -> String {
        String(format: "%3d%%", Int(fraction * 100))
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
