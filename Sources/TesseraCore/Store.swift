import LMDBKit

/// Tessera's LMDB environment and its named databases.
///
/// | database        | key                                | value                 |
/// |-----------------|------------------------------------|-----------------------|
/// | `users`         | user id (u64 BE)                   | ``UserRecord``        |
/// | `usernames`     | lower-cased username (UTF-8)       | user id (u64 BE)      |
/// | `emails`        | lower-cased email (UTF-8)          | user id (u64 BE)      |
/// | `sessions`      | session id (16 bytes)              | `SessionRecord`       |
/// | `user_sessions` | user id (u64 BE) ‖ session id      | empty                 |
/// | `token_keys`    | key id (u16 BE)                    | ``TokenKey``          |
/// | `refresh_tokens`   | refresh id (16 bytes)           | `RefreshRecord`       |
/// | `refresh_families` | family id (16 bytes)            | `RefreshFamily`       |
/// | `phones`        | phone number (UTF-8, as given)     | user id (u64 BE)      |
/// | `validation_codes` | keyed digest of a code (32)     | user id (u64 BE)      |
/// | `throttle`      | 0x01 ‖ user id, or 0x02 ‖ lower-cased unknown identifier | ``ThrottleState`` |
/// | `meta`          | name (UTF-8)                       | per name              |
public final class TesseraStore: Sendable {
    public let environment: Environment
    let users: Database
    let usernames: Database
    let emails: Database
    let sessions: Database
    let userSessions: Database
    let tokenKeys: Database
    let meta: Database
    let throttle: Database
    let refreshTokens: Database
    let refreshFamilies: Database
    let phones: Database
    let validationCodes: Database
    /// The token keys, loaded at open.
    public let keyRing: TokenKeyRing

    static let nextUserIDKey = Array("next_user_id".utf8)
    static let schemaKey = Array("schema".utf8)
    static let schemaVersion: UInt8 = 1

    /// Opens (creating when absent) the store in `directory`.
    public init(directory: String, options: EnvironmentOptions = .init(), clock: any Clock = SystemClock()) throws {
        environment = try Environment(path: directory, options: options)
        let databases = try environment.openDatabases(["users", "usernames", "emails", "sessions", "user_sessions", "token_keys", "meta", "throttle",
                                                          "refresh_tokens", "refresh_families", "phones", "validation_codes"])
        (users, usernames, emails, sessions, userSessions, tokenKeys, meta) =
            (databases[0], databases[1], databases[2], databases[3], databases[4], databases[5], databases[6])
        throttle = databases[7]
        refreshTokens = databases[8]
        refreshFamilies = databases[9]
        phones = databases[10]
        validationCodes = databases[11]
        let (tokenKeys, meta) = (self.tokenKeys, self.meta)
        keyRing = try environment.write { txn in
            if let schema = try txn.value(forKey: Self.schemaKey, in: meta) {
                guard schema.first == Self.schemaVersion else {
                    throw AuthError.internal("the data directory holds schema \(schema.first ?? 0); this build reads schema \(Self.schemaVersion)")
                }
            } else {
                try txn.put([Self.schemaVersion], forKey: Self.schemaKey, in: meta)
            }
            return try TokenKeyRing.loadOrCreate(in: txn, database: tokenKeys, now: clock.now())
        }
    }

    /// Closes the environment. Call after every reader and the commit queue stopped.
    public func close() {
        environment.close()
    }

    // MARK: Keys

    static func key(_ id: UInt64) -> [UInt8] {
        withUnsafeBytes(of: id.bigEndian) { Array($0) }
    }

    static func userSessionKey(_ user: UInt64, _ session: SessionID) -> [UInt8] {
        key(user) + session.bytes
    }

    static func normalized(_ text: String) -> [UInt8] {
        Array(text.lowercased().utf8)
    }

    /// The throttle key: the account when the identifier names one, else the identifier itself.
    static func throttleKey(userID: UInt64?, identifier: String) -> [UInt8] {
        if let userID { return accountThrottleKey(userID) }
        return [0x02] + normalized(identifier)
    }

    /// The throttle key of an existing account.
    static func accountThrottleKey(_ userID: UInt64) -> [UInt8] {
        [0x01] + key(userID)
    }

    // MARK: Reads

    func throttleState(_ key: [UInt8], in txn: some ReadableTransaction) throws -> ThrottleState {
        try key.withUnsafeBytes { k in try txn.withValue(forKey: k, in: throttle) { try ThrottleState(decoding: $0) } } ?? ThrottleState()
    }

