import TesseraModel

/// What a user (or an admin) may see of a session: never the token or its digest.
public struct SessionSummary: Sendable, Equatable {
    public var id: SessionID
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    public var clientIP: String?
    public var userAgent: String?
}
