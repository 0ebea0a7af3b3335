import Foundation

extension Date {
    /// The protocol's times are Unix milliseconds.
    init(milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
