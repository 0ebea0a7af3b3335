import NIOCore

/// One protocol frame: a fixed 12-byte header and a body of fields.
///
/// ```
///  0               4       5       6               8                              12
///  +-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+---------
///  |     length (u32 BE)   |opcode | flags |  status (u16)  |    request id (u32 BE)  | body
///  +-------+-------+-------+-------+-------+-------+-------+-------+-------+-------+---------
/// ```
///
/// `length` counts every byte after the length field: 8 header bytes plus the body.
public struct Frame: Sendable, Equatable {
    /// Bytes in the header, length field included.
    public static let headerLength = 12
    /// The smallest valid value of the length field (a frame with an empty body).
    public static let minimumLengthField: UInt32 = 8

    /// The operation; replies echo the request's opcode.
    public var opcode: UInt8
    /// ``FrameFlags`` bits.
    public var flags: FrameFlags
    /// ``Status`` raw value: zero in requests and successful replies.
    public var status: UInt16
    /// Chosen by the client, echoed by the reply.
    public var requestID: UInt32
    /// The fields, see ``FieldReader``.
    public var body: ByteBuffer

    public init(opcode: UInt8, flags: FrameFlags = [], status: UInt16 = 0, requestID: UInt32, body: ByteBuffer) {
        self.opcode = opcode
        self.flags = flags
        self.status = status
        self.requestID = requestID
        self.body = body
    }
}

/// Bits of a frame's flags byte.
public struct FrameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Set on every frame the server sends.
    public static let response = FrameFlags(rawValue: 0x01)
    /// The server closes the connection after this frame.
    public static let closing = FrameFlags(rawValue: 0x02)
}

extension ByteBuffer {
    /// Writes a whole frame: header, then whatever `writeBody` appends; the length is patched
    /// in afterwards, so the body is encoded once, in place, with no intermediate buffer. When
    /// `writeBody` throws, nothing of the frame stays in the buffer.
    @inlinable
    public mutating func writeFrame(
        opcode: UInt8, flags: FrameFlags = [], status: UInt16 = 0, requestID: UInt32,
        _ writeBody: (inout ByteBuffer) throws -> Void
    ) rethrows {
        let start = writerIndex
        writeMultipleIntegers(UInt32(0), opcode, flags.rawValue, status, requestID)
        do {
            try writeBody(&self)
        } catch {
            moveWriterIndex(to: start)
            throw error
        }
        finishFrame(startingAt: start)
    }

    /// Writes the length of the frame that starts at `start` and ends at the writer index.
    @inlinable
    public mutating func finishFrame(startingAt start: Int) {
        setInteger(UInt32(writerIndex - start - 4), at: start)
    }

    /// Writes `frame` (header and body).
    public mutating func writeFrame(_ frame: Frame) {
        var body = frame.body
        writeFrame(opcode: frame.opcode, flags: frame.flags, status: frame.status, requestID: frame.requestID) {
            $0.writeBuffer(&body)
        }
    }
}
