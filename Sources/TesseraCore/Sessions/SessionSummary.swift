import TesseraModel

/// What a user (or an admin) may see of a session: never the token or its digest.
package struct SessionSummary: Sendable, Equatable {
    package var id: SessionID
    package var createdAt: Timestamp
    package var expiresAt: Timestamp
    package var clientIP: String?
    package var userAgent: String?
}
