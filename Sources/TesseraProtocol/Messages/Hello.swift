import NIOCore

/// HELLO request (opcode 0x01): the highest protocol version the client speaks.
public struct HelloRequest: WireMessage {
    /// Tag 1, u16: the client's highest protocol version.
    public var protocolVersion: UInt16
    /// Tag 2, string, optional: a name for logs ("billing-web/2.3").
    public var clientName: String?

    public init(protocolVersion: UInt16 = ProtocolVersion.current, clientName: String? = nil) {
        self.protocolVersion = protocolVersion
        self.clientName = clientName
    }

    public init(decoding body: ByteBuffer) throws {
        var version: UInt16?, clientName: String?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: version = try value.fieldInteger(tag)
            case 2: clientName = try value.fieldString(tag)
            default: break
            }
        }
        protocolVersion = try required(version, "protocol_version")
        self.clientName = clientName
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, integer: protocolVersion)
        if let clientName { buffer.writeField(2, string: clientName) }
    }
}

/// HELLO reply: the version chosen and the server's limits.
public struct HelloResponse: WireMessage {
    /// Tag 1, u16: the protocol version the server will speak.
    public var protocolVersion: UInt16
    /// Tag 2, string: the server's name and version.
    public var serverName: String
    /// Tag 3, u32: the largest value of a frame's length field the server accepts.
    public var maximumFrameLength: UInt32
    /// Tag 4, u32: the most requests one connection may have in flight.
    public var maximumInFlight: UInt32

    public init(protocolVersion: UInt16, serverName: String, maximumFrameLength: UInt32, maximumInFlight: UInt32) {
        self.protocolVersion = protocolVersion
        self.serverName = serverName
        self.maximumFrameLength = maximumFrameLength
        self.maximumInFlight = maximumInFlight
    }

    public init(decoding body: ByteBuffer) throws {
        var version: UInt16?, name: String?, frame: UInt32?, inFlight: UInt32?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: version = try value.fieldInteger(tag)
            case 2: name = try value.fieldString(tag)
            case 3: frame = try value.fieldInteger(tag)
            case 4: inFlight = try value.fieldInteger(tag)
            default: break
            }
        }
        protocolVersion = try required(version, "protocol_version")
        serverName = try required(name, "server_name")
        maximumFrameLength = try required(frame, "max_frame_length")
        maximumInFlight = try required(inFlight, "max_in_flight")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, integer: protocolVersion)
        buffer.writeField(2, string: serverName)
        buffer.writeField(3, integer: maximumFrameLength)
        buffer.writeField(4, integer: maximumInFlight)
    }
}

/// PING request and reply (opcode 0x02): the reply echoes the payload.
public struct PingMessage: WireMessage {
    /// Tag 1, bytes, optional (at most 256 bytes).
    public var payload: [UInt8]

    public static let maximumPayload = 256

    public init(payload: [UInt8] = []) { self.payload = payload }

    public init(decoding body: ByteBuffer) throws {
        var payload: [UInt8] = []
        try decodeFields(body) { tag, value in
            if tag == 1 { payload = value.fieldBytes() }
        }
        guard payload.count <= Self.maximumPayload else { throw ProtocolError.invalidValue("ping payload exceeds 256 bytes") }
        self.payload = payload
    }

    public func encode(into buffer: inout ByteBuffer) {
        if !payload.isEmpty { buffer.writeField(1, bytes: payload) }
    }
}
