import Locking
import SodiumKit

/// How long a refused password check takes while some user still holds another system's hash
/// (imported, not yet replaced by a login): as long as the costliest check, whoever is refused.
///
/// Without it, a wrong password for an imported user costs the foreign check (bcrypt at cost 10
/// is ~60 ms here) where an unknown identifier or a re-hashed user costs one argon2id, and the
/// difference lists the imported accounts. So while ``ForeignPasswords`` counts any foreign
/// hash, every refused check does its own work only (argon2id for a Tessera hash or an unknown
/// identifier, the foreign check for an imported hash) and then waits until a drawn duration has
/// passed since it started on its hashing thread.
///
/// The durations are measured, not guessed: a calibration run takes, on a hashing thread, one
/// argon2id check against the dummy hash and one check against each kept dummy of an imported
/// cost (``StoredPassword/dummy()``), and its duration is the longest of these. The last
/// ``sampleCount`` runs are kept, a refused check waits for one of them drawn at random, and a
/// fresh run starts in the background every ``refreshEvery`` refusals (and at start), so the
/// durations follow the machine's load. A refusal that finds no run measured for the costs in
/// force (the first after a start or after an import of a new cost) waits for one.
final class ForeignCheckPace: Sendable {
    static let sampleCount = 16
    static let refreshEvery = 16

    private struct State {
        var generation = -1
        var durations: [Duration] = []
        var next = 0
        var refusals = 0
        var calibrating = false
    }

    private let state = Locked(State())

    /// Waits until a drawn calibrated duration has passed since `startedAt` (at once when the
    /// check took longer), measuring one first when none holds for `foreign`'s dummies.
    func padRefusal(
        startedAt: ContinuousClock.Instant, _ foreign: ForeignPasswords.Snapshot, calibrate: @escaping @Sendable () async throws -> Duration
    ) async throws {
        let (drawn, refresh) = state.withLock { state -> (Duration?, Bool) in
            if state.generation != foreign.generation {
                state = State(generation: foreign.generation)
            }
            state.refusals += 1
            let refresh = !state.calibrating && (state.durations.count < Self.sampleCount || state.refusals % Self.refreshEvery == 0)
            if refresh { state.calibrating = true }
            return (state.durations.isEmpty ? nil : state.durations[Int.random(in: 0..<state.durations.count)], refresh)
        }
        var duration = drawn
        if refresh {
            let run = Task { try await self.measure(foreign.generation, calibrate) }
            if duration == nil { duration = try await run.value }
        }
        if duration == nil { duration = try await measure(foreign.generation, calibrate, sharing: false) }
        let deadline = startedAt + duration!
        if deadline > ContinuousClock.now { try await Task.sleep(until: deadline, clock: .continuous) }
    }

    /// Starts measuring in the background when nothing is measured for `foreign`'s dummies.
    func prepare(_ foreign: ForeignPasswords.Snapshot, calibrate: @escaping @Sendable () async throws -> Duration) {
        let start = state.withLock { state -> Bool in
            if state.generation != foreign.generation { state = State(generation: foreign.generation) }
            guard state.durations.isEmpty, !state.calibrating else { return false }
            state.calibrating = true
            return true
        }
        if start { Task { _ = try? await self.measure(foreign.generation, calibrate) } }
    }

    /// One calibration run, kept when the costs did not change meanwhile.
    private func measure(
        _ generation: Int, _ calibrate: @Sendable () async throws -> Duration, sharing: Bool = true
    ) async throws -> Duration {
        defer { if sharing { state.withLock { $0.calibrating = false } } }
        let duration = try await calibrate()
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.durations.count < Self.sampleCount {
                state.durations.append(duration)
            } else {
                state.durations[state.next] = duration
            }
            state.next = (state.next + 1) % Self.sampleCount
        }
        return duration
    }
}
