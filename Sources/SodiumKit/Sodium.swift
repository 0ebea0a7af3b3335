import CSodium

/// Initialises libsodium once per process. Every entry point of this module calls it.
enum Sodium {
    static let ready: Bool = {
        let rc = sodium_init()
        precondition(rc >= 0, "sodium_init failed: libsodium cannot be used")
        return true
    }()

    @inline(__always)
    static func ensureReady() { _ = ready }
}

/// An error from libsodium.
public enum SodiumError: Error, Equatable, Sendable {
    /// Hashing failed, almost always because the memory limit could not be allocated.
    case outOfMemory
    /// The input is not valid for the operation (bad encoding, wrong length).
    case invalidInput
    /// Any other non-zero return code.
    case other(code: Int32)
}
