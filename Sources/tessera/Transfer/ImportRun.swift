import Crypto
import Foundation
import TesseraClient
import TesseraModel

/// One record an importer read from its source: where it is (a line number, counted from 1),
/// what names it in a report, and the user or why it is refused.
struct SourceRecord {
    var position: UInt64
    var label: String
    var user: Result<ImportedUser, RecordError>
    /// How far into the source this record ends (bytes), for the progress bar.
    var progress: Int
}

/// What an import did, printed at its end.
struct ImportSummary {
    var created = 0
    var unchanged = 0
    /// Imported tokens written as sessions and as API keys.
    var sessions = 0
    var apiKeys = 0
    var rejected: [(position: UInt64, label: String, reason: String)] = []
    /// Records read from the source in this run.
    var records = 0
    /// The position an earlier run had committed, where this one started.
    var resumedAfter: UInt64 = 0
    var seconds = 0.0
    var dryRun = false
    /// What the source held that is left out, by kind (printed, never silently dropped).
    var notImported: [String: Int] = [:]

    func print(json: Bool, positionName: String) {
        if json {
            Output.json([
                "created": created, "unchanged": unchanged, "sessions": sessions, "api_keys": apiKeys, "records": records,
                "resumed_after": Int(resumedAfter), "dry_run": dryRun,
                "seconds": (seconds * 1000).rounded() / 1000, "users_per_second": Int(Double(created + unchanged) / max(seconds, 0.001)),
                "rejected": rejected.map { ["\(positionName)": Int($0.position), "id": $0.label, "reason": $0.reason] as [String: Any] },
                "not_imported": notImported,
            ])
            return
        }
        if resumedAfter > 0 { Swift.print("resumed after \(positionName) \(resumedAfter), committed by an earlier run") }
        if records == 0 && resumedAfter > 0 {
            Swift.print("nothing to do: every record was imported already (--from-start checks them all again)")
            return
        }
        let verb = dryRun ? "would import" : "imported"
        let rate = Int(Double(created + unchanged) / max(seconds, 0.001))
        let tokens = sessions + apiKeys > 0 ? " with \(sessions) live session(s) and \(apiKeys) API key(s)" : ""
        Swift.print(
            "\(verb) \(created) user(s)\(tokens); \(unchanged) already there and left as they are; \(rejected.count) rejected; "
                + "\(records) record(s) in \(String(format: "%.1f", seconds)) s (\(rate)/s)")
        if created == 0 && unchanged > 0 && rejected.isEmpty && !dryRun { Swift.print("nothing changed: this import was done before") }
        let left = notImported.filter { $0.value > 0 }.sorted { $0.key < $1.key }
        if !left.isEmpty {
            Swift.print(
                "left out: "
                    + left.map { "\($0.value) \($0.key.replacingOccurrences(of: "_", with: " "))" }.joined(separator: ", "))
        }
    }
}

/// Sends an importer's records to the daemon in batches (IMPORT_USERS), several in flight, and
/// keeps the source's position in the daemon with each batch: the position of the last record
/// of the batches answered so far without a gap, so that a killed import, run again, resumes
/// after what was committed and writes every user once.
struct ImportRun {
    let client: TesseraClient
    /// The name the daemon keeps the position under.
    let source: String
    let dryRun: Bool
    /// What a position is called in reports ("line", "document").
    let positionName: String
    /// Batches in flight at once.
    static let window = 4

    /// Where an earlier run of this source got to (0: nowhere).
    func resumePosition() async throws -> UInt64 {
        try await client.importUsers([], source: source).position
    }

