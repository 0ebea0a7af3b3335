import NIOCore

/// Splits a byte stream into ``Frame``s.
///
/// The length field is checked as soon as its four bytes arrive: a frame longer than
/// ``maximumLength`` (or shorter than the header) is rejected before any of its body is
/// buffered. A partial frame leaves the reader index alone and returns `.needMoreData`.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    /// The largest accepted value of the length field.
    public var maximumLength: UInt32

    public init(maximumLength: UInt32) {
        self.maximumLength = maximumLength
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.decodeFrame(from: &buffer, maximumLength: maximumLength) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// Reads one frame from `buffer` if a whole one is there; `nil` (and nothing consumed) otherwise.
    @inlinable
    public static func decodeFrame(from buffer: inout ByteBuffer, maximumLength: UInt32) throws -> Frame? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= Frame.minimumLengthField else { throw ProtocolError.frameTooShort(length: length) }
        guard length <= maximumLength else { throw ProtocolError.frameTooLarge(length: length, maximum: maximumLength) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        let (_, opcode, flags, status, requestID) = buffer.readMultipleIntegers(as: (UInt32, UInt8, UInt8, UInt16, UInt32).self)!
        let body = buffer.readSlice(length: Int(length) - 8)!
        return Frame(opcode: opcode, flags: FrameFlags(rawValue: flags), status: status, requestID: requestID, body: body)
    }
}

/// Encodes ``Frame``s for a channel pipeline.
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = Frame
    public init() {}
    public func encode(data: Frame, out: inout ByteBuffer) throws {
        out.writeFrame(data)
    }
}
