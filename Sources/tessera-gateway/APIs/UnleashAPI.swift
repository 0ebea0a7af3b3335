import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraClient

/// Unleash's simple login: `POST /auth/simple/login` opens a session whose token goes into the
/// `unleash-session` cookie; `GET /api/admin/user` answers who the cookie (or a personal access
/// token in `Authorization`) belongs to; `POST /logout` ends the session and clears the cookie.
///
/// A session imported from Unleash (`tessera import unleash`) is the browser's own cookie,
/// `s:<sid>.<signature>` as express-session signed it: it is passed to tesserad as it is, once
/// its signature is checked when the gateway has Unleash's secret. A user's `id` is its
/// external id when that is a number (an imported user's Unleash id), else Tessera's.
struct UnleashAPI {
    let tessera: TesseraClient
    let cookieSecure: Bool
    /// Origins besides the gateway's own that may log a browser in (`--allowed-origin`).
    let allowedOrigins: Set<String>
    /// Unleash's session secret (`--unleash-session-secret-file`).
    var importedSessions: SignedCookies?

    /// Checks the signature of the cookies Unleash's express-session made.
    struct SignedCookies {
        let key: SymmetricKey

        init(secret: [UInt8]) { key = SymmetricKey(data: secret) }

        /// Whether `value` (`s:<sid>.<signature>`) carries the signature of its sid:
        /// Base64 of HMAC-SHA-256(sid), `=` stripped, compared in constant time.
        func isSigned(_ value: Substring) -> Bool {
            guard let dot = value.lastIndex(of: "."), value.hasPrefix("s:") else { return false }
            let sid = value[value.index(value.startIndex, offsetBy: 2)..<dot]
            var signature = String(value[value.index(after: dot)...])
            while signature.count % 4 != 0 { signature += "=" }
            guard let presented = Data(base64Encoded: signature) else { return false }
            return HMAC<SHA256>.isValidAuthenticationCode(presented, authenticating: Data(sid.utf8), using: key)
        }
    }

    /// What a request presents.
    enum Credential {
        case token(String)
        /// An Unleash cookie whose signature is wrong.
        case forged
    }

    /// The request's session cookie, an imported one URL-decoded and its signature checked;
    /// else, with `orAuthorization`, a personal access token in `Authorization` (Unleash's
    /// clients send it bare; `Bearer` is taken too).
    func credential(_ request: Request, orAuthorization: Bool = false) -> Credential? {
        if let value = Credentials.cookie(request, Self.cookieName), !value.isEmpty {
            guard value.hasPrefix("s:") || value.hasPrefix("s%3A") || value.hasPrefix("s%3a") else { return .token(value) }
            guard let decoded = value.removingPercentEncoding else { return .forged }
            if let importedSessions, !importedSessions.isSigned(Substring(decoded)) { return .forged }
            return .token(decoded)
        }
        guard orAuthorization, let token = Credentials.bearer(request) ?? Credentials.header(request, .authorization) else { return nil }
        return .token(token)
    }

    static let cookieName = "unleash-session"

    struct Login: Decodable {
        var username: String?
        var password: String?
    }

