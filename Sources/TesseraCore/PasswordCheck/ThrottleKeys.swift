import LMDBKit

/// The throttle entries one password attempt is under.
///
/// A login is under the entry of the identifier it names, known or unknown alike (so a lock
/// reads the same for both), and, when the identifier names an account, under the account's
/// entry too (so guesses spread over a user's username, email and phone lock the account). An
/// operation of a signed-in user (CHANGE_PASSWORD, DISABLE_TWO_FACTOR, ...) is under its
/// account's entry alone.
struct ThrottleKeys: Sendable {
    /// The entry whose lock answers `locked` and whose ``CheckGate`` orders the checks.
    var lock: [UInt8]
    /// At a login of a known identifier, the account's entry: while it is locked, an attempt
    /// through an identifier that is not is answered like a wrong password, unevaluated.
    var account: [UInt8]?

    init(lock: [UInt8], account: [UInt8]? = nil) {
        self.lock = lock
        self.account = account
    }

    /// A login's entries: its identifier's, and its account's when it names one.
    static func login(identifier: String, userID: UInt64?) -> ThrottleKeys {
        ThrottleKeys(lock: TesseraStore.identifierThrottleKey(identifier), account: userID.map(TesseraStore.accountThrottleKey))
    }

    /// The entry of an operation of a signed-in user: the account's.
    static func account(_ userID: UInt64) -> ThrottleKeys {
        ThrottleKeys(lock: TesseraStore.accountThrottleKey(userID))
    }

    /// Every entry, the lock's first.
    var all: [[UInt8]] { [lock] + (account.map { [$0] } ?? []) }
}

/// An attempt's turn at the gate: its entries and their states read when the turn began.
struct ThrottleTurn: Sendable {
    var keys: ThrottleKeys
    var lock: ThrottleState
    var account: ThrottleState?

    /// Clears the failures of every entry that holds some, in the commit of a success.
    func clearFailures(in txn: WriteTransaction, of store: TesseraStore) throws {
        if lock.failures > 0 { try store.putThrottleState(ThrottleState(), forKey: keys.lock, in: txn) }
        if let account, account.failures > 0, let key = keys.account { try store.putThrottleState(ThrottleState(), forKey: key, in: txn) }
    }
}
