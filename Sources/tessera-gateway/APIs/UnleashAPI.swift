import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraClient

/// Unleash's simple login: `POST /auth/simple/login` opens a session whose token goes into the
/// `unleash-session` cookie; `GET /api/admin/user` answers who the cookie belongs to;
/// `POST /logout` ends the session and clears the cookie.
struct UnleashAPI {
    let tessera: TesseraClient
    let cookieSecure: Bool
    /// Origins besides the gateway's own that may log a browser in (`--allowed-origin`).
    let allowedOrigins: Set<String>

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
                var response = Response.json(.ok, Self.user(login.user))
                response.setCookie(sessionCookie(login.token, expiresAt: login.expiresAt))
                return response
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.get("api/admin/user") { request, context in
            guard let token = request.cookies[Self.cookieName]?.value, !token.isEmpty else { return Self.authenticationRequired() }
            do {
                let session = try await tessera.verifyWithUser(token: token)
                guard let user = session.user else { return Self.authenticationRequired() }
                return Response.json(.ok, ["user": Self.user(user)])
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.post("logout") { request, context in
            if let token = request.cookies[Self.cookieName]?.value, !token.isEmpty {
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

    /// Unleash's user object. Tessera holds no invite link, no e-mail-sent flag and no
    /// permission objects: they are `""`, `false` and `[]`.
    static func user(_ user: User) -> JSON {
        [
            "id": .int(Int64(user.id)),
            "name": .string(user.displayName),
            "email": .string(user.email),
            "username": .string(user.username),
            "imageUrl": .string(user.imageURL ?? ""),
            "inviteLink": "",
            "loginAttempts": .int(Int64(user.failedLogins)),
            "emailSent": false,
            "rootRole": .int(rootRole(user.rootRole)),
            "seenAt": .date(user.lastLoginAt),
            "createdAt": .date(user.createdAt),
            "accountType": .string(user.accountType == .service ? "Service Account" : "User"),
            "permissions": [],
            "scimId": .string(user.externalID),
        ]
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
