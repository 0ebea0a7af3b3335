import TesseraModel

/// A session as stored in the `sessions` database, keyed by its 16-byte session id.
///
/// The token's secret is not stored: only its keyed BLAKE2b-256 digest.
///
/// Layout, version 2 (fixed fields first, so verify reads them at fixed offsets):
/// ```
/// u8 version=2 | u64 user id | i64 created_at | i64 expires_at | u16 key id | 32 bytes digest
/// | i64 last_seen | u32 idle_seconds (0 = no idle timeout) | 16 bytes refresh family (zeros = none)
/// | u8 count + (u8 len + role)* | u16 len + client IP | u16 len + user agent
/// ```
/// Version 1 records (no last_seen, idle or family) are still read: last_seen = created_at,
/// no idle timeout, no family. Roles are copied from the user at login, so verify answers from
/// this one record.
struct SessionRecord: Equatable, Sendable {
    static let version: UInt8 = 2

    var userID: UInt64
    var createdAt: Timestamp
    var expiresAt: Timestamp
    var keyID: UInt16
    var digest: [UInt8]
    var lastSeen: Timestamp
    var idleSeconds: UInt32
    var familyID: SessionID?
    var roles: [String]
    var clientIP: String?
    var userAgent: String?

    init(
        userID: UInt64, createdAt: Timestamp, expiresAt: Timestamp, keyID: UInt16, digest: [UInt8], idleSeconds: UInt32 = 0,
        familyID: SessionID? = nil, roles: [String], clientIP: String?, userAgent: String?
    ) {
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.keyID = keyID
        self.digest = digest
        self.lastSeen = createdAt
        self.idleSeconds = idleSeconds
        self.familyID = familyID
        self.roles = roles
        self.clientIP = clientIP
        self.userAgent = userAgent
    }

    /// Decodes through ``SessionRecordView``: one reading of the layout and its versions.
    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        let view = try SessionRecordView(bytes)
        userID = view.userID
        createdAt = view.createdAt
        expiresAt = view.expiresAt
        keyID = view.keyID
        digest = Array(view.digest)
        lastSeen = view.lastSeen
        idleSeconds = view.idleSeconds
        familyID = view.familyID
        roles = shortStrings(view.rawRoles)
        var reader = RecordReader(view.tail)
        clientIP = try reader.readString()
        userAgent = try reader.readString()
    }

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: Self.version)
        writer.write(userID)
        writer.write(createdAt)
        writer.write(expiresAt)
        writer.write(keyID)
        writer.write(raw: digest)
        writer.write(lastSeen)
        writer.write(idleSeconds)
        let family = familyID ?? .zero
        family.withUnsafeBytes { writer.write(raw: $0) }
        writer.write(shortStrings: roles)
        writer.write(string: clientIP)
        writer.write(string: userAgent)
        return writer.bytes
    }

    /// The instant the session ends: its absolute expiry, or sooner when idle.
    func deadline() -> Timestamp {
        Self.deadline(expiresAt: expiresAt, lastSeen: lastSeen, idleSeconds: idleSeconds)
    }

    /// How old the recorded last use may get before a verify records a new one: the configured
    /// interval, or half the idle timeout when that is shorter, so an idle timeout shorter than
    /// the interval is still extended by use. 0 idle seconds: never.
    @inline(__always)
    static func touchInterval(configured: Int64, idleSeconds: UInt32) -> Int64? {
        idleSeconds == 0 ? nil : min(configured, Int64(idleSeconds) * 500)
    }

    /// The session's end: `expiresAt`, or `idleSeconds` after `lastSeen` when sooner (0: no idle timeout).
    @inline(__always)
    static func deadline(expiresAt: Timestamp, lastSeen: Timestamp, idleSeconds: UInt32) -> Timestamp {
        idleSeconds == 0 ? expiresAt : min(expiresAt, lastSeen + Int64(idleSeconds) * 1000)
    }
}

/// A session record read in place from the memory map, without copying or allocating.
/// Valid only inside the read transaction it came from. The one reader of the layout's fixed
/// part and its versions: ``SessionRecord/init(decoding:)`` decodes through it.
struct SessionRecordView {
    let userID: UInt64
    let createdAt: Timestamp
    let expiresAt: Timestamp
    let keyID: UInt16
    let digest: UnsafeRawBufferPointer
    let lastSeen: Timestamp
    let idleSeconds: UInt32
    let rawRoles: UnsafeRawBufferPointer
    /// The refresh family's 16 bytes (all zeros: none); empty in a version 1 record.
    let rawFamily: UnsafeRawBufferPointer
    /// What follows the roles: the client IP and the user agent.
    let tail: UnsafeRawBufferPointer

    @inline(__always)
    init(_ bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        let version = try reader.read(UInt8.self)
        guard version >= 1 else { throw RecordError.unknownVersion(version) }
        userID = try reader.read()
        createdAt = try reader.read()
        expiresAt = try reader.read()
        keyID = try reader.read()
        digest = try reader.read(raw: 32)
        if version >= 2 {
            lastSeen = try reader.read()
            idleSeconds = try reader.read()
            rawFamily = try reader.read(raw: 16)
        } else {
            lastSeen = createdAt
            idleSeconds = 0
            rawFamily = UnsafeRawBufferPointer(start: nil, count: 0)
        }
        rawRoles = try reader.readShortStringsRaw()
        tail = reader.remaining
    }

    /// The refresh family the session belongs to, if any.
    var familyID: SessionID? {
        guard rawFamily.count == SessionID.length else { return nil }
        let family = SessionID(raw: rawFamily)
        return family == .zero ? nil : family
    }

    /// The instant the session ends: its absolute expiry, or sooner when idle.
    @inline(__always)
    var deadline: Timestamp {
        SessionRecord.deadline(expiresAt: expiresAt, lastSeen: lastSeen, idleSeconds: idleSeconds)
    }
}
