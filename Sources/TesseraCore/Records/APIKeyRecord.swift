/// An API key as stored in the `api_keys` database, keyed by its 16-byte key id.
///
/// Only the keyed BLAKE2b-256 digest of the key's secret is stored, under the token-digest key
/// `keyID` of the ring, as for session tokens.
///
/// Layout, version 1 (fixed fields first, so verify reads them at fixed offsets):
/// ```
/// u8 version=1 | u64 user id | i64 created_at | i64 expires_at (0 = never) | i64 revoked_at (0 = live)
/// | i64 last_used_at (0 = never) | u16 key id | 32 bytes digest
/// | u8 count + (u8 len + permission)* | u16 len + name
/// ```
struct APIKeyRecord: Equatable, Sendable {
    static let version: UInt8 = 1

    var userID: UInt64
    var createdAt: Timestamp
    var expiresAt: Timestamp
    var revokedAt: Timestamp = 0
    var lastUsedAt: Timestamp = 0
    var keyID: UInt16
    var digest: [UInt8]
    var permissions: [String]
    var name: String

    init(userID: UInt64, createdAt: Timestamp, expiresAt: Timestamp, keyID: UInt16, digest: [UInt8], permissions: [String], name: String) {
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.keyID = keyID
        self.digest = digest
        self.permissions = permissions
        self.name = name
    }

    /// Decodes through ``APIKeyRecordView``: one reading of the layout and its versions.
    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        let view = try APIKeyRecordView(bytes)
        userID = view.userID
        createdAt = view.createdAt
        expiresAt = view.expiresAt
        revokedAt = view.revokedAt
        lastUsedAt = view.lastUsedAt
        keyID = view.keyID
        digest = Array(view.digest)
        permissions = shortStrings(view.rawPermissions)
        name = String(decoding: view.name, as: UTF8.self)
    }

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: Self.version)
        writer.write(userID)
        writer.write(createdAt)
        writer.write(expiresAt)
        writer.write(revokedAt)
        writer.write(lastUsedAt)
        writer.write(keyID)
        writer.write(raw: digest)
        writer.write(shortStrings: permissions)
        writer.write(string: name)
        return writer.bytes
    }

    /// Whether the key verifies at `now`: not revoked, not expired.
    func isLive(at now: Timestamp) -> Bool {
        revokedAt == 0 && (expiresAt == 0 || expiresAt > now)
    }
}

/// An API key record read in place from the memory map, without copying or allocating. Valid
/// only inside the read transaction it came from. The one reader of the layout and its
/// versions: ``APIKeyRecord/init(decoding:)`` decodes through it.
struct APIKeyRecordView {
    let userID: UInt64
    let createdAt: Timestamp
    let expiresAt: Timestamp
    let revokedAt: Timestamp
    let lastUsedAt: Timestamp
    let keyID: UInt16
    let digest: UnsafeRawBufferPointer
    let rawPermissions: UnsafeRawBufferPointer
    /// The name's UTF-8 bytes.
    let name: UnsafeRawBufferPointer

    @inline(__always)
    init(_ bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        let version = try reader.read(UInt8.self)
        guard version == 1 else { throw RecordError.unknownVersion(version) }
        userID = try reader.read()
        createdAt = try reader.read()
        expiresAt = try reader.read()
        revokedAt = try reader.read()
        lastUsedAt = try reader.read()
        keyID = try reader.read()
        digest = try reader.read(raw: 32)
        rawPermissions = try reader.readShortStringsRaw()
        name = try reader.read(raw: Int(try reader.read(UInt16.self)))
    }
}
