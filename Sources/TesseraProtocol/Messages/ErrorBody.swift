import NIOCore

/// The body of every error reply (a frame whose status is not zero).
public struct ErrorBody: WireMessage {
    /// Tag 1, string: the status's stable name, e.g. `bad-credentials`.
    public var name: String
    /// Tag 2, string: a human-readable reason, safe to show to an operator.
    public var message: String
    /// Tag 3, string, optional: the id under which the server logged this failure.
    public var traceID: String?
    /// Tag 4, u32, optional: seconds after which retrying may succeed (`busy`, `locked`).
    public var retryAfterSeconds: UInt32?
    /// Tag 5, string, optional: with `account-not-validated`, a fresh code for VALIDATE (the web
    /// process sends it to the user again).
    public var validationCode: String?

    public init(name: String, message: String, traceID: String? = nil, retryAfterSeconds: UInt32? = nil, validationCode: String? = nil) {
        self.name = name
        self.message = message
        self.traceID = traceID
        self.retryAfterSeconds = retryAfterSeconds
        self.validationCode = validationCode
    }

    public init(decoding body: ByteBuffer) throws {
        var name: String?, message: String?, traceID: String?, retryAfterSeconds: UInt32?, code: String?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: name = try value.fieldString(tag)
            case 2: message = try value.fieldString(tag)
            case 3: traceID = try value.fieldString(tag)
            case 4: retryAfterSeconds = try value.fieldInteger(tag)
            case 5: code = try value.fieldString(tag)
            default: break
            }
        }
        self.name = try required(name, "name")
        self.message = message ?? ""
        self.traceID = traceID
        self.retryAfterSeconds = retryAfterSeconds
        self.validationCode = code
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: name)
        buffer.writeField(2, string: message)
        if let traceID { buffer.writeField(3, string: traceID) }
        if let retryAfterSeconds { buffer.writeField(4, integer: retryAfterSeconds) }
        if let validationCode { buffer.writeField(5, string: validationCode) }
    }
}
