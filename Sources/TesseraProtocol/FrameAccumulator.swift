import NIOCore

/// Collects the bytes of a stream and hands out whole ``Frame``s: the buffering half of
/// ``FrameDecoder``, for a handler that splits frames itself.
///
/// Each frame's length is checked (``FrameDecoder/decodeFrame(from:maximumLength:)``) as soon
/// as its four length bytes are there, before its body is buffered. Frames are slices of the
/// received buffers, so splitting copies nothing unless a frame straddles two reads. Once every
/// byte is handed out the accumulator lets go of the last buffer, so the channel can reuse it.
public struct FrameAccumulator {
    /// The largest accepted value of the length field.
    public let maximumLength: UInt32
    @usableFromInline var buffer: ByteBuffer?
    /// ``buffer`` is the buffer last appended, not a copy: the caller may want it back.
    @usableFromInline var holdsReceivedBuffer = false

    public init(maximumLength: UInt32) {
        self.maximumLength = maximumLength
    }

    /// Bytes held that do not yet make a whole frame.
    public var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    /// Adds received bytes.
    @inlinable
    public mutating func append(_ bytes: inout ByteBuffer) {
        if buffer == nil {
            buffer = bytes
            holdsReceivedBuffer = true
        } else {
            buffer!.writeBuffer(&bytes)
        }
    }

    /// Moves the bytes still held (an incomplete frame, or frames left for later) into a buffer
    /// of their own, so the buffer they were received in can be reused for the next read.
    public mutating func keepOwnCopy() {
        guard holdsReceivedBuffer, let held = buffer else { return }
        buffer = ByteBuffer(bytes: held.readableBytesView)
        holdsReceivedBuffer = false
    }

    /// The next whole frame, or `nil` until more bytes arrive. Throws ``ProtocolError`` for a
    /// length field out of bounds: the stream cannot be resynchronised after that.
    @inlinable
    public mutating func next() throws -> Frame? {
        guard buffer != nil else { return nil }
        if let frame = try FrameDecoder.decodeFrame(from: &buffer!, maximumLength: maximumLength) { return frame }
        if buffer!.readableBytes == 0 {
            // A copy of its own held the frames that spanned reads: wiped before it is freed,
            // as they may have carried a password (the received buffer is its owner's to wipe).
            if !holdsReceivedBuffer { buffer!.wipe() }
            buffer = nil
            holdsReceivedBuffer = false
        }
        return nil
    }
}
