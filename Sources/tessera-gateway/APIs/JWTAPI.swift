import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraClient

/// A JWT login API: `POST /auth/login` with `{username, password}` (a username, an email or a
/// phone) answers `{access_token, jwt_token, refresh_token}`, the access token being the
/// daemon's Ed25519 JWT (one hour by default; `jwt_token` is the same JWT, under the name some
/// clients read); `POST /auth/refresh-token` with `{refresh_token}` rotates the pair. Errors are
/// `{error_code, message, trace_id, extra_attributes}`, `trace_id` being tesserad's own trace id
/// when the daemon refused (so a support request can be followed into its log). Services that
/// check the JWT offline fetch the keys at `GET /.well-known/jwks.json`.
struct JWTAPI {
    let tessera: TesseraClient

    struct Login: Decodable {
        var username: String?
        var password: String?
    }

    struct Refresh: Decodable {
        var refreshToken: String?

        enum CodingKeys: String, CodingKey {
            case refreshToken = "refresh_token"
        }
    }

    func register(on router: Router<GatewayContext>) {
        router.post("auth/login") { request, context in
            guard let body = await RequestBody.decode(Login.self, from: request), Credentials.isUsable(body.username),
                let password = body.password, !password.isEmpty
            else {
                return Self.error(.badRequest, "invalid-request", "The body must be JSON with a username and a password.", traceID: context.id)
            }
            do {
                let login = try await tessera.login(
                    identifier: body.username!, password: Array(password.utf8), clientIP: context.clientIP, userAgent: request.headers[.userAgent],
                    jwt: true)
                return Self.tokens(login)
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.post("auth/refresh-token") { request, context in
            guard let body = await RequestBody.decode(Refresh.self, from: request), let token = body.refreshToken, !token.isEmpty else {
                return Self.error(.badRequest, "invalid-request", "The body must be JSON with a refresh_token.", traceID: context.id)
            }
            do {
                return Self.tokens(
                    try await tessera.refresh(refreshToken: token, clientIP: context.clientIP, userAgent: request.headers[.userAgent], jwt: true))
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.get(".well-known/jwks.json") { _, context in
            do {
                let jwks = try await tessera.jwks()
                return Response(
                    status: .ok, headers: [.contentType: "application/json", .cacheControl: "max-age=300"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: jwks)))
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
    }

    static func tokens(_ login: LoginResult) -> Response {
        let jwt = JSON.string(login.jwt ?? "")
        return Response.json(.ok, ["access_token": jwt, "jwt_token": jwt, "refresh_token": .string(login.refreshToken)])
    }

    static func error(
        _ status: HTTPResponse.Status, _ code: String, _ message: String, traceID: String, extra: JSONObject = [:]
    ) -> Response {
        Response.json(
            status,
            ["error_code": .string(code), "message": .string(message), "trace_id": .string(traceID), "extra_attributes": .object(extra)])
    }

    /// The daemon's refusals, in this API's four codes: `bad-credentials` (a wrong identifier or
    /// password, a lock with `extra_attributes.retry_after_seconds`, a second factor required),
    /// `account-not-validated` (`extra_attributes.resend_code`: a new code can be asked for),
    /// `token-expired` (any refresh token that no longer works: log in again) and
    /// `inactive-account`.
    static func failure(_ failure: TesseraFailure, context: GatewayContext) -> Response {
        let traceID = failure.traceID ?? context.id
        failure.log(context.logger)
        switch failure {
        case .refused(let server):
            switch server.code {
            case .accountNotValidated:
                return error(.unauthorized, "account-not-validated", server.message, traceID: traceID, extra: ["resend_code": true])
            case .inactiveAccount: return error(.unauthorized, "inactive-account", server.message, traceID: traceID)
            case .tokenExpired, .tokenInvalid, .tokenRevoked, .refreshReused:
                return error(.unauthorized, "token-expired", server.message, traceID: traceID)
            case .locked:
                return error(
                    .unauthorized, "bad-credentials", server.message, traceID: traceID,
                    extra: ["retry_after_seconds": .int(server.retryAfter?.components.seconds ?? 0)])
            case .twoFactorRequired, .twoFactorInvalid:
                return error(
                    .unauthorized, "bad-credentials", server.message, traceID: traceID, extra: ["two_factor": .string(server.code.description)])
            case .badCredentials, .notFound: return error(.unauthorized, "bad-credentials", server.message, traceID: traceID)
            case .invalidArgument: return error(.badRequest, "invalid-request", server.message, traceID: traceID)
            case .busy: return error(.serviceUnavailable, "unavailable", server.message, traceID: traceID)
            default: return error(.internalServerError, "internal", server.message, traceID: traceID)
            }
        case .unavailable:
            return error(.serviceUnavailable, "unavailable", "The authentication service is unavailable; try again shortly.", traceID: traceID)
        case .broken:
            return error(.internalServerError, "internal", "Unexpected error; see the gateway's log.", traceID: traceID)
        }
    }
}