    func register(on router: Router<GatewayContext>) {
        router.post("auth/simple/login") { request, context in
            guard Self.isSameOrigin(request, allowing: allowedOrigins) else {
                return Self.error(.forbidden, "ForbiddenError", "A login from another site is refused (its Origin is not this server's).")
            }
            guard let body = await RequestBody.decode(Login.self, from: request), Credentials.isUsable(body.username),
                let password = body.password, !password.isEmpty
            else {
                return Self.error(.badRequest, "ValidationError", "The request body must be JSON with a username and a password.")
            }
            do {
                let login = try await tessera.login(
                    identifier: body.username!, password: Array(password.utf8), clientIP: context.clientIP, userAgent: request.headers[.userAgent])
                var response = Response.json(.ok) { Self.write(login.user, into: &$0) }
                response.setCookie(sessionCookie(login.token, expiresAt: login.expiresAt))
                return response
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.get("api/admin/user") { request, context in
            guard case .token(let token)? = credential(request, orAuthorization: true) else { return Self.authenticationRequired() }
            do {
                let session = try await tessera.verifyWithUser(token: token)
                guard let user = session.user else { return Self.authenticationRequired() }
                // Unleash's meSchema: the user, then what Tessera holds no equivalent of.
                return Response.json(.ok) { json in
                    json.object {
                        $0.key("user")
                        Self.write(user, into: &$0)
                        $0.member("permissions", [])
                        $0.member("feedback", [])
                        $0.member("splash", [:])
                    }
                }
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.post("logout") { request, context in
            if case .token(let token)? = credential(request) {
                do {
                    try await tessera.logout(token: token)
                } catch {
                    let failure = TesseraFailure(error)
                    if !failure.isAuthentication { return Self.failure(failure, context: context) }
                }
            }
            var response = Response(status: .found, headers: [.location: "/"])
            response.setCookie(clearedCookie())
            return response
        }
    }

    private func sessionCookie(_ token: String, expiresAt: Date) -> Cookie {
        let maxAge = max(0, Int((expiresAt.milliseconds - Int64(Date().timeIntervalSince1970 * 1000)) / 1000))
        return Cookie(name: Self.cookieName, value: token, maxAge: maxAge, path: "/", secure: cookieSecure, httpOnly: true, sameSite: .lax)
    }

    private func clearedCookie() -> Cookie {
        Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/", secure: cookieSecure, httpOnly: true, sameSite: .lax)
    }

    /// Unleash's user object (its `userSchema`). Tessera holds no invite link, no e-mail-sent
    /// flag, no permission objects and no count of browser sessions: they are `""`, `false`, `[]`
    /// and `null`; `isAPI` (deprecated upstream) is `false`.
    static func write(_ user: User, into json: inout JSONText) {
        json.object {
            $0.member("id", .int(user.externalID.flatMap { Int64($0) } ?? Int64(user.id)))
            $0.member("name", .string(user.displayName))
            $0.member("email", .string(user.email))
            $0.member("username", .string(user.username))
            $0.member("imageUrl", .string(user.imageURL ?? ""))
            $0.member("inviteLink", "")
            $0.member("loginAttempts", .int(Int64(user.failedLogins)))
            $0.member("emailSent", false)
            $0.member("rootRole", .int(rootRole(user.rootRole)))
            $0.member("seenAt", .date(user.lastLoginAt))
            $0.member("createdAt", .date(user.createdAt))
            $0.member("accountType", .string(user.accountType == .service ? "Service Account" : "User"))
            $0.member("permissions", [])
            $0.member("scimId", .string(user.externalID.flatMap { Int64($0) == nil ? $0 : nil }))
            $0.member("isAPI", false)
            $0.member("activeSessions", .null)
        }
    }

    /// Unleash's root roles are numbered: 1 Admin, 2 Editor, 3 Viewer (the default). A numeric
    /// root role is passed through.
    static func rootRole(_ role: String?) -> Int64 {
        guard let role else { return 3 }
        if let number = Int64(role) { return number }
        return ["admin": 1, "editor": 2, "viewer": 3][role.lowercased()] ?? 3
    }

    /// Whether a login that sets a cookie comes from a page of this server, or of an allowed
    /// origin: a browser's `Origin` (sent with every cross-site POST) must name the request's
    /// own host, or be listed. A request without `Origin` (curl, a server) is not a browser's
    /// cross-site one and passes.
    static func isSameOrigin(_ request: Request, allowing allowed: Set<String>) -> Bool {
        guard let origin = request.headers[.origin]?.trimmingCharacters(in: .whitespaces).lowercased() else { return true }
        if allowed.contains(origin) { return true }
        guard let host = request.head.authority?.lowercased(), origin != "null" else { return false }
        return origin == "http://" + host || origin == "https://" + host
    }

    static func authenticationRequired() -> Response {
        error(
            .unauthorized, "AuthenticationRequired",
            "You must log in to use Unleash. Your request had no valid session, so we could not authorize you. Try logging in at /auth/simple/login.")
    }

    /// Unleash's error shape: `{id, name, message}`, `id` a fresh UUID.
    static func error(_ status: HTTPResponse.Status, _ name: String, _ message: String) -> Response {
        Response.json(status, ["id": .string(UUID().uuidString.lowercased()), "name": .string(name), "message": .string(message)])
    }

    static func failure(_ failure: TesseraFailure, context: GatewayContext) -> Response {
        failure.log(context.logger)
        switch failure {
        case .refused where failure.isAuthentication: return authenticationRequired()
        case .refused(let server) where server.code == .invalidArgument: return error(.badRequest, "ValidationError", server.message)
        case .refused(let server) where server.code == .busy: return error(.serviceUnavailable, "ServiceUnavailableError", server.message)
        case .unavailable:
            return error(.serviceUnavailable, "ServiceUnavailableError", "The authentication service is unavailable; try again shortly.")
        default: return error(.internalServerError, "InternalError", "Unexpected error; see the gateway's log.")
        }
    }
}