    func user(_ lookup: UserLookup, in txn: some ReadableTransaction) throws -> UserRecord? {
        switch lookup {
        case .id(let id): try user(id: id, in: txn)
        case .username(let name): try userID(index: usernames, name: name, in: txn).flatMap { try user(id: $0, in: txn) }
        case .email(let email): try userID(index: emails, name: email, in: txn).flatMap { try user(id: $0, in: txn) }
        case .phone(let phone): try userID(index: phones, name: phone, in: txn).flatMap { try user(id: $0, in: txn) }
        }
    }

    func refreshRecord(_ id: SessionID, in txn: some ReadableTransaction) throws -> RefreshRecord? {
        try id.withUnsafeBytes { key in try txn.withValue(forKey: key, in: refreshTokens) { try RefreshRecord(decoding: $0) } }
    }

    func refreshFamily(_ id: SessionID, in txn: some ReadableTransaction) throws -> RefreshFamily? {
        try id.withUnsafeBytes { key in try txn.withValue(forKey: key, in: refreshFamilies) { try RefreshFamily(decoding: $0) } }
    }

    func sessionRecord(_ id: SessionID, in txn: some ReadableTransaction) throws -> SessionRecord? {
        try id.withUnsafeBytes { key in try txn.withValue(forKey: key, in: sessions) { try SessionRecord(decoding: $0) } }
    }

    /// Ends a session: removes it and its index entry, and revokes its refresh family so the
    /// refresh token cannot bring it back. Returns `false` when there was no such session.
    @discardableResult
    func endSession(_ id: SessionID, in txn: WriteTransaction) throws -> Bool {
        guard let record = try sessionRecord(id, in: txn) else { return false }
        try txn.delete(id.bytes, in: sessions)
        try txn.delete(Self.userSessionKey(record.userID, id), in: userSessions)
        if let familyID = record.familyID { try revokeFamily(familyID, in: txn) }
        return true
    }

    /// Removes an expired session and its index entry. Unlike ``endSession(_:in:)`` it leaves
    /// the refresh family alone: an expired access token is what a refresh token is for.
    func removeExpiredSession(_ id: SessionID, userID: UInt64, in txn: WriteTransaction) throws {
        try txn.delete(id.bytes, in: sessions)
        try txn.delete(Self.userSessionKey(userID, id), in: userSessions)
    }

    /// Marks a refresh family revoked and ends its current session.
    func revokeFamily(_ id: SessionID, in txn: WriteTransaction) throws {
        guard var family = try refreshFamily(id, in: txn), family.state == .active else { return }
        family.state = .revoked
        try txn.put(family.encoded(), forKey: id.bytes, in: refreshFamilies)
        if let current = try refreshRecord(family.current, in: txn) {
            try endSession(current.sessionID, in: txn)
        }
    }

    /// The session ids of a user, from the `user_sessions` index.
    func sessionIDs(ofUser id: UInt64, in txn: some ReadableTransaction) throws -> [SessionID] {
        let prefix = Self.key(id)
        var ids: [SessionID] = []
        try txn.forEach(in: userSessions, from: prefix) { key, _ in
            guard key.count == 24, key.starts(with: prefix) else { return false }
            ids.append(SessionID(raw: UnsafeRawBufferPointer(start: key.baseAddress! + 8, count: 16)))
            return true
        }
        return ids
    }

    func user(id: UInt64, in txn: some ReadableTransaction) throws -> UserRecord? {
        try Self.key(id).withUnsafeBytes { key in
            try txn.withValue(forKey: key, in: users) { try UserRecord(decoding: $0) }
        }
    }

    func userID(index: Database, name: String, in txn: some ReadableTransaction) throws -> UInt64? {
        try Self.normalized(name).withUnsafeBytes { key in
            try txn.withValue(forKey: key, in: index) { value -> UInt64? in
                value.count == 8 ? UInt64(bigEndian: value.loadUnaligned(as: UInt64.self)) : nil
            } ?? nil
        }
    }

    /// Resolves a login identifier: an email when it contains `@`, a phone number when it
    /// starts with `+`, a username otherwise.
    func user(identifier: String, in txn: some ReadableTransaction) throws -> UserRecord? {
        let index = identifier.contains("@") ? emails : identifier.hasPrefix("+") ? phones : usernames
        guard let id = try userID(index: index, name: identifier, in: txn) else { return nil }
        return try user(id: id, in: txn)
    }
}
