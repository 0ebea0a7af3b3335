/// Every stored-record decoder over the same bytes, for the fuzzer (`Fuzz/`): a damaged record
/// must be an error, never a crash.
package enum StoredRecords {
    /// Decodes `bytes` as each kind of record the store holds; errors are the expected outcome.
    package static func decodeEveryKind(_ bytes: UnsafeRawBufferPointer) {
        _ = try? UserRecord(decoding: bytes)
        _ = try? SessionRecord(decoding: bytes)
        if let view = try? SessionRecordView(bytes) {
            _ = (view.userID, view.deadline, view.expiresAt, view.lastSeen, view.idleSeconds, view.keyID)
            forEachShortString(view.rawRoles) { _ in }
        }
        _ = try? RefreshRecord(decoding: bytes)
        _ = try? RefreshFamily(decoding: bytes)
        _ = try? ThrottleState(decoding: bytes)
        _ = try? ExpiredTokenRecord(decoding: bytes)
        _ = try? TwoFactorRecord(decoding: bytes)
        _ = try? APIKeyRecord(decoding: bytes)
        if let view = try? APIKeyRecordView(bytes) {
            _ = (view.userID, view.expiresAt, view.revokedAt, view.lastUsedAt, view.keyID, view.name.count)
            forEachShortString(view.rawPermissions) { _ in }
        }
        _ = try? TokenKey(id: 1, decoding: bytes, master: fuzzingMasterKey)
    }

    private static let fuzzingMasterKey = MasterKey(bytes: [UInt8](repeating: 7, count: 32))
}