    /// Imports `records` (those after the resume position: the caller skips the others).
    ///
    /// The records are read, checked and gathered into batches on a thread of their own at the
    /// import's priority (nice 19, see ``ImportOptions/yieldToServing()``: on Linux the threads
    /// of Swift's task pool take the priority of their quality of service, not their creator's),
    /// at most ``window`` batches ahead of the sending; the batches are sent from here.
    func run(_ records: some Sequence<SourceRecord>, resumedAfter: UInt64, progress: ProgressReport) async throws -> ImportSummary {
        var summary = ImportSummary(resumedAfter: resumedAfter, dryRun: dryRun)
        let hello = try await client.hello(clientName: "tessera-import")
        // The frame's header, the batch's own fields and a margin.
        let budget = Int(hello.maximumFrameLength) - 12 - 64
        let reader = BatchReader(records: UncheckedSendable(records), budget: budget, positionName: positionName, progress: progress)
        var batches: [Int: Batch] = [:]
        // A batch's number → the source's position after it.
        var endPositions: [Int: UInt64] = [:]
        var answered: Set<Int> = []
        var nextUnanswered = 0
        var committedThrough = resumedAfter
        var number = 0
        var read = BatchReader.Totals()

        try await withThrowingTaskGroup(of: (Int, ImportResult).self) { group in
            var inFlight = 0
            func settle(_ number: Int, _ result: ImportResult) {
                let batch = batches.removeValue(forKey: number)!
                summary.created += result.created
                summary.unchanged += result.unchanged
                summary.sessions += result.sessions
                summary.apiKeys += result.apiKeys
                for rejection in result.rejected {
                    let record = batch.records[rejection.index]
                    summary.rejected.append((record.position, record.label, rejection.reason))
                    Self.report(record.position, record.label, rejection.reason, positionName)
                }
                answered.insert(number)
                while answered.contains(nextUnanswered) {
                    answered.remove(nextUnanswered)
                    committedThrough = max(committedThrough, endPositions.removeValue(forKey: nextUnanswered) ?? committedThrough)
                    nextUnanswered += 1
                }
            }
            for await item in reader.start() {
                switch item {
                case .batch(let batch):
                    if inFlight == Self.window, let (done, result) = try await group.next() {
                        inFlight -= 1
                        settle(done, result)
                    }
                    endPositions[number] = batch.endPosition
                    batches[number] = batch
                    let (users, position, client, source, dryRun, index) = (batch.users, committedThrough, client, source, dryRun, number)
                    group.addTask {
                        (index, try await client.importUsers(users, dryRun: dryRun, source: source, position: dryRun ? nil : position))
                    }
                    inFlight += 1
                    number += 1
                    reader.taken()
                case .end(let totals):
                    read = totals
                }
            }
            while let (done, result) = try await group.next() { settle(done, result) }
        }
        summary.records = read.records
        summary.rejected += read.rejected
        // Every batch answered: the whole source is committed.
        if !dryRun && read.lastPosition > resumedAfter {
            _ = try await client.importUsers([], source: source, position: read.lastPosition)
        }
        progress.finish()
        summary.rejected.sort { $0.position < $1.position }
        summary.seconds = progress.elapsedSeconds
        return summary
    }

    /// A refused record on standard error, as it is found.
    fileprivate static func report(_ position: UInt64, _ label: String, _ reason: String, _ positionName: String) {
        FileHandle.standardError.write(Data("tessera: \(positionName) \(position) (\(label)): \(reason)\n".utf8))
    }

    fileprivate struct Batch: Sendable {
        var users: [ImportedUser] = []
        var records: [(position: UInt64, label: String)] = []
        var bytes = 0
        /// The source's position after this batch's last record (refused ones included).
        var endPosition: UInt64 = 0
    }
}

/// Reads an import's records on a thread of its own, at the import's priority: refuses the
/// ones that cannot be sent (unreadable, a username seen before, larger than a frame) and
/// gathers the others into batches of at most 1000 users and `budget` bytes, at most
/// ``ImportRun/window`` batches ahead of the ones taken.
private final class BatchReader: @unchecked Sendable {
    // @unchecked: `records` and `progress` are used by the reading thread alone once it starts.
    enum Item: Sendable {
        case batch(ImportRun.Batch)
        case end(Totals)
    }

    /// What the reading saw.
    struct Totals: Sendable {
        var records = 0
        var lastPosition: UInt64 = 0
        var rejected: [(position: UInt64, label: String, reason: String)] = []
    }

