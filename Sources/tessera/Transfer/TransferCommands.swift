import ArgumentParser
import Foundation
import Logging
import TesseraClient
import TesseraModel

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Bring users from another system into the running daemon, password hashes as they are.",
        discussion: """
            Nothing is hashed at import: each user's hash (bcrypt, sha512crypt, yescrypt, PBKDF2-SHA-256, \
            argon2, or one of them over the SHA-256 hex of the password) is checked at the user's first \
            login and replaced there by Tessera's argon2id. Every record is checked before it is written; a \
            refused one is reported with its line and reason and the others go on. Running an import \
            again changes nothing; a killed one, run again, resumes after what it had committed. Exit \
            status: 0 when every record was imported or already there, 2 when some were refused, 1 on an \
            error.
            """,
        subcommands: [ImportUsers.self, ImportRocketChat.self, ImportUnleash.self])
    @OptionGroup var options: GlobalOptions
}

/// Options every importer takes.
struct ImportOptions: ParsableArguments {
    @Flag(help: "Check every record against the daemon's users and print the summary; write nothing.")
    var dryRun = false

    @Flag(help: "Ignore where an earlier run of the same source got to (records already imported are left alone).")
    var fromStart = false

    /// Lowers the process to nice 19: an import is a bulk job, and on a busy host the daemon's
    /// serving of web requests comes first (the daemon's writer, which does the import's writes,
    /// runs at nice 10; its socket threads at 0).
    /// On Linux nice is per thread and a new thread takes its creator's: every thread the
    /// process has so far is lowered, and the ones it starts later follow.
    static func yieldToServing() {
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for thread in threads.compactMap({ id_t($0) }) + [0] {
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread, 19)
        }
    }

    /// The source's bytes (mapped, not read), once the process has lowered its priority.
    func start(reading file: String) throws -> Data {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped)
        } catch {
            throw ValidationError("cannot read \(file): \(error.localizedDescription)")
        }
        Self.yieldToServing()
        return data
    }
}

struct ImportUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Import users from a JSON-lines file in Tessera's format (docs/IMPORT.md; what `tessera export users` writes).")
    @OptionGroup var options: GlobalOptions
    @OptionGroup var importOptions: ImportOptions
    @Argument(help: "The file: one JSON object a line.") var file: String

    func run() async throws {
        let data = try importOptions.start(reading: file)
        var summary = ImportSummary()
        try await options.run { client in
            let run = ImportRun(client: client, source: SourceName.of(data, kind: "users"), dryRun: importOptions.dryRun, positionName: "line")
            let resumeAfter = importOptions.dryRun || importOptions.fromStart ? 0 : try await run.resumePosition()
            let records = JSONLines(data: data, after: resumeAfter).lazy.map { line in
                let user: Result<ImportedUser, RecordError> =
                    line.tooLong
                    ? .failure(RecordError("line of \(line.length) bytes; a record is at most \(JSONLines.maximumLength)"))
                    : Result { () throws(RecordError) in try UserLine.parse(line.bytes) }
                // The label of a refused line costs a second parse; an accepted one names itself.
                let label = (try? user.get())?.username ?? (line.tooLong ? "-" : UserLine.label(line.bytes))
                return SourceRecord(position: line.number, label: label, user: user, progress: line.end)
            }
            summary = try await run.run(records, resumedAfter: resumeAfter, progress: ProgressReport(total: data.count, unit: "users"))
        }
        summary.print(json: options.json, positionName: "line")
        if !summary.rejected.isEmpty { throw ExitCode(2) }
    }
}

