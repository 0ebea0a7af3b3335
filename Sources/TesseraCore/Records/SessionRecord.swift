/// A session as stored in the `sessions` database, keyed by its 16-byte session id.
///
/// The token's secret is not stored: only its keyed BLAKE2b-256 digest.
///
/// Layout, version 1:
/// ```
/// u8 version=1 | u64 user id | i64 created_at | i64 expires_at | u16 key id | 32 bytes digest
/// | u8 count + (u8 len + role)* | u16 len + client IP | u16 len + user agent
/// ```
/// Roles are copied from the user at login, so verify answers from this one record.
struct SessionRecord: Equatable, Sendable {
    static let version: UInt8 = 1

    var userID: UInt64
    var createdAt: Timestamp
    var expiresAt: Timestamp
    var keyID: UInt16
    var digest: [UInt8]
    var roles: [String]
    var clientIP: String?
    var userAgent: String?

    init(userID: UInt64, createdAt: Timestamp, expiresAt: Timestamp, keyID: UInt16, digest: [UInt8], roles: [String],
         clientIP: String?, userAgent: String?) {
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.keyID = keyID
        self.digest = digest
        self.roles = roles
        self.clientIP = clientIP
        self.userAgent = userAgent
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        let version = try reader.read(UInt8.self)
        guard version >= 1 else { throw RecordError.unknownVersion(version) }
        userID = try reader.read()
        createdAt = try reader.read()
        expiresAt = try reader.read()
        keyID = try reader.read()
        digest = Array(try reader.read(raw: 32))
        roles = try reader.readShortStrings()
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
        writer.write(shortStrings: roles)
        writer.write(string: clientIP)
        writer.write(string: userAgent)
        return writer.bytes
    }
}

/// A session record read in place from the memory map, without copying or allocating.
/// Valid only inside the read transaction it came from.
struct SessionRecordView {
    let userID: UInt64
    let createdAt: Timestamp
    let expiresAt: Timestamp
    let keyID: UInt16
    let digest: UnsafeRawBufferPointer
    let rawRoles: UnsafeRawBufferPointer

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
        rawRoles = try reader.readShortStringsRaw()
    }
}
