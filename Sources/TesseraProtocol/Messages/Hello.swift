/// HELLO request (opcode 0x01).
public struct HelloRequest: SchemaMessage {
    /// The highest protocol version the client speaks.
    public var protocolVersion: UInt16 = ProtocolVersion.current
    /// A name for the server's logs ("billing-web/2.3").
    public var clientName: String?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "HELLO request",
        [
            .integer(1, "protocol_version", \.protocolVersion),
            .string(2, "client_name", \.clientName),
        ])
}

/// HELLO reply: the version the server will speak and its limits.
public struct HelloResponse: SchemaMessage {
    public var protocolVersion: UInt16
    public var serverName: String
    /// The largest value of a frame's length field the server accepts.
    public var maximumFrameLength: UInt32
    /// The most slow requests one connection may have in flight.
    public var maximumInFlight: UInt32
    /// Password checks that may wait for a hashing thread, server-wide, before new ones get `busy`.
    public var maximumQueuedHashes: UInt32?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "HELLO reply",
        [
            .integer(1, "protocol_version", \.protocolVersion),
            .string(2, "server_name", \.serverName),
            .integer(3, "max_frame_length", \.maximumFrameLength),
            .integer(4, "max_in_flight", \.maximumInFlight),
            .integer(5, "max_queued_hashes", \.maximumQueuedHashes),
        ])
}

/// PING request and reply (opcode 0x02): the reply echoes the payload.
public struct PingMessage: SchemaMessage {
    /// At most ``maximumPayload`` bytes; empty is not written.
    public var payload: [UInt8]

    public static let maximumPayload = 256

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "PING",
        [
            .optionalBytes(1, "payload", \.payload)
        ])

    public func validate() throws {
        guard payload.count <= Self.maximumPayload else {
            throw ProtocolError.invalidValue("payload must be at most \(Self.maximumPayload) bytes, not \(payload.count)")
        }
    }
}

/// An empty body: the reply of operations that report nothing but success.
public struct EmptyMessage: SchemaMessage {
    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>("empty", [])
}
