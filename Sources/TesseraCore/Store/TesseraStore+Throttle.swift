import LMDBKit

/// The throttle: failed password checks per account (`0x01 ‖ user id`) and per login
/// identifier, known or unknown (`0x02 ‖ lower-cased identifier`).
extension TesseraStore {
    static let accountPrefix: UInt8 = 0x01
    static let identifierPrefix: UInt8 = 0x02

    /// The throttle key of a login identifier, whether or not it names an account.
    static func identifierThrottleKey(_ identifier: String) -> [UInt8] {
        [identifierPrefix] + normalized(identifier)
    }

    /// The throttle key of an existing account.
    static func accountThrottleKey(_ userID: UInt64) -> [UInt8] {
        [accountPrefix] + key(userID)
    }

    func throttleState(_ key: [UInt8], in txn: some ReadableTransaction) throws -> ThrottleState {
        try key.withUnsafeBytes { k in try txn.withValue(forKey: k, in: throttle) { try ThrottleState(decoding: $0) } } ?? ThrottleState()
    }

    /// Stores the failed-login state under `key`; a state with no failures removes the entry.
    func putThrottleState(_ state: ThrottleState, forKey key: [UInt8], in txn: WriteTransaction) throws {
        if state.failures == 0 {
            try txn.delete(key, in: throttle)
        } else {
            try txn.put(state.encoded(), forKey: key, in: throttle)
        }
    }

    /// Clears the failures and locks of `user`: its account's entry and those of its username,
    /// email and phone (an administrator's unlock or password reset).
    func clearThrottles(of user: UserRecord, in txn: WriteTransaction) throws {
        try txn.delete(Self.accountThrottleKey(user.id), in: throttle)
        for identifier in [user.username, user.email, user.phone].compactMap({ $0 }) {
            try txn.delete(Self.identifierThrottleKey(identifier), in: throttle)
        }
    }

    /// Visits up to `limit` entries of identifiers in key order from `start` (empty:
    /// the first); returns the last key visited and whether the scan reached their end.
    func scanIdentifierThrottles(
        from start: [UInt8], limit: Int, in txn: some ReadableTransaction,
        _ visit: ([UInt8], ThrottleState) -> Void
    ) throws -> (last: [UInt8], reachedEnd: Bool) {
        var seen = 0
        var last: [UInt8] = []
        var reachedEnd = true
        try txn.forEach(in: throttle, from: start.isEmpty ? [Self.identifierPrefix] : start) { key, value in
            guard key.first == Self.identifierPrefix else { return false }
            guard seen < limit else {
                reachedEnd = false
                return false
            }
            seen += 1
            last = Array(key)
            if let state = try? ThrottleState(decoding: value) { visit(last, state) }
            return true
        }
        return (last, reachedEnd)
    }

    /// Forgets the throttle entry under `key`.
    func removeThrottleState(forKey key: [UInt8], in txn: WriteTransaction) throws {
        try txn.delete(key, in: throttle)
    }
}
