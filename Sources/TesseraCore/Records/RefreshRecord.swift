import TesseraModel

/// A refresh token as stored in `refresh_tokens`, keyed by its 16-byte id. Only the digest of
/// its secret is kept.
///
/// Layout, version 1:
/// ```
/// u8 version=1 | u64 user id | 16 family id | 16 session id | i64 created_at | i64 expires_at
/// | u16 key id | 32 digest | u8 state (1 active, 2 retired) | i64 retired_at | 16 successor id
/// | u16 len + grace box
/// ```
/// The grace box holds the successor pair (access and refresh token text), sealed with a key
/// derived from this token's secret: only the holder of this token can open it, so the database
/// never holds a usable token, yet a retry within the grace window gets the same pair back.
struct RefreshRecord: Equatable, Sendable {
    enum State: UInt8, Sendable { case active = 1, retired = 2 }

    var userID: UInt64
    var familyID: SessionID
    var sessionID: SessionID
    var createdAt: Timestamp
    var expiresAt: Timestamp
    var keyID: UInt16
    var digest: [UInt8]
    var state: State = .active
    var retiredAt: Timestamp = 0
    var successor = SessionID(high: 0, low: 0)
    var graceBox: [UInt8] = []

    init(userID: UInt64, familyID: SessionID, sessionID: SessionID, createdAt: Timestamp, expiresAt: Timestamp, keyID: UInt16, digest: [UInt8]) {
        self.userID = userID
        self.familyID = familyID
        self.sessionID = sessionID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.keyID = keyID
        self.digest = digest
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        _ = try reader.read(UInt8.self)
        userID = try reader.read()
        familyID = SessionID(raw: try reader.read(raw: 16))
        sessionID = SessionID(raw: try reader.read(raw: 16))
        createdAt = try reader.read()
        expiresAt = try reader.read()
        keyID = try reader.read()
        digest = Array(try reader.read(raw: 32))
        state = State(rawValue: try reader.read()) ?? .retired
        retiredAt = try reader.read()
        successor = SessionID(raw: try reader.read(raw: 16))
        graceBox = Array(try reader.read(raw: Int(try reader.read(UInt16.self))))
    }

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: 1, capacity: 160 + graceBox.count)
        writer.write(userID)
        familyID.withUnsafeBytes { writer.write(raw: $0) }
        sessionID.withUnsafeBytes { writer.write(raw: $0) }
        writer.write(createdAt)
        writer.write(expiresAt)
        writer.write(keyID)
        writer.write(raw: digest)
        writer.write(state.rawValue)
        writer.write(retiredAt)
        successor.withUnsafeBytes { writer.write(raw: $0) }
        writer.write(UInt16(graceBox.count))
        writer.write(raw: graceBox)
        return writer.bytes
    }
}

/// A refresh family as stored in `refresh_families`: the chain of refresh tokens descending
/// from one login. Revoked as a whole when a retired token is replayed after the grace window.
///
/// Layout, version 1: `u8 version=1 | u64 user id | u8 state (1 active, 2 revoked) | 16 current refresh id | i64 created_at`,
/// then, appended later (absent from older records, read as 0): `u32 credentials epoch`.
struct RefreshFamily: Equatable, Sendable {
    enum State: UInt8, Sendable { case active = 1, revoked = 2 }

    var userID: UInt64
    var state: State
    var current: SessionID
    var createdAt: Timestamp
    /// The user's credentials epoch when the family was opened: REFRESH refuses the family once
    /// the user's epoch has moved on.
    var credentialsEpoch: UInt32
    /// The session lifetime the login asked for (already capped by the server's), which every
    /// session the family refreshes into keeps; 0: the server's. Absent in families written
    /// before it existed (read as 0).
    var sessionLifetimeSeconds: UInt32
    /// The idle timeout of the login's session, which every session the family refreshes into
    /// keeps (capped again by the server's at each refresh); 0: the server's.
    var idleSeconds: UInt32

    init(
        userID: UInt64, state: State, current: SessionID, createdAt: Timestamp, credentialsEpoch: UInt32,
        sessionLifetimeSeconds: UInt32 = 0, idleSeconds: UInt32 = 0
    ) {
        self.userID = userID
        self.state = state
        self.current = current
        self.createdAt = createdAt
        self.credentialsEpoch = credentialsEpoch
        self.sessionLifetimeSeconds = sessionLifetimeSeconds
        self.idleSeconds = idleSeconds
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        _ = try reader.read(UInt8.self)
        userID = try reader.read()
        state = State(rawValue: try reader.read()) ?? .revoked
        current = SessionID(raw: try reader.read(raw: 16))
        createdAt = try reader.read()
        credentialsEpoch = reader.isAtEnd ? 0 : try reader.read()
        sessionLifetimeSeconds = reader.isAtEnd ? 0 : try reader.read()
        idleSeconds = reader.isAtEnd ? 0 : try reader.read()
    }

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: 1, capacity: 46)
        writer.write(userID)
        writer.write(state.rawValue)
        current.withUnsafeBytes { writer.write(raw: $0) }
        writer.write(createdAt)
        writer.write(credentialsEpoch)
        writer.write(sessionLifetimeSeconds)
        writer.write(idleSeconds)
        return writer.bytes
    }
}
