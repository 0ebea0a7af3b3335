import Foundation
import TesseraClient

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
    func run(_ records: some Sequence<SourceRecord>, resumedAfter: UInt64, progress: ProgressReport) async throws -> ImportSummary {
        var summary = ImportSummary(resumedAfter: resumedAfter, dryRun: dryRun)
        let hello = try await client.hello(clientName: "tessera-import")
        // The frame's header, the batch's own fields and a margin.
        let budget = Int(hello.maximumFrameLength) - 12 - 64
        var usernames: [String: UInt64] = [:]
        var batches: [Int: Batch] = [:]
        // A batch's number → the source's position after it.
        var endPositions: [Int: UInt64] = [:]
        var answered: Set<Int> = []
        var nextUnanswered = 0
        var committedThrough = resumedAfter
        var current = Batch()
        var number = 0
        var lastPosition = resumedAfter

        func report(_ position: UInt64, _ label: String, _ reason: String) {
            summary.rejected.append((position, label, reason))
            FileHandle.standardError.write(Data("tessera: \(positionName) \(position) (\(label)): \(reason)\n".utf8))
        }

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
                    report(record.position, record.label, rejection.reason)
                }
                answered.insert(number)
                while answered.contains(nextUnanswered) {
                    answered.remove(nextUnanswered)
                    committedThrough = max(committedThrough, endPositions.removeValue(forKey: nextUnanswered) ?? committedThrough)
                    nextUnanswered += 1
                }
            }
            func submit() async throws {
                guard !current.users.isEmpty else { return }
                if inFlight == Self.window, let (done, result) = try await group.next() {
                    inFlight -= 1
                    settle(done, result)
                }
                let batch = current
                endPositions[number] = lastPosition
                batches[number] = batch
                let (users, position, client, source, dryRun, index) = (batch.users, committedThrough, client, source, dryRun, number)
                group.addTask {
                    (index, try await client.importUsers(users, dryRun: dryRun, source: source, position: dryRun ? nil : position))
                }
                inFlight += 1
                number += 1
                current = Batch()
            }

            for record in records {
                summary.records += 1
                lastPosition = record.position
                progress.update(done: record.progress, items: summary.records)
                switch record.user {
                case .failure(let error):
                    report(record.position, record.label, error.description)
                case .success(let user):
                    let key = user.username.lowercased()
                    if let first = usernames[key] {
                        report(record.position, record.label, "duplicate username \"\(user.username)\" (first on \(positionName) \(first))")
                        continue
                    }
                    usernames[key] = record.position
                    let size = user.encodedSize
                    guard size <= budget else {
                        report(record.position, record.label, "the record takes \(size) bytes; one frame holds \(budget)")
                        continue
                    }
                    if current.bytes + size > budget || current.users.count == 1000 { try await submit() }
                    current.users.append(user)
                    current.records.append((record.position, record.label))
                    current.bytes += size
                }
            }
            try await submit()
            while let (done, result) = try await group.next() { settle(done, result) }
        }
        // Every batch answered: the whole source is committed.
        if !dryRun && lastPosition > resumedAfter {
            _ = try await client.importUsers([], source: source, position: lastPosition)
        }
        progress.finish()
        summary.rejected.sort { $0.position < $1.position }
        summary.seconds = progress.elapsedSeconds
        return summary
    }

    private struct Batch {
        var users: [ImportedUser] = []
        var records: [(position: UInt64, label: String)] = []
        var bytes = 0
    }
}

/// A name for a source's content: the same bytes give the same name, so a resumed run finds the
/// position its first run kept (FNV-1a over the content, and its length).
enum SourceName {
    static func of(_ data: Data, kind: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { bytes in
            for byte in bytes {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        return "\(kind):\(String(hash, radix: 16)):\(data.count)"
    }
}
