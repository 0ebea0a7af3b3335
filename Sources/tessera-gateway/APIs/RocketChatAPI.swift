import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraClient

/// Rocket.Chat's REST login: `POST /api/v1/login` with `user` (a username or an email) and
/// `password` (text, or Meteor's `{digest, algorithm: "sha-256"}`), or `resume` (an earlier
/// `authToken`), and a two-factor `code` when the user has one (six digits: a TOTP code; else a
/// backup code). Later requests send `X-Auth-Token` and `X-User-Id`: `GET /api/v1/me`,
/// `POST /api/v1/logout`.
///
/// A user's id, in every answer and in `X-User-Id`, is its external id when it has one (the
/// `_id` a user imported from Rocket.Chat had there, which its apps hold), else Tessera's id.
/// Tokens imported with the users (`tessera import rocketchat`) are taken as they are.
struct RocketChatAPI {
    let tessera: TesseraClient

    struct Login: Decodable {
        var user: String?
        var username: String?
        var email: String?
        var password: Password?
        var resume: String?
        var code: String?
    }

    /// The password as typed, or Meteor's `{"digest": <SHA-256 hex>, "algorithm": "sha-256"}`.
    enum Password: Decodable {
        case plain(String)
        case digest(String)

        struct Digest: Decodable {
            var digest: String
            var algorithm: String
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .plain(text)
                return
            }
            let digest = try container.decode(Digest.self)
            guard digest.algorithm == "sha-256" else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "only sha-256 digests are accepted")
            }
            self = .digest(digest.digest.lowercased())
        }

        var bytes: [UInt8] {
            switch self {
            case .plain(let text), .digest(let text): Array(text.utf8)
            }
        }
        var isDigest: Bool { if case .digest = self { true } else { false } }
        var isEmpty: Bool { bytes.isEmpty }
    }

    func register(on router: Router<GatewayContext>) {
        router.post("api/v1/login") { request, context in
            guard let body = await RequestBody.decode(Login.self, from: request) else {
                return Self.error(.badRequest, "error-invalid-body", "The request body must be JSON with user and password, or resume.")
            }
            do {
                if let resume = body.resume, !resume.isEmpty {
                    let session = try await tessera.verifyWithUser(token: resume)
                    guard let user = session.user else { return Self.unauthorized() }
                    return Self.success(token: resume, user: user)
                }
                guard let identifier = body.user ?? body.username ?? body.email, Credentials.isUsable(identifier),
                    let password = body.password, !password.isEmpty
                else {
                    return Self.error(.badRequest, "error-invalid-body", "The request body must be JSON with user and password, or resume.")
                }
                let isTOTP = body.code.map { $0.utf8.count == 6 && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } } ?? false
                let login = try await tessera.login(
                    identifier: identifier, password: password.bytes, clientIP: context.clientIP, userAgent: request.headers[.userAgent],
                    code: isTOTP ? body.code : nil, recoveryCode: isTOTP ? nil : body.code, passwordIsSHA256Hex: password.isDigest)
                return Self.success(token: login.token, user: login.user)
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.get("api/v1/me") { request, context in
            do {
                guard let (token, user) = try await authenticated(request) else { return Self.mustBeLoggedIn() }
                _ = token
                return Response.json(.ok) { Self.write(me: user, into: &$0) { $0.member("success", true) } }
            } catch {
                let failure = TesseraFailure(error)
                return failure.isAuthentication ? Self.mustBeLoggedIn() : Self.failure(failure, context: context)
            }
        }
        router.post("api/v1/logout") { request, context in
            do {
                guard let (token, user) = try await authenticated(request) else { return Self.mustBeLoggedIn() }
                try await tessera.logout(token: token)
                return Response.json(
                    .ok, ["status": "success", "data": ["message": "You've been logged out!", "userId": .string(Self.id(of: user))]])
            } catch {
                let failure = TesseraFailure(error)
                return failure.isAuthentication ? Self.mustBeLoggedIn() : Self.failure(failure, context: context)
            }
        }
    }

    /// The token and user of `X-Auth-Token` when `X-User-Id` names the same user; `nil` when a
    /// header is missing or they disagree.
    private func authenticated(_ request: Request) async throws -> (String, User)? {
        guard let token = Credentials.header(request, .authToken), let userID = Credentials.header(request, .userID) else { return nil }
        let session = try await tessera.verifyWithUser(token: token)
        guard let user = session.user, Self.id(of: user) == userID else { return nil }
        return (token, user)
    }

    /// The user's id as Rocket.Chat's clients know it: its external id, else Tessera's.
    static func id(of user: User) -> String { user.externalID ?? String(user.id) }

    static func success(token: String, user: User) -> Response {
        Response.json(.ok) { json in
            json.object {
                $0.member("status", "success")
                $0.key("data")
                $0.object {
                    $0.member("authToken", .string(token))
                    $0.member("userId", .string(id(of: user)))
                    $0.key("me")
                    write(me: user, into: &$0)
                }
            }
        }
    }

    /// Rocket.Chat's `me`. Tessera keeps no presence and no UTC offset: `status` and
    /// `statusConnection` are "online" (the user just authenticated), `utcOffset` 0, and the
    /// preferences empty. `more` writes members after Rocket.Chat's own.
    static func write(me user: User, into json: inout JSONText, more: (inout JSONText) -> Void = { _ in }) {
        json.object {
            $0.member("_id", .string(id(of: user)))
            $0.member("name", .string(user.displayName ?? user.username))
            $0.key("emails")
            $0.array { emails in
                if let email = user.email { emails.value(["address": .string(email), "verified": .bool(user.state == .active)]) }
            }
            $0.member("status", "online")
            $0.member("statusConnection", "online")
            $0.member("username", .string(user.username))
            $0.member("utcOffset", 0)
            $0.member("active", .bool(user.state == .active))
            $0.member("roles", strings: user.roles)
            $0.member("settings", ["preferences": [:]])
            $0.member("avatarUrl", .string(user.imageURL ?? ""))
            more(&$0)
        }
    }

    static func error(_ status: HTTPResponse.Status, _ error: String, _ message: String, details: JSON? = nil) -> Response {
        var body: JSONObject = ["status": "error", "error": .string(error), "message": .string(message)]
        if let details { body["details"] = details }
        return Response.json(status, .object(body))
    }

    static func unauthorized() -> Response { error(.unauthorized, "Unauthorized", "Unauthorized") }

    static func mustBeLoggedIn() -> Response {
        Response.json(.unauthorized, ["status": "error", "message": "You must be logged in to do this."])
    }

    static func failure(_ failure: TesseraFailure, context: GatewayContext) -> Response {
        failure.log(context.logger)
        switch failure.code {
        case .twoFactorRequired?: return error(.unauthorized, "totp-required", "TOTP Required", details: ["method": "totp", "codeGenerated": false])
        case .twoFactorInvalid?: return error(.unauthorized, "totp-invalid", "TOTP Invalid [totp-invalid]", details: ["method": "totp"])
        case .invalidArgument?: return error(.badRequest, "error-invalid-params", failure.message)
        case .busy?: return error(.serviceUnavailable, "error-too-many-requests", failure.message)
        case _ where failure.isAuthentication: return unauthorized()
        default:
            if case .unavailable = failure {
                return error(.serviceUnavailable, "error-service-unavailable", "The authentication service is unavailable; try again shortly.")
            }
            return error(.internalServerError, "error-internal", "Unexpected error; see the gateway's log.")
        }
    }
}
