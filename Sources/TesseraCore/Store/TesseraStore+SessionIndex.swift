import LMDBKit
import Locking
import Logging
import TesseraModel

/// The in-memory ``SessionIndex`` beside `sessions`: its entries, and its fill at open.
extension TesseraStore {
    /// Sessions one fill step copies into the index (a few milliseconds of the writer's time).
    static let indexFillStep = 8192

    /// The index entry of session `id`, stored as `view`; `nil` when the index cannot hold it.
    func indexEntry(_ id: SessionID, _ view: SessionRecordView) -> SessionIndex.Entry? {
        sessionIndex.entry(
            id, digest: view.digest, keyID: view.keyID, userID: view.userID, expiresAt: view.expiresAt, lastSeen: view.lastSeen,
            idleSeconds: view.idleSeconds, rawRoles: view.rawRoles)
    }

    /// Copies the sessions from key `start` on into the index, one step at a time, each step as
    /// work on the writer thread: a step reads the latest committed sessions and puts them into
    /// the index after its commit, between the changes of the writes around it, so a session
    /// ended while the fill runs is never put back. The last step makes the index
    /// authoritative; until then verify asks LMDB about what the index does not hold.
    func fillSessionIndex(after start: [UInt8]) {
        let (index, sessions, step) = (sessionIndex, self.sessions, Self.indexFillStep)
        writer.submit(
            { [self] txn -> (last: [UInt8], done: Bool) in
                var entries: [(SessionID, SessionIndex.Entry?)] = []
                entries.reserveCapacity(step)
                var last: [UInt8] = []
                try txn.forEach(in: sessions, from: start) { key, value in
                    guard entries.count < step else { return false }
                    last = Array(key)
                    guard key.count == SessionID.length else { return true }
                    let id = SessionID(raw: key)
                    entries.append((id, (try? SessionRecordView(value)).flatMap { indexEntry(id, $0) }))
                    return true
                }
                let done = entries.count < step
                txn.afterCommit {
                    for (id, entry) in entries { index.put(entry, for: id) }
                    if done { index.markComplete() }
                }
                return (last, done)
            },
            completion: { [self] result in
                switch result {
                case .success(let (last, done)):
                    guard done else { return fillSessionIndex(after: last + [0]) }
                    let elapsed = sessionIndexFill.withLock { $0.started.duration(to: .now) }
                    logger.notice(
                        "session index filled",
                        metadata: [
                            "sessions": "\(index.sessionCount)",
                            "milliseconds": "\(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)",
                        ])
                case .failure(LMDBError.closed):
                    break
                case .failure(let error):
                    logger.error("session index fill failed; verify reads LMDB", metadata: ["error": "\(error)"])
                }
                finishSessionIndexFill()
            })
    }

    /// Returns once the fill at open has ended (the index is authoritative, or the fill gave
    /// up and verify reads LMDB): for benchmarks that measure the steady state, and tests.
    @_spi(TesseraInternal) public func waitForSessionIndex() async {
        await withCheckedContinuation { continuation in
            let done = sessionIndexFill.withLock { state in
                if !state.done { state.waiting.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    private func finishSessionIndexFill() {
        let waiting = sessionIndexFill.withLock { state in
            state.done = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}
