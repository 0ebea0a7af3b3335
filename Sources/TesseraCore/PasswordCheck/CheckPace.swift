import Locking
import SodiumKit

/// How long a refused password check takes once it has a hashing thread, so that an attempt
/// answered without one (under a lock) takes as long and its timing does not tell a lock from
/// a wrong password.
///
/// The pace keeps the durations of the last ``sampleCount`` refused checks, each from its start
/// on a hashing thread to the commit of its failure (argon2id at the parameters in force and
/// the durable write), and an attempt under a lock takes one of them at random: its time is
/// then distributed as a refused check's is, its median and its tail alike, however skewed a
/// loaded machine makes them (a running mean would not be: a few stalled checks pull it far
/// above what most checks take). The wait for a thread is not estimated but taken: an attempt
/// under a lock waits in the pool's queue for a thread like a check (running nothing on it),
/// then for the drawn duration. Before the first refused check there is nothing to draw, and
/// the first attempt that needs a duration runs a dummy check instead.
final class CheckPace: Sendable {
    /// How many recent durations are kept.
    static let sampleCount = 64

    private struct Samples {
        var durations: [Duration] = []
        var next = 0
    }

    private let samples = Locked(Samples())

    /// Adds the duration of a refused check, from its start on a hashing thread.
    func record(_ duration: Duration) {
        samples.withLock { samples in
            if samples.durations.count < Self.sampleCount {
                samples.durations.append(duration)
            } else {
                samples.durations[samples.next] = duration
            }
            samples.next = (samples.next + 1) % Self.sampleCount
        }
    }

    /// One of the recent durations, drawn at random; `nil` before any refused check.
    func draw() -> Duration? {
        samples.withLock { samples in
            samples.durations.isEmpty ? nil : samples.durations[Int.random(in: 0..<samples.durations.count)]
        }
    }

    /// Waits for a thread of `passwords`' hashing pool as a check in `lane` would
    /// (``AuthError/busy`` when its queue is full), then returns once a drawn refused check's time has passed since
    /// the thread was free (after a dummy check when there is none yet). `meanwhile` runs in
    /// that time: what the attempt has to write.
    func wait(as passwords: PasswordCheck, in lane: HashingPool.Lane, meanwhile: () async throws -> Void = {}) async throws {
        let started = try await passwords.hashingPool.run(lane) { ContinuousClock.now }
        guard let duration = draw() else {
            var random = SecureRandom.bytes(32)
            let foreign = passwords.store.foreignPasswords.snapshot
            let outcome = try await passwords.check(SecretBytes(wiping: &random), against: nil, lane: lane, paced: foreign.isActive)
            try await passwords.padRefusal(startedAt: outcome.startedAt, foreign)
            try await meanwhile()
            record(ContinuousClock.now - started)
            return
        }
        try await meanwhile()
        let deadline = started + duration
        if deadline > ContinuousClock.now { try await Task.sleep(until: deadline, clock: .continuous) }
    }
}
