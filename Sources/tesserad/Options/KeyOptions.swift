import ArgumentParser
@_spi(TesseraInternal) import TesseraCore

/// The key ring and what is signed with it: automatic rotation, JWTs, the TOTP issuer.
struct KeyOptions: ParsableArguments {
    @Option(
        name: .customLong("rotate-every"),
        help: "Rotate the token key when it has been active this many seconds (0: only by hand, 'tessera keys rotate').")
    var rotateEvery: UInt32 = 0

    @Option(
        name: .customLong("rotate-jwt-every"),
        help: "Rotate the JWT signing key when it has been active this many seconds (0: only by hand). Default: 30 days.")
    var rotateJWTEvery: UInt32 = 30 * 24 * 3600

    @Option(name: .customLong("jwt-lifetime"), help: "Seconds a JWT access token lives (never beyond its session).")
    var jwtLifetime: UInt32 = 3600

    @Option(name: .customLong("jwt-issuer"), help: "The 'iss' claim of JWT access tokens.")
    var jwtIssuer = "tessera"

    @Option(name: .customLong("jwt-audience"), help: "The 'aud' claim of JWT access tokens (none by default).")
    var jwtAudience: String?

    @Option(
        name: .customLong("totp-issuer"),
        help: "The issuer authenticator apps show beside a two-factor account (an enrolment may name another).")
    var totpIssuer = "Tessera"

    func validate() throws {
        guard jwtLifetime >= 1 else { throw ValidationError("--jwt-lifetime must be at least 1 second") }
    }

    func apply(to auth: inout AuthConfiguration) {
        auth.keyRotationSeconds = rotateEvery
        auth.jwtKeyRotationSeconds = rotateJWTEvery
        auth.jwtLifetimeSeconds = jwtLifetime
        auth.jwtIssuer = jwtIssuer
        auth.totpIssuer = totpIssuer
        auth.jwtAudience = jwtAudience
    }
}