    private let records: UncheckedSendable<any Sequence<SourceRecord>>
    private let budget: Int
    private let positionName: String
    private let progress: ProgressReport
    /// Batches the reader may still send before one is taken, and whether they are no longer
    /// taken at all (the import failed): under `condition`. (A condition and a count rather
    /// than a semaphore: a semaphore freed while below its start value stops the process.)
    private let condition = NSCondition()
    private var room = ImportRun.window
    private var abandoned = false

    init(records: UncheckedSendable<some Sequence<SourceRecord>>, budget: Int, positionName: String, progress: ProgressReport) {
        self.records = UncheckedSendable(records.value)
        self.budget = budget
        self.positionName = positionName
        self.progress = progress
    }

    /// Starts the reading thread; its batches, then its totals.
    func start() -> AsyncStream<Item> {
        let (stream, continuation) = AsyncStream<Item>.makeStream()
        continuation.onTermination = { [self] _ in
            condition.withLock { abandoned = true }
            condition.broadcast()
        }
        let thread = Thread { [self] in
            Thread.current.name = "tessera-read"
            ImportOptions.yieldToServing()
            continuation.yield(
                .end(
                    read { batch in
                        let taken = condition.withLock {
                            while room == 0 && !abandoned { condition.wait() }
                            room -= 1
                            return !abandoned
                        }
                        guard taken else { return false }
                        continuation.yield(.batch(batch))
                        return true
                    }))
            continuation.finish()
        }
        thread.start()
        return stream
    }

    /// A batch was taken: the reader may go one further.
    func taken() {
        condition.withLock { room += 1 }
        condition.signal()
    }

    /// Reads the records; `send` takes each batch, false once nobody takes them any more.
    private func read(_ send: (ImportRun.Batch) -> Bool) -> Totals {
        var totals = Totals()
        var usernames: [String: UInt64] = [:]
        var current = ImportRun.Batch()
        for record in records.value {
            totals.records += 1
            totals.lastPosition = record.position
            progress.update(done: record.progress, items: totals.records)
            switch check(record, &usernames) {
            case .failure(let error):
                totals.rejected.append((record.position, record.label, error.description))
                ImportRun.report(record.position, record.label, error.description, positionName)
            case .success(let (user, size)):
                if current.bytes + size > budget || current.users.count == Self.batchUsers {
                    guard send(current) else { return totals }
                    current = ImportRun.Batch()
                }
                current.users.append(user)
                current.records.append((record.position, record.label))
                current.bytes += size
            }
            // A batch's end is its last record's position, or a refused one's after it: never a
            // record of the next batch (a batch's end is kept as committed once it is answered).
            current.endPosition = record.position
        }
        if !current.users.isEmpty { _ = send(current) }
        return totals
    }

    /// The most users a batch holds (IMPORT_USERS' limit).
    static let batchUsers = 1000

    /// The user of `record` and its encoded size, or why it cannot be sent.
    private func check(_ record: SourceRecord, _ usernames: inout [String: UInt64]) -> Result<(ImportedUser, Int), RecordError> {
        let user: ImportedUser
        switch record.user {
        case .failure(let error): return .failure(error)
        case .success(let value): user = value
        }
        let key = user.username.lowercased()
        if let first = usernames[key] {
            return .failure(RecordError("duplicate username \"\(user.username)\" (first on \(positionName) \(first))"))
        }
        usernames[key] = record.position
        let size = user.encodedSize
        guard size <= budget else { return .failure(RecordError("the record takes \(size) bytes; one frame holds \(budget)")) }
        return .success((user, size))
    }
}

/// A value moved to another thread that alone uses it from then on.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A name for a source's content: the same bytes give the same name, so a resumed run finds the
/// position its first run kept (the first 64 bits of the content's SHA-256, and its length: a
/// hash that reads the bytes a word at a time, as a file of a million users is 150 MB).
enum SourceName {
    static func of(_ data: Data, kind: String) -> String {
        "\(kind):\(Hex.format(SHA256.hash(data: data).prefix(8))):\(data.count)"
    }
}
