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
            guard let credential = Credentials.bearer(request) ?? Credentials.header(request, .apiKey) else { return Self.unauthorized() }
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
                if Credentials.header(request, .apiKey) != nil {
                    return Self.error(.forbidden, "An API key reads its user; changing the profile needs a bearer token.")
                }
                return Self.unauthorized()
            }
            guard let body = await RequestBody.value(from: request) else {
                return Self.error(.badRequest, "The body must be a JSON object of profile fields.")
            }
            let change: V1AuthProfileChange
            switch V1AuthProfileChange.parse(body) {
            case .success(let parsed): change = parsed
            case .failure(let refusal): return Self.error(.badRequest, refusal.message)
            }
            do {
                var changes = ProfileUpdate(email: change.email, phone: change.phoneNumber, imageURL: change.image)
                if change.firstName != nil || change.lastName != nil {
                    // One display name holds both: the half not sent stays as it is.
                    let current = Self.nameParts(try await tessera.user(.sessionToken(token)).displayName)
                    let first = change.firstName ?? current.first, last = change.lastName ?? current.last
                    guard !first.isEmpty || last.isEmpty else {
                        return Self.error(.badRequest, "firstName cannot be empty while lastName is not: Tessera keeps one display name.")
                    }
                    changes.displayName = [first, last].filter { !$0.isEmpty }.joined(separator: " ")
                }
                changes.settings = change.settings
                changes.attributes = change.attributes
                changes.removingAttributes = change.removedAttributes
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

    /// A display name's first word (`firstName`) and the rest (`lastName`).
    static func nameParts(_ displayName: String?) -> (first: String, last: String) {
        let name = (displayName ?? "").split(separator: " ", maxSplits: 1).map(String.init)
        return (name.first ?? "", name.count > 1 ? name[1] : "")
    }

    /// The API's user, every field of the seed's user object, of its type. Tessera keeps one
    /// display name: `firstName` is its first word and `lastName` the rest. `id` is the id
    /// carried over from the system the user was imported from, or Tessera's, as a string. The
    /// seed's profile fields beyond Tessera's own are the user's attributes of their names
    /// (``V1AuthProfileChange/attributeFields``), `null` when not set.
    static func user(_ user: User, apiKeys: [APIKey]) -> JSON {
        let name = nameParts(user.displayName)
        let id = user.externalID ?? String(user.id)
        /// The attribute of a seed field's name when it holds the field's kind, else `null`.
        func attribute(_ field: String) -> JSON {
            guard !user.attributes.isEmpty else { return .null }
            switch (user.attributes[field], V1AuthProfileChange.attributeFields[field]) {
            case (.string(let text)?, .string?): return .string(text)
            case (.number(let number)?, .number?): return .number(number)
            case (.date(let milliseconds)?, .date?): return .timestamp(milliseconds)
            default: return .null
            }
        }
        // In the seed's order.
        let object: JSONObject = [
            "id": .string(id),
            "userName": .string(user.username),
            "email": .string(user.email ?? ""),
            "phoneNumber": .string(user.phone ?? ""),
            "title": attribute("title"),
            "firstName": .string(name.first),
            "lastName": .string(name.last),
            "department": attribute("department"),
            "birthDate": attribute("birthDate"),
            "createdAt": .date(user.createdAt),
            "updatedAt": .date(user.updatedAt),
            "lastDismissMessages": attribute("lastDismissMessages"),
            "lastLogIn": .date(user.lastLoginAt),
            "rank": attribute("rank"),
            "image": .string(user.imageURL ?? ""),
            "address": attribute("address"),
            "postalCode": attribute("postalCode"),
            "region": attribute("region"),
            "city": attribute("city"),
            "country": attribute("country"),
            "countryCode": attribute("countryCode"),
            "mobile": attribute("mobile"),
            "notes": attribute("notes"),
            "customerId": attribute("customerId"),
            "roles": .array(user.roles.map(JSON.string)),
            "apiKeys": .array(apiKeys.map { apiKey($0, ownerID: id) }),
            "settings": .array(
                user.settings.sorted { $0.key < $1.key }.map {
                    [
                        "id": .null, "category": .null, "group": .null, "name": .string($0.key), "value": .string($0.value),
                        "type": "string", "description": .null, "readOnly": .bool(false), "userId": .string(id),
                    ]
                }),
        ]
        assert(V1AuthProfileChange.attributeFields.keys.allSatisfy { object[$0] != nil }, "a seed attribute field is not written")
        return .object(object)
    }

    /// An API key as the seed lists it: `key` is its prefix (the key itself was shown once, at
    /// creation); `clientSecret` is never shown again (`""`).
    static func apiKey(_ key: APIKey, ownerID: String) -> JSON {
        [
            "id": .string(key.id.description),
            "name": .string(key.name),
            "key": .string(key.prefix + "…"),
            "clientSecret": "",
            "createdDate": .date(key.createdAt),
            "expireDate": .date(key.expiresAt),
            "ownerId": .string(ownerID),
            "revoked": .bool(key.revokedAt != nil),
            "permissions": .array(key.permissions.map(JSON.string)),
            "description": .null,
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
