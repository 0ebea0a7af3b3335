import LMDBKit
import Synchronization
import TesseraModel

/// Tokens another system issued, imported as sessions and API keys (``ImportedToken``).
///
/// They are ordinary records of `sessions` and `api_keys`, under an id derived from the token,
/// so that logout, revocation, listing, expiry and the sweeper treat them as every other. What
/// is kept apart is one flag (`meta`: `imported_tokens`, set by the first import that brings a
/// token and never cleared), with its memory copy ``importedTokensHeld``: verify tries the
/// imported form only while it is set, so a daemon that never imported pays nothing for it.
extension TesseraStore {
    static let importedTokensKey = Array("imported_tokens".utf8)

    /// Whether an import has brought tokens in (one atomic load).
    @inline(__always)
    var holdsImportedTokens: Bool { importedTokensHeld.load(ordering: .relaxed) }

    /// Whether a session or an API key has the id of `token` already.
    func holdsImported(_ token: ImportedToken, in txn: some ReadableTransaction) throws -> Bool {
        try sessionRecord(token.id, in: txn) != nil || apiKeyRecord(APIKeyID(reinterpreting: token.id), in: txn) != nil
    }

    /// Stores an imported session: its record under the token's id, its digest under the
    /// active token-digest key.
    func insertImportedSession(_ token: ImportedToken, _ record: SessionRecord, in txn: WriteTransaction) throws {
        try noteImportedTokens(in: txn)
        try insertSession(token.id, record, in: txn)
    }

    /// Stores an imported personal access token as an API key under the token's id.
    func insertImportedAPIKey(_ token: ImportedToken, _ record: APIKeyRecord, in txn: WriteTransaction) throws {
        try noteImportedTokens(in: txn)
        try insertAPIKey(APIKeyID(reinterpreting: token.id), record, in: txn)
    }

    private func noteImportedTokens(in txn: WriteTransaction) throws {
        guard try txn.value(forKey: Self.importedTokensKey, in: meta) == nil else { return }
        try txn.put([1], forKey: Self.importedTokensKey, in: meta)
        let flag = self
        txn.afterCommit { flag.importedTokensHeld.store(true, ordering: .relaxed) }
    }

    /// The flag as stored (read at open).
    static func importedTokens(meta: Database, in txn: some ReadableTransaction) throws -> Bool {
        try txn.value(forKey: importedTokensKey, in: meta) != nil
    }
}
