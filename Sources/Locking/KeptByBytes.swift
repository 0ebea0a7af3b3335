#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Values each kept with the bytes it was made from, one a slot (chosen by a key, the key
/// modulo the slot count), each slot behind its own lock:
/// a value is given back only for bytes equal, byte for byte, to its own, so what it was made
/// from cannot have changed. What the daemon and the client keep of recent users (the daemon's
/// encoded `user` fields by record, the client's decoded users by field) is this.
public final class KeptByBytes<Value: Sendable>: Sendable {
    @usableFromInline struct Entry: Sendable {
        @usableFromInline var bytes: [UInt8]
        @usableFromInline var value: Value
        @usableFromInline init(bytes: [UInt8], value: Value) {
            self.bytes = bytes
            self.value = value
        }
    }

    @usableFromInline let slots: [Locked<Entry?>]

    public init(slots count: Int) {
        slots = (0..<count).map { _ in Locked(nil) }
    }

    @inlinable func slot(_ key: UInt64) -> Locked<Entry?> { slots[Int(key % UInt64(slots.count))] }

    /// The value kept in `key`'s slot for these very bytes, if any.
    @inlinable
    public func value(key: UInt64, for bytes: UnsafeRawBufferPointer) -> Value? {
        slot(key).withLock { entry -> Value? in
            guard let entry, entry.bytes.count == bytes.count else { return nil }
            guard bytes.count == 0 || entry.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) }) == 0
            else { return nil }
            return entry.value
        }
    }

    /// Keeps `value` in `key`'s slot for `bytes`, in place of what it held.
    @inlinable
    public func keep(_ value: Value, key: UInt64, for bytes: UnsafeRawBufferPointer) {
        let entry = Entry(bytes: Array(bytes), value: value)
        slot(key).withLock { $0 = entry }
    }
}
