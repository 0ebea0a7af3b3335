import ArgumentParser
import SodiumKit
@_spi(TesseraInternal) import TesseraCore

/// Passwords: argon2id's cost, the threads that run it, the shortest password, the lock after
/// failed logins.
struct PasswordOptions: ParsableArguments {
    @Option(name: .customLong("argon2-ops"), help: "argon2id passes (opslimit). Default: libsodium INTERACTIVE (2).")
    var argon2Ops: UInt64 = PasswordHasher.interactive.opsLimit

    @Option(name: .customLong("argon2-mem-kib"), help: "argon2id memory in KiB (memlimit). Default: libsodium INTERACTIVE (65536).")
    var argon2MemKiB: Int = PasswordHasher.interactive.memLimit / 1024

    @Option(name: .customLong("hash-threads"), help: "Threads hashing passwords, at most one argon2id each. Default: one per core.")
    var hashThreads: Int = TesseraCore.System.coreCount

    @Option(name: .customLong("hash-queue"), help: "Password hashes that may wait for a thread; more get 'busy'.")
    var hashQueue: Int = 64

    @Option(name: .customLong("min-password-length"), help: "Shortest password accepted for new users, in bytes.")
    var minimumPasswordLength: Int = 8

    @Option(
        name: .customLong("lockout-threshold"),
        help:
            "Consecutive failed logins under one identifier (known or not) or one account before it locks; no password is checked under a lock (0 disables)."
    )
    var lockoutThreshold: UInt32 = 10

    @Option(name: .customLong("lockout-delay"), help: "First lockout delay in seconds; it doubles with each further failure.")
    var lockoutDelay: UInt32 = 30

    @Option(name: .customLong("lockout-max-delay"), help: "Longest lockout delay in seconds.")
    var lockoutMaxDelay: UInt32 = 15 * 60

    @Option(
        name: .customLong("source-failure-burst"),
        help:
            "Failed logins a client address (client_ip; an IPv6 /64) may make at once before its logins are answered 'locked' without a check (0 disables)."
    )
    var sourceFailureBurst: UInt32 = SourceThrottlePolicy().burst

    @Option(
        name: .customLong("source-failures-per-minute"), help: "Failed logins a client address regains a minute (0 disables the source throttle).")
    var sourceFailuresPerMinute: UInt32 = SourceThrottlePolicy().perMinute

    func validate() throws {
        guard PasswordHasher(opsLimit: argon2Ops, memLimit: argon2MemKiB * 1024).isValid else {
            throw ValidationError("argon2id needs --argon2-ops >= 1 and --argon2-mem-kib >= 8")
        }
        guard (1...1024).contains(hashThreads), (0...1_000_000).contains(hashQueue) else {
            throw ValidationError("--hash-threads must be between 1 and 1024 and --hash-queue between 0 and 1,000,000")
        }
        guard lockoutDelay >= 1, lockoutMaxDelay >= lockoutDelay else {
            throw ValidationError("--lockout-delay must be at least 1 and at most --lockout-max-delay")
        }
        guard (1...1024).contains(minimumPasswordLength) else { throw ValidationError("--min-password-length must be between 1 and 1024") }
    }

    func apply(to auth: inout AuthConfiguration) {
        auth.passwordHasher = PasswordHasher(opsLimit: argon2Ops, memLimit: argon2MemKiB * 1024)
        auth.hashingThreads = hashThreads
        auth.hashingQueueLimit = hashQueue
        auth.minimumPasswordLength = minimumPasswordLength
        auth.sourceThrottle = SourceThrottlePolicy(burst: sourceFailureBurst, perMinute: sourceFailuresPerMinute)
        auth.lockout = LockoutPolicy(threshold: lockoutThreshold, baseDelaySeconds: lockoutDelay, maximumDelaySeconds: lockoutMaxDelay)
    }
}
