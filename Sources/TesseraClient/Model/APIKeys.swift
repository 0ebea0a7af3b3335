import Foundation
internal import TesseraProtocol

/// An API key as the daemon lists it: never its secret.
public struct APIKey: Sendable, Equatable {
    public var id: APIKeyID
    public var name: String
    /// The key text's first 12 characters (`tsk_` and 8 more): enough to recognise it, nothing
    /// of its secret.
    public var prefix: String
    public var createdAt: Date
    /// `nil`: it never expires.
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// Among its user's roles.
    public var permissions: [String]

    init(_ info: APIKeyInfo) throws(TesseraClientError) {
        guard let id = APIKeyID(bytes: info.keyID) else { throw .malformedReply("an API key id is 16 bytes") }
        self.id = id
        name = info.name
        prefix = info.prefix
        createdAt = Date(milliseconds: info.createdAt)
        expiresAt = info.expiresAt.map(Date.init(milliseconds:))
        lastUsedAt = info.lastUsedAt.map(Date.init(milliseconds:))
        revokedAt = info.revokedAt.map(Date.init(milliseconds:))
        permissions = info.permissions
    }
}

/// Whose an API key is: what ``TesseraClient/verifyAPIKey(_:)`` answers.
public struct APIKeyVerification: Sendable, Equatable {
    public var userID: UInt64
    public var keyID: APIKeyID
    public var name: String
    public var permissions: [String]
    /// `nil`: it never expires.
    public var expiresAt: Date?

    init(_ reply: VerifyAPIKeyResponse) throws(TesseraClientError) {
        guard let id = APIKeyID(bytes: reply.keyID) else { throw .malformedReply("an API key id is 16 bytes") }
        userID = reply.userID
        keyID = id
        name = reply.name
        permissions = reply.permissions
        expiresAt = reply.expiresAt.map(Date.init(milliseconds:))
    }
}
