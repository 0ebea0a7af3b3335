#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Values each kept with the bytes it was made from, one a slot, each slot behind its own lock:
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

    public var slotCount: Int { slots.count }

    /// The value kept in `slot` (taken modulo the slot count) for these very bytes, if any.
    @inlinable
    public func value(in slot: Int, for bytes: UnsafeRawBufferPointer) -> Value? {
        slots[slot % slots.count].withLock { entry -> Value? in
            guard let entry, entry.bytes.count == bytes.count else { return nil }
            guard bytes.count == 0 || entry.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) }) == 0
            else { return nil }
            return entry.value
        }
    }

    /// Keeps `value` in `slot` (modulo the slot count) for `bytes`, in place of what it held.
    @inlinable
    public func keep(_ value: Value, in slot: Int, for bytes: UnsafeRawBufferPointer) {
        let entry = Entry(bytes: Array(bytes), value: value)
        slots[slot % slots.count].withLock { $0 = entry }
    }
}