struct ImportRocketChat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rocketchat",
        abstract: "Import Rocket.Chat's users from `mongoexport --collection users` (JSON lines or --jsonArray, relaxed or canonical).",
        discussion: """
            Each user keeps its _id as its external id (what Rocket.Chat clients send as X-User-Id), its \
            password (bcrypt or argon2 of the password's SHA-256, checked at the first login and replaced \
            by argon2id), its roles, its creation time, its enabled TOTP secret and its unused backup codes \
            (each works once). Its live login tokens become sessions (the apps' authToken keeps working, \
            until the token's login time plus --login-expiration-days) and its personal access tokens API \
            keys that accept the same token: nobody is logged out. Tessera keeps only a keyed digest of \
            what Rocket.Chat stored. Expired and unreadable tokens are counted in the summary.
            """)
    @OptionGroup var options: GlobalOptions
    @OptionGroup var importOptions: ImportOptions
    @Option(help: "Rocket.Chat's \"Login Expiration in Days\" (Accounts > Login Expiration): a login token expires this long after its login.")
    var loginExpirationDays = 90
    @Argument(help: "The mongoexport file.") var file: String

    func validate() throws {
        guard (1...36_500).contains(loginExpirationDays) else { throw ValidationError("--login-expiration-days must be 1 to 36500") }
    }

    func run() async throws {
        let data = try importOptions.start(reading: file)
        let isArray = data.first(where: { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }) == UInt8(ascii: "[")
        let positionName = isArray ? "document" : "line"
        let left = LeftCount()
        let (expiration, now) = (TimeInterval(loginExpirationDays) * 86_400, Date())
        let record = { (document: Result<JSONValue, JSONValue.ParseError>, position: UInt64, progress: Int) in
            Self.record(document, position: position, progress: progress, loginExpiration: expiration, now: now, left)
        }
        var summary = ImportSummary()
        try await options.run { client in
            let run = ImportRun(
                client: client, source: SourceName.of(data, kind: "rocketchat"), dryRun: importOptions.dryRun, positionName: positionName)
            let resumeAfter = importOptions.dryRun || importOptions.fromStart ? 0 : try await run.resumePosition()
            let progress = ProgressReport(total: data.count, unit: "users")
            if isArray {
                let value: JSONValue
                do {
                    value = try JSONValue.parse(data)
                } catch {
                    throw ValidationError("\(file) starts with [ but is not a JSON array: \(error)")
                }
                guard let documents = value.array else { throw ValidationError("\(file) is not a JSON array") }
                let records = documents.enumerated().dropFirst(Int(resumeAfter)).lazy.map { index, document in
                    record(.success(document), UInt64(index + 1), data.count * (index + 1) / documents.count)
                }
                summary = try await run.run(records, resumedAfter: resumeAfter, progress: progress)
            } else {
                let records = JSONLines(data: data, after: resumeAfter).lazy.map { line in
                    line.tooLong
                        ? SourceRecord(
                            position: line.number, label: "-",
                            user: .failure(RecordError("line of \(line.length) bytes; a record is at most \(JSONLines.maximumLength)")),
                            progress: line.end)
                        : record(Result { () throws(JSONValue.ParseError) in try JSONValue.parse(line.bytes) }, line.number, line.end)
                }
                summary = try await run.run(records, resumedAfter: resumeAfter, progress: progress)
            }
        }
        summary.notImported = [
            "expired_login_tokens": left.value.expiredLoginTokens,
            "login_tokens_beyond_the_newest_\(RocketChatUser.maximumSessions)": left.value.olderLoginTokens,
            "unreadable_tokens": left.value.unreadableTokens,
        ]
        summary.print(json: options.json, positionName: positionName)
        if !summary.rejected.isEmpty { throw ExitCode(2) }
    }

    private static func record(
        _ document: Result<JSONValue, JSONValue.ParseError>, position: UInt64, progress: Int, loginExpiration: TimeInterval, now: Date,
        _ left: LeftCount
    ) -> SourceRecord {
        let object: [String: JSONValue]
        switch document {
        case .failure(let error):
            return SourceRecord(
                position: position, label: "-", user: .failure(RecordError("not a JSON object (\(error))")), progress: progress)
        case .success(let value):
            guard let members = value.object else {
                return SourceRecord(position: position, label: "-", user: .failure(RecordError("not a JSON object")), progress: progress)
            }
            object = members
        }
        let label = object["username"]?.string ?? object["_id"]?.string ?? "-"
        do {
            let (user, rest) = try RocketChatUser.user(object, loginExpiration: loginExpiration, now: now)
            left.value.expiredLoginTokens += rest.expiredLoginTokens
            left.value.olderLoginTokens += rest.olderLoginTokens
            left.value.unreadableTokens += rest.unreadableTokens
            return SourceRecord(position: position, label: label, user: .success(user), progress: progress)
        } catch {
            return SourceRecord(position: position, label: label, user: .failure(error), progress: progress)
        }
    }

    /// What the documents held that is not imported, summed as they are read (by the one task
    /// that reads them).
    private final class LeftCount: @unchecked Sendable {
        var value = RocketChatUser.Left()
    }
}

struct ImportUnleash: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unleash",
        abstract: "Import Unleash's users from its live PostgreSQL database.",
        discussion: """
            Reads, in one read-only snapshot: each user (not deleted, not Unleash's own system users) with \
            its id as its external id (the gateway's Unleash API answers with it), its bcrypt hash (checked \
            at the first login and replaced by argon2id), its root role, its live browser sessions and its \
            live personal access tokens (API keys that accept the old token). Sessions need Unleash's \
            session secret (UNLEASH_SECRET): a browser's unleash-session cookie is the session id signed \
            with it, and Tessera keeps only a keyed digest of that cookie. Without --session-secret-file \
            the sessions are counted, not imported. The database password is read from \
            --postgres-password-file or PGPASSWORD, never from the URL.
            """)
    @OptionGroup var options: GlobalOptions
    @OptionGroup var importOptions: ImportOptions
    @Option(help: "The database: postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&host=/socket/dir].")
    var postgres: String
    @Option(help: "A file holding the database user's password (default: $PGPASSWORD).")
    var postgresPasswordFile: String?
    @Option(help: "A file holding Unleash's session secret (UNLEASH_SECRET): imports the live browser sessions.")
    var sessionSecretFile: String?

    func run() async throws {
        let location = try UnleashSource.Location(
            url: postgres, passwordFile: postgresPasswordFile, environment: ProcessInfo.processInfo.environment)
        var secret: [UInt8]?
        if let sessionSecretFile {
            guard let contents = FileManager.default.contents(atPath: sessionSecretFile) else {
                throw ValidationError("cannot read \(sessionSecretFile)")
            }
            var bytes = Array(contents)
            while let last = bytes.last, last == 0x0a || last == 0x0d { bytes.removeLast() }
            guard !bytes.isEmpty else { throw ValidationError("\(sessionSecretFile) is empty") }
            secret = bytes
        }
        ImportOptions.yieldToServing()
        var summary = ImportSummary()
        var left: [String: Int] = [:]
        try await options.run { client in
            let run = ImportRun(client: client, source: location.sourceName, dryRun: importOptions.dryRun, positionName: "user id")
            let resumeAfter = importOptions.dryRun || importOptions.fromStart ? 0 : try await run.resumePosition()
            let source = try await UnleashSource.read(
                location, after: resumeAfter, sessionSecret: secret, logger: Logger(label: "tessera.import.postgres"))
            left = source.left
            let records = source.users.enumerated().lazy.map { index, row in
                SourceRecord(
                    position: UInt64(row.id), label: row.username ?? row.email ?? String(row.id), user: .success(source.user(row)),
                    progress: index + 1)
            }
            summary = try await run.run(records, resumedAfter: resumeAfter, progress: ProgressReport(total: source.users.count, unit: "users"))
        }
        summary.notImported = left
        summary.print(json: options.json, positionName: "user id")
        if !summary.rejected.isEmpty { throw ExitCode(2) }
    }
}

