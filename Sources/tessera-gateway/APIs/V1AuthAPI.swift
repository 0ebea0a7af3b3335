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
                return Self.userResponse("OK", user, apiKeys: session.apiKeys)
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
                return Self.userResponse("Profile updated", user, apiKeys: keys)
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
    static func write(_ user: User, apiKeys: [APIKey], into json: inout JSONText) {
        let name = nameParts(user.displayName)
        let id = user.externalID ?? String(user.id)
        var attributesWritten: Set<String> = []
        /// The attribute of a seed field's name when it holds the field's kind, else `null`.
        func attribute(_ field: StaticString) -> JSON {
            assert(attributesWritten.insert(field.description).inserted, "\(field) written twice")
            guard !user.attributes.isEmpty else { return .null }
            let name = field.description
            switch (user.attributes[name], V1AuthProfileChange.attributeFields[name]) {
            case (.string(let text)?, .string?): return .string(text)
            case (.number(let number)?, .number?): return .number(number)
            case (.date(let milliseconds)?, .date?): return .timestamp(milliseconds)
            default: return .null
            }
        }
        // In the seed's order.
        json.object {
            $0.member("id", .string(id))
            $0.member("userName", .string(user.username))
            $0.member("email", .string(user.email ?? ""))
            $0.member("phoneNumber", .string(user.phone ?? ""))
            $0.member("title", attribute("title"))
            $0.member("firstName", .string(name.first))
            $0.member("lastName", .string(name.last))
            $0.member("department", attribute("department"))
            $0.member("birthDate", attribute("birthDate"))
            $0.member("createdAt", .date(user.createdAt))
            $0.member("updatedAt", .date(user.updatedAt))
            $0.member("lastDismissMessages", attribute("lastDismissMessages"))
            $0.member("lastLogIn", .date(user.lastLoginAt))
            $0.member("rank", attribute("rank"))
            $0.member("image", .string(user.imageURL ?? ""))
            $0.member("address", attribute("address"))
            $0.member("postalCode", attribute("postalCode"))
            $0.member("region", attribute("region"))
            $0.member("city", attribute("city"))
            $0.member("country", attribute("country"))
            $0.member("countryCode", attribute("countryCode"))
            $0.member("mobile", attribute("mobile"))
            $0.member("notes", attribute("notes"))
            $0.member("customerId", attribute("customerId"))
            $0.member("roles", strings: user.roles)
            $0.key("apiKeys")
            $0.array { keys in
                for key in apiKeys { write(key, ownerID: id, into: &keys) }
            }
            $0.key("settings")
            $0.array { settings in
                for (name, value) in user.settings.sorted(by: { $0.key < $1.key }) {
                    settings.object {
                        $0.member("id", .null)
                        $0.member("category", .null)
                        $0.member("group", .null)
                        $0.member("name", .string(name))
                        $0.member("value", .string(value))
                        $0.member("type", "string")
                        $0.member("description", .null)
                        $0.member("readOnly", false)
                        $0.member("userId", .string(id))
                    }
                }
            }
        }
        assert(attributesWritten == Set(V1AuthProfileChange.attributeFields.keys), "the seed's attribute fields are not each written once")
    }

    /// An API key as the seed lists it: `key` is its prefix (the key itself was shown once, at
    /// creation); `clientSecret` is never shown again (`""`).
    static func write(_ key: APIKey, ownerID: String, into json: inout JSONText) {
        json.object {
            $0.member("id", .string(key.id.description))
            $0.member("name", .string(key.name))
            $0.member("key", .string(key.prefix + "…"))
            $0.member("clientSecret", "")
            $0.member("createdDate", .date(key.createdAt))
            $0.member("expireDate", .date(key.expiresAt))
            $0.member("ownerId", .string(ownerID))
            $0.member("revoked", .bool(key.revokedAt != nil))
            $0.member("permissions", strings: key.permissions)
            $0.member("description", .null)
        }
    }

    /// The API's envelope of a user: `success`, `code`, `message`, then the user.
    static func userResponse(_ message: JSON, _ user: User, apiKeys: [APIKey]) -> Response {
        Response.json(.ok) { json in
            json.object {
                $0.member("success", true)
                $0.member("code", 200)
                $0.member("message", message)
                $0.key("user")
                write(user, apiKeys: apiKeys, into: &$0)
            }
        }
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
