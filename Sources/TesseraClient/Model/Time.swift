import Foundation

extension Date {
    /// The protocol's times are Unix milliseconds.
    init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// This time in Unix milliseconds, rounded down.
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
}
