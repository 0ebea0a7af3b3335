import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraClient

/// A `/v1/auth` API: `POST /v1/auth/login` answers `{success, code, message, token, expiresIn}`;
/// `GET /v1/auth/user` (a bearer token, or an API key in `x-api-key`) answers the user with their
/// API keys and settings; `POST /v1/auth/user` changes the caller's own profile and settings
/// (a bearer token only: an API key reads, it does not change its user); `POST /v1/auth/logout`
/// ends the session.
struct V1AuthAPI {
    let tessera: TesseraClient

    struct Login: Decodable {
        var username: String?
        var userName: String?
        var email: String?
        var password: String?
    }

    struct Setting: Codable {
        var key: String
        var value: String
    }

    struct Update: Decodable {
        var email: String?
        var phoneNumber: String?
        var firstName: String?
        var lastName: String?
        var imageUrl: String?
        var settings: [Setting]?
    }

    func register(on router: Router<GatewayContext>) {
        router.post("v1/auth/login") { request, context in
            guard let body = await RequestBody.decode(Login.self, from: request),
                let identifier = body.username ?? body.userName ?? body.email, Credentials.isUsable(identifier),
                let password = body.password, !password.isEmpty
            else {
                return Self.error(.badRequest, "The body must be JSON with a username (or email) and a password.")
            }
            do {
                let login = try await tessera.login(
                    identifier: identifier, password: Array(password.utf8), clientIP: context.clientIP, userAgent: request.headers[.userAgent])
                let now = Int64(Date.now.timeIntervalSince1970 * 1000)
                return Response.json(
                    .ok,
                    [
                        "success": true, "code": 200, "message": "Login successful", "token": .string(login.token),
                        "expiresIn": .int(max(0, (login.expiresAt.milliseconds - now) / 1000)),
                    ])
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.get("v1/auth/user") { request, context in
            guard let credential = Credentials.bearer(request) ?? Credentials.header(request, "x-api-key") else { return Self.unauthorized() }
            do {
                // One round trip: the session, its user and the user's API keys.
                let session = try await tessera.verifyWithUser(token: credential, apiKeys: true)
                guard let user = session.user else { return Self.unauthorized() }
                return Response.json(.ok, ["success": true, "code": 200, "message": "OK", "user": Self.user(user, apiKeys: session.apiKeys)])
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.post("v1/auth/user") { request, context in
            guard let token = Credentials.bearer(request) else {
                if Credentials.header(request, "x-api-key") != nil {
                    return Self.error(.forbidden, "An API key reads its user; changing the profile needs a bearer token.")
                }
                return Self.unauthorized()
            }
            guard let body = await RequestBody.decode(Update.self, from: request) else {
                return Self.error(.badRequest, "The body must be a JSON object of profile fields.")
            }
            do {
                var changes = ProfileUpdate(email: body.email, phone: body.phoneNumber, imageURL: body.imageUrl)
                if body.firstName != nil || body.lastName != nil {
                    changes.displayName = [body.firstName, body.lastName].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                }
                changes.settings = body.settings.map { Dictionary($0.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }) }
                let user = try await tessera.updateUser(.sessionToken(token), changes)
                let keys = try await tessera.apiKeys(of: .sessionToken(token))
                return Response.json(.ok, ["success": true, "code": 200, "message": "Profile updated", "user": Self.user(user, apiKeys: keys)])
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.post("v1/auth/logout") { request, context in
            guard let token = Credentials.bearer(request) else { return Self.unauthorized() }
            do {
                try await tessera.logout(token: token)
                return Response.json(.ok, ["success": true, "code": 200, "message": "Logged out"])
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
    }

    /// The API's user. Tessera keeps one display name: `firstName` is its first word and
    /// `lastName` the rest; it keeps no title (`""`).
    static func user(_ user: User, apiKeys: [APIKey]) -> JSON {
        let name = (user.displayName ?? "").split(separator: " ", maxSplits: 1).map(String.init)
        return [
            "id": .int(Int64(user.id)),
            "userName": .string(user.username),
            "email": .string(user.email ?? ""),
            "phoneNumber": .string(user.phone ?? ""),
            "title": "",
            "firstName": .string(name.first ?? ""),
            "lastName": .string(name.count > 1 ? name[1] : ""),
            "imageUrl": .string(user.imageURL ?? ""),
            "isActive": .bool(user.state == .active),
            "createdAt": .date(user.createdAt),
            "lastLoginAt": .date(user.lastLoginAt),
            "roles": .array(user.roles.map(JSON.string)),
            "apiKeys": .array(apiKeys.map(apiKey)),
            "settings": .array(user.settings.sorted { $0.key < $1.key }.map { ["key": .string($0.key), "value": .string($0.value)] }),
        ]
    }

    /// An API key as listed: `key` is its prefix (the key itself was shown once, at creation);
    /// `clientSecret` is never shown again (`""`).
    static func apiKey(_ key: APIKey) -> JSON {
        [
            "id": .string(key.id.description),
            "name": .string(key.name),
            "key": .string(key.prefix + "…"),
            "clientSecret": "",
            "createdAt": .date(key.createdAt),
            "expiresAt": .date(key.expiresAt),
            "lastUsedAt": .date(key.lastUsedAt),
            "isRevoked": .bool(key.revokedAt != nil),
            "permissions": .array(key.permissions.map(JSON.string)),
        ]
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response.json(status, ["success": false, "code": .int(Int64(status.code)), "message": .string(message)])
    }

    static func unauthorized() -> Response { error(.unauthorized, "Unauthorized: a valid bearer token or x-api-key is required.") }

    static func failure(_ failure: TesseraFailure, context: GatewayContext) -> Response {
        failure.log(context.logger)
        switch failure {
        case .refused(let server) where server.code == .forbidden: return error(.forbidden, server.message)
        case .refused(let server) where server.code == .conflict: return error(.conflict, server.message)
        case .refused where failure.isAuthentication: return error(.unauthorized, failure.message)
        case .refused(let server) where server.code == .invalidArgument: return error(.badRequest, server.message)
        case .refused(let server) where server.code == .busy: return error(.serviceUnavailable, server.message)
        case .unavailable: return error(.serviceUnavailable, "The authentication service is unavailable; try again shortly.")
        default: return error(.internalServerError, "Unexpected error; see the gateway's log.")
        }
    }
}
