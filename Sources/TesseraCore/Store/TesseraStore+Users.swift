import LMDBKit

/// Users and their indexes: `users`, `usernames`, `emails`, `phones`, `validation_codes`.
///
/// Invariant: every index entry names an existing user whose field holds that value (compared
/// lower-cased), and every user's username, email, phone and pending validation code has its
/// entry. ``putUser(_:replacing:in:)`` and ``deleteUser(_:in:)`` are the only writers; both keep the
/// count of foreign password hashes (`TesseraStore+ForeignPasswords.swift`).
extension TesseraStore {
    // MARK: Reads

    func user(_ lookup: UserLookup, in txn: some ReadableTransaction) throws -> UserRecord? {
        switch lookup {
        case .id(let id): try user(id: id, in: txn)
        case .username(let name): try userID(index: usernames, name: name, in: txn).flatMap { try user(id: $0, in: txn) }
        case .email(let email): try userID(index: emails, name: email, in: txn).flatMap { try user(id: $0, in: txn) }
        case .phone(let phone): try userID(index: phones, name: phone, in: txn).flatMap { try user(id: $0, in: txn) }
        }
    }

    func user(id: UInt64, in txn: some ReadableTransaction) throws -> UserRecord? {
        try withUserRecord(id: id, in: txn) { try UserRecord(decoding: $0) }
    }

    /// User `id`'s record as stored, its bytes valid inside `body` only; `nil` when there is no
    /// such user.
    func withUserRecord<R>(id: UInt64, in txn: some ReadableTransaction, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R? {
        try Self.key(id).withUnsafeBytes { key in try txn.withValue(forKey: key, in: users, body) }
    }

    /// Resolves a login identifier: an email when it contains `@`, a phone number when it
    /// starts with `+`, a username otherwise.
    func user(identifier: String, in txn: some ReadableTransaction) throws -> UserRecord? {
        let index = identifier.contains("@") ? emails : identifier.hasPrefix("+") ? phones : usernames
        guard let id = try userID(index: index, name: identifier, in: txn) else { return nil }
        return try user(id: id, in: txn)
    }

    /// The user a pending validation code (by its digest) was issued to.
    func user(validationDigest digest: [UInt8], in txn: some ReadableTransaction) throws -> UserRecord? {
        guard let idBytes = try txn.value(forKey: digest, in: validationCodes), idBytes.count == 8 else { return nil }
        let id = idBytes.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard let record = try user(id: id, in: txn), record.validationDigest == digest else { return nil }
        return record
    }

    /// Users in id order, starting after `afterID`, at most `limit`.
    func users(after afterID: UInt64, limit: Int, in txn: some ReadableTransaction) throws -> [UserRecord] {
        guard afterID < .max else { return [] }
        var records: [UserRecord] = []
        try txn.forEach(in: users, from: Self.key(afterID &+ 1)) { _, value in
            records.append(try UserRecord(decoding: value))
            return records.count < limit
        }
        return records
    }

    private func userID(index: Database, name: String, in txn: some ReadableTransaction) throws -> UInt64? {
        try Self.normalized(name).withUnsafeBytes { key in
            try txn.withValue(forKey: key, in: index) { value -> UInt64? in
                value.count == 8 ? UInt64(bigEndian: value.loadUnaligned(as: UInt64.self)) : nil
            } ?? nil
        }
    }

    /// Throws ``AuthError/conflict(_:)`` when another user than `except` holds the username,
    /// ``AuthError/addressTaken(_:)`` the email or phone.
    func checkUnique(username: String?, email: String?, phone: String?, except: UInt64? = nil, in txn: some ReadableTransaction) throws {
        if let username, let id = try userID(index: usernames, name: username, in: txn), id != except {
            throw AuthError.conflict("username is already taken")
        }
        if let email, let id = try userID(index: emails, name: email, in: txn), id != except {
            throw AuthError.addressTaken("email is already registered")
        }
        if let phone, let id = try userID(index: phones, name: phone, in: txn), id != except {
            throw AuthError.addressTaken("phone is already registered")
        }
    }

    // MARK: Writes

    /// Takes the next user id.
    func allocateUserID(in txn: WriteTransaction) throws -> UInt64 {
        let current = Self.uint64(try txn.value(forKey: Self.nextUserIDKey, in: meta)) ?? 1
        try txn.put(Self.key(current + 1), forKey: Self.nextUserIDKey, in: meta)
        return current
    }

    /// Writes a user with its index entries. `previous` is the stored record being replaced
    /// (`nil` for a new user): entries for values that changed move, and a username, email or
    /// phone already held by another user fails as ``checkUnique(username:email:phone:except:in:)`` says.
    func putUser(_ record: UserRecord, replacing previous: UserRecord?, in txn: WriteTransaction) throws {
        try checkUnique(username: record.username, email: record.email, phone: record.phone, except: record.id, in: txn)
        let id = Self.key(record.id)
        try moveIndexEntry(in: usernames, from: previous?.username, to: record.username, id: id, txn)
        try moveIndexEntry(in: emails, from: previous?.email, to: record.email, id: id, txn)
        try moveIndexEntry(in: phones, from: previous?.phone, to: record.phone, id: id, txn)
        let oldDigest = previous?.validationDigest ?? []
        if oldDigest != record.validationDigest {
            if !oldDigest.isEmpty { try txn.delete(oldDigest, in: validationCodes) }
            if !record.validationDigest.isEmpty { try txn.put(id, forKey: record.validationDigest, in: validationCodes) }
        }
        try noteForeignPassword(from: previous?.passwordHash, to: record.passwordHash, in: txn)
        try txn.put(record.encoded(), forKey: id, in: users, overwrite: previous != nil)
    }

    private func moveIndexEntry(in index: Database, from old: String?, to new: String?, id: [UInt8], _ txn: WriteTransaction) throws {
        let oldKey = old.map(Self.normalized), newKey = new.map(Self.normalized)
        guard oldKey != newKey else { return }
        if let oldKey { try txn.delete(oldKey, in: index) }
        if let newKey { try txn.put(id, forKey: newKey, in: index) }
    }

    /// Deletes a user with every session, refresh family, index entry, pending validation code,
    /// failed-login count (the account's and its identifiers'), second factor and API key.
    func deleteUser(_ record: UserRecord, in txn: WriteTransaction) throws {
        try endSessions(ofUser: record.id, except: nil, in: txn)
        let id = Self.key(record.id)
        try txn.delete(id, in: users)
        try txn.delete(Self.normalized(record.username), in: usernames)
        if let email = record.email { try txn.delete(Self.normalized(email), in: emails) }
        if let phone = record.phone { try txn.delete(Self.normalized(phone), in: phones) }
        if !record.validationDigest.isEmpty { try txn.delete(record.validationDigest, in: validationCodes) }
        try clearThrottles(of: record, in: txn)
        try deleteTwoFactorRecord(ofUser: record.id, in: txn)
        try deleteAPIKeys(ofUser: record.id, in: txn)
        try noteForeignPassword(from: record.passwordHash, to: nil, in: txn)
    }
}
