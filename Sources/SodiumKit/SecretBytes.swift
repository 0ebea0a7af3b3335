/// Bytes of a secret (a password, a key) that are overwritten with zeros when released.
///
/// A reference type so the secret has one storage and one place where it is wiped; it is
/// never copied implicitly and never printed.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: the storage is written only in `init` and wiped only in `deinit`.
    private let storage: UnsafeMutableRawBufferPointer
    /// The number of secret bytes.
    public let count: Int

    /// Copies `bytes` into fresh storage. The caller wipes its own copy.
    public init(copying bytes: UnsafeRawBufferPointer) {
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: 1)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        if bytes.count > 0 { UnsafeMutableRawBufferPointer(rebasing: storage[0..<bytes.count]).copyMemory(from: bytes) }
        count = bytes.count
    }

    /// Copies `bytes` and then wipes the array in place.
    public init(wiping bytes: inout [UInt8]) {
        storage = .allocate(byteCount: max(bytes.count, 1), alignment: 1)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        count = bytes.count
        bytes.withUnsafeMutableBytes { source in
            if source.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: storage[0..<source.count]).copyMemory(from: UnsafeRawBufferPointer(source))
            }
            ConstantTime.zero(source)
        }
    }

    /// Gives `body` read access to the secret (NUL-terminated storage of at least one byte).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.baseAddress, count: count))
    }

    /// Never reveals the secret.
    public var description: String { "SecretBytes(\(count) bytes, redacted)" }

    deinit {
        ConstantTime.zero(storage)
        storage.deallocate()
    }
}
