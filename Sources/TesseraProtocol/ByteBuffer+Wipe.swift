import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ByteBuffer {
    /// Overwrites every byte written so far with zeros, in a way the compiler does not remove
    /// (`explicit_bzero`), for a buffer that held a request with a password or another secret,
    /// before its memory goes back to the allocator. It wipes this buffer's storage: call it where
    /// the buffer is held once (a shared storage is copied first, and the other holders keep theirs).
    public mutating func wipe() {
        let reader = readerIndex
        moveReaderIndex(to: 0)
        withUnsafeMutableReadableBytes { bytes in
            if let base = bytes.baseAddress { explicit_bzero(base, bytes.count) }
        }
        moveReaderIndex(to: reader)
    }
}
