import Foundation
import SodiumKit
import TesseraModel

/// JWT access tokens (RFC 7519) signed with Ed25519 (`alg: EdDSA`, RFC 8037), for services
/// that verify offline against the JWKS. A JWT stands for a session: `sid` names it, so VERIFY
/// can also tell whether the session behind a JWT was revoked.
///
/// Header `{"alg":"EdDSA","kid":"<key id>","typ":"JWT"}`; claims `iss`, `aud` (when configured),
/// `sub` (the user id), `sid` (the session id, 32 hex digits), `iat`, `exp` (seconds), `jti`,
/// `roles`.
enum AccessJWT {
    /// A signed JWT and its expiry (milliseconds).
    struct Issued: Sendable, Equatable {
        var text: String
        var expiresAt: Timestamp
    }

    /// A JWT for `session` of `userID` with `roles`, signed with `key`, expiring `lifetime`
    /// seconds after `now` but never after `sessionExpiresAt`.
    static func issue(
        userID: UInt64, session: SessionID, roles: [String], sessionExpiresAt: Timestamp, key: TokenKey,
        configuration: AuthConfiguration, now: Timestamp
    ) -> Issued {
        let expiresAt = min(now + Int64(configuration.jwtLifetimeSeconds) * 1000, sessionExpiresAt)
        var claims: [String: Any] = [
            "iss": configuration.jwtIssuer, "sub": String(userID), "sid": session.description, "iat": now / 1000,
            "exp": expiresAt / 1000, "jti": Base64URL.encode(SecureRandom.bytes(16)), "roles": roles,
        ]
        if let audience = configuration.jwtAudience { claims["aud"] = audience }
        let header: [String: Any] = ["alg": "EdDSA", "kid": String(key.id), "typ": "JWT"]
        let signingInput = encode(header) + "." + encode(claims)
        let (_, secretKey) = Ed25519.keyPair(seed: key.materialBytes)
        let signature = Ed25519.sign(Array(signingInput.utf8), secretKey: secretKey)
        return Issued(text: signingInput + "." + Base64URL.encode(signature), expiresAt: expiresAt / 1000 * 1000)
    }

    /// What a verified JWT says.
    struct Claims: Sendable, Equatable {
        var userID: UInt64
        var sessionID: SessionID
        var expiresAt: Timestamp
    }

    /// Checks `text`'s signature with the signing key its `kid` names (active or verify-only)
    /// and its expiry at `now`. `token-invalid` for anything not a JWT this server signed with a
    /// live key, `token-expired` past `exp`.
    static func verify(_ text: String, ring: TokenKeyRing, configuration: AuthConfiguration, now: Timestamp) throws(AuthError) -> Claims {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = object(parts[0]), let claims = object(parts[1]),
            let signature = bytes(parts[2]), header["alg"] as? String == "EdDSA",
            let kid = (header["kid"] as? String).flatMap({ UInt16($0) }), let key = ring.signingKey(id: kid)
        else { throw .tokenInvalid }
        let (publicKey, _) = Ed25519.keyPair(seed: key.materialBytes)
        guard Ed25519.verify(signature, of: Array("\(parts[0]).\(parts[1])".utf8), publicKey: publicKey) else { throw .tokenInvalid }
        guard claims["iss"] as? String == configuration.jwtIssuer,
            configuration.jwtAudience == nil || claims["aud"] as? String == configuration.jwtAudience,
            let subject = (claims["sub"] as? String).flatMap({ UInt64($0) }),
            let session = (claims["sid"] as? String).flatMap({ SessionID(hex: $0) }),
            let expiry = (claims["exp"] as? NSNumber)?.int64Value
        else { throw .tokenInvalid }
        guard expiry * 1000 > now else { throw .tokenExpired }
        return Claims(userID: subject, sessionID: session, expiresAt: expiry * 1000)
    }

    /// Whether `text` is shaped like a JWT (three parts) rather than a session token.
    static func looksLikeJWT(_ text: UnsafeRawBufferPointer) -> Bool {
        text.count > SessionToken.textLength && text.lazy.filter { $0 == UInt8(ascii: ".") }.count == 2
    }

    /// The JWKS of the signing keys that may still verify a JWT: RFC 8037 OKP keys.
    static func jwks(_ ring: TokenKeyRing) -> String {
        let keys: [[String: Any]] = ring.signing.map { key in
            let (publicKey, _) = Ed25519.keyPair(seed: key.materialBytes)
            return ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(publicKey), "kid": String(key.id), "use": "sig", "alg": "EdDSA"]
        }
        return String(decoding: try! JSONSerialization.data(withJSONObject: ["keys": keys], options: [.sortedKeys]), as: UTF8.self)
    }

    private static func encode(_ object: [String: Any]) -> String {
        Base64URL.encode(Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])))
    }

    private static func bytes(_ part: Substring) -> [UInt8]? {
        guard !part.isEmpty else { return nil }
        var text = Array(part.utf8)
        var out = [UInt8](repeating: 0, count: text.count)
        let count = text.withUnsafeMutableBytes { t in out.withUnsafeMutableBytes { Base64URL.decode(UnsafeRawBufferPointer(t), into: $0) } }
        return count.map { Array(out.prefix($0)) }
    }

    private static func object(_ part: Substring) -> [String: Any]? {
        bytes(part).flatMap { try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any] }
    }
}