/// The non-empty lines of a file, numbered from 1, after line `after`.
struct JSONLines: Sequence, IteratorProtocol {
    /// A record longer than this is refused unread.
    static let maximumLength = 1 << 20

    struct Line {
        var number: UInt64
        /// The line's bytes (none when it is too long to read).
        var bytes: Data
        /// The line's length in bytes.
        var length: Int
        var end: Int
        var tooLong: Bool
    }

    let data: Data
    let after: UInt64
    private var offset: Int
    private var number: UInt64 = 0

    init(data: Data, after: UInt64) {
        self.data = data
        self.after = after
        offset = 0
    }

    mutating func next() -> Line? {
        // Through the bytes, not Data's subscript: a checked access a byte costs more than the
        // JSON parse of the line.
        let (data, after) = (self.data, self.after)
        return data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Line? in
            guard let base = bytes.baseAddress else { return nil }
            while offset < bytes.count {
                let start = offset
                let found = memchr(base + start, 0x0a, bytes.count - start)
                let end = found.map { $0 - UnsafeMutableRawPointer(mutating: base) } ?? bytes.count
                offset = found == nil ? end : end + 1
                number += 1
                guard number > after else { continue }
                var last = end
                if last > start, bytes[last - 1] == 0x0d { last -= 1 }
                guard (start..<last).contains(where: { bytes[$0] != 0x20 && bytes[$0] != 0x09 }) else { continue }
                let tooLong = last - start > Self.maximumLength
                return Line(
                    number: number, bytes: tooLong ? Data() : Data(bytes[start..<last]), length: last - start, end: offset, tooLong: tooLong)
            }
            return nil
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the daemon's users in the format `tessera import` reads.", subcommands: [ExportUsers.self])
    @OptionGroup var options: GlobalOptions
}

struct ExportUsers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Write every user as JSON lines (docs/IMPORT.md), password hashes as stored.",
        discussion: """
            The file holds every password hash: it is created with mode 0600 and never overwritten. \
            Two-factor secrets are written only with --two-factor-secrets, and then only to a file.
            """)
    @OptionGroup var options: GlobalOptions
    @Option(help: "The file to create (mode 0600); standard output when absent.") var output: String?
    @Flag(help: "Include each enrolled user's TOTP secret (needs --output).") var twoFactorSecrets = false

    func validate() throws {
        if twoFactorSecrets && output == nil { throw ValidationError("--two-factor-secrets writes secrets: give --output FILE") }
    }

    func run() async throws {
        let handle: FileHandle
        if let output {
            let descriptor = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw ValidationError(
                    "cannot create \(output): \(String(cString: strerror(errno)))\(errno == EEXIST ? " (it exists; export never overwrites)" : "")")
            }
            handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        } else {
            handle = FileHandle.standardOutput
        }
        var count = 0
        let progress = output == nil ? nil : ProgressReport(total: 0, unit: "users")
        try await options.run { client in
            var after: UInt64 = 0
            while true {
                let page = try await client.exportUsers(afterID: after, twoFactorSecrets: twoFactorSecrets)
                var chunk = Data()
                for user in page.users {
                    chunk.append(UserLine.format(user))
                    chunk.append(0x0a)
                }
                try handle.write(contentsOf: chunk)
                count += page.users.count
                progress?.update(done: 0, items: count)
                guard let next = page.nextAfterID else { break }
                after = next
            }
        }
        try handle.synchronize()
        progress?.finish()
        if output != nil {
            if options.json {
                Output.json(["exported": count, "file": output!, "two_factor_secrets": twoFactorSecrets])
            } else {
                print("exported \(count) user(s) to \(output!)\(twoFactorSecrets ? " with their two-factor secrets" : "")")
            }
        }
    }
}
