import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import TesseraClient

/// `TesseraClient.verify` from concurrent tasks on one client: what each call costs a web
/// process that uses the library (Benchmarks/client.sh sets it beside epoll-load in one run).
struct ClientVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client-verify",
        abstract: "TesseraClient.verify from T concurrent tasks sharing one client; prints throughput and latency percentiles.")
    @Option(help: "Unix socket of tesserad.") var socket: String
    @Option(help: "Token file written by 'seed'.") var tokens: String
    @Option(name: .shortAndLong, help: "Concurrent tasks, each one verify at a time.") var tasks: Int = 50
    @Option(help: "Seconds to run.") var seconds: Double = 10
    @Option(help: "Event-loop threads of the client's group (0: the process-wide singleton, as a web process would use).")
    var threads: Int = 0
    @Option(help: "Expected user id in verify replies.") var userID: UInt64 = 1
    @Option(help: "Label for the result line.") var label: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func validate() throws {
        guard (1...10_000).contains(tasks) else { throw ValidationError("--tasks must be 1 to 10000") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
    }

    func run() async throws {
        let all = try String(contentsOfFile: tokens, encoding: .utf8).split(separator: "\n").map(String.init)
        guard !all.isEmpty else { throw ValidationError("no tokens in \(tokens)") }
        let group: MultiThreadedEventLoopGroup = threads == 0 ? .singleton : MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let client = TesseraClient(socketPath: socket, eventLoopGroup: group)
        _ = try await client.verify(token: all[0])  // connected before the clock starts
        let (tasks, expected) = (self.tasks, userID)
        let started = Clock.nanoseconds()
        let deadline = started + UInt64(seconds * 1e9)
        let merged = try await withThrowingTaskGroup(of: UncheckedBox<OperationStats>.self) { group in
            for index in 0..<tasks {
                group.addTask {
                    var stats = OperationStats()
                    var next = index
                    while Clock.nanoseconds() < deadline {
                        let token = all[next % all.count]
                        next &+= tasks
                        let sent = Clock.nanoseconds()
                        do {
                            let session = try await client.verify(token: token)
                            guard session.userID == expected else {
                                stats.fail("user \(session.userID), expected \(expected)")
                                continue
                            }
                            stats.record(nanoseconds: Clock.nanoseconds() - sent)
                        } catch {
                            stats.fail("\(error)")
                        }
                    }
                    return UncheckedBox(stats)
                }
            }
            var merged = OperationStats()
            for try await stats in group { merged.merge(stats.value) }
            return merged
        }
        let elapsed = Double(Clock.nanoseconds() - started) / 1e9
        await client.close()
        if threads != 0 { try? await group.shutdownGracefully() }
        Report.print(label: label ?? "client \(tasks) tasks", stats: [.verify: merged], elapsed: elapsed, json: json)
        if merged.failed > 0 { throw ExitCode(2) }
    }
}
