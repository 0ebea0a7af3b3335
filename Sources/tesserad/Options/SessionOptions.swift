import ArgumentParser
@_spi(TesseraInternal) import TesseraCore

/// Sessions, refresh tokens and validation codes: how long each lives.
struct SessionOptions: ParsableArguments {
    @Option(name: .customLong("session-lifetime"), help: "Session lifetime in seconds; a login may ask for less.")
    var sessionLifetime: UInt32 = 24 * 3600

    @Option(name: .customLong("max-sessions-per-user"), help: "Most sessions one user may hold; a new login ends the oldest (0: no cap).")
    var maximumSessionsPerUser: Int = 0

    @Option(name: .customLong("refresh-lifetime"), help: "Refresh token lifetime in seconds (fixed at login; rotation does not extend it).")
    var refreshLifetime: UInt32 = 30 * 24 * 3600

    @Option(
        name: .customLong("refresh-grace"), help: "Seconds a retired refresh token still returns the pair it was exchanged for (0: no grace window).")
    var refreshGrace: UInt32 = 10

    @Option(
        name: .customLong("api-key-max-lifetime"),
        help: "The longest an API key may live, in seconds: a key made without a lifetime gets this one, a longer one is refused (0: no maximum).")
    var apiKeyMaximumLifetime: UInt32 = 0

    @Option(name: .customLong("validation-code-lifetime"), help: "Seconds a validation code works after it was issued.")
    var validationCodeLifetime: UInt32 = 24 * 3600

    @Option(name: .customLong("session-idle-timeout"), help: "Seconds without a verify after which a session ends (0: no idle timeout).")
    var sessionIdleTimeout: UInt32 = 30 * 60

    @Option(name: .customLong("last-seen-interval"), help: "A verify writes a session's last-seen time at most this often, in seconds.")
    var lastSeenInterval: UInt32 = 60

    func validate() throws {
        guard maximumSessionsPerUser >= 0 else { throw ValidationError("--max-sessions-per-user must be 0 or more") }
        guard lastSeenInterval >= 1 else { throw ValidationError("--last-seen-interval must be at least 1 second") }
        guard sessionLifetime >= 1 else { throw ValidationError("--session-lifetime must be at least 1 second") }
        guard validationCodeLifetime >= 1 else { throw ValidationError("--validation-code-lifetime must be at least 1 second") }
    }

    func apply(to auth: inout AuthConfiguration) {
        auth.sessionLifetimeSeconds = sessionLifetime
        auth.idleTimeoutSeconds = sessionIdleTimeout
        auth.refreshLifetimeSeconds = refreshLifetime
        auth.refreshGraceSeconds = refreshGrace
        auth.validationCodeLifetimeSeconds = validationCodeLifetime
        auth.maximumSessionsPerUser = maximumSessionsPerUser
        auth.lastSeenIntervalSeconds = lastSeenInterval
        auth.apiKeyMaximumLifetimeSeconds = apiKeyMaximumLifetime
    }
}
