import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraClient

/// Elastic Cloud Enterprise's login: `POST /api/v1/users/auth/_login` answers
/// `{token, session_expiration_time}`, or with `login_state.path` a 302 to
/// `/sso/token#TOKEN?state=LOGIN_STATE` (the bearer token in the fragment, which browsers never
/// send to a server). Errors are `{errors: [{code, message}]}` with the code also in the
/// `x-cloud-error-codes` header. `GET /api/v1/user` and `POST /api/v1/users/auth/_logout` take
/// `Authorization: Bearer TOKEN`.
struct ElasticCloudAPI {
    let tessera: TesseraClient

    struct Login: Decodable {
        var username: String?
        var password: String?
        var loginState: AnyJSON?

        enum CodingKeys: String, CodingKey {
            case username, password
            case loginState = "login_state"
        }
    }

    func register(on router: Router<GatewayContext>) {
        router.post("api/v1/users/auth/_login") { request, context in
            guard let body = await RequestBody.decode(Login.self, from: request), Credentials.isUsable(body.username),
                let password = body.password, !password.isEmpty
            else {
                return Self.error(.badRequest, "root.invalid_json_request", "The request body must be JSON with a username and a password.")
            }
            do {
                let login = try await tessera.login(
                    identifier: body.username!, password: Array(password.utf8), clientIP: context.clientIP, userAgent: request.headers[.userAgent])
                if let state = body.loginState, case .object(let fields) = state, case .string(let path)? = fields["path"], !path.isEmpty {
                    let encodedState = state.compactText.addingPercentEncoding(withAllowedCharacters: Self.unreserved) ?? ""
                    return Response(status: .found, headers: [.location: "/sso/token#\(login.token)?state=\(encodedState)"])
                }
                return Response.json(.ok, ["token": .string(login.token), "session_expiration_time": .date(login.expiresAt)])
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.get("api/v1/user") { request, context in
            guard let token = Credentials.bearer(request) else { return Self.unauthenticated() }
            do {
                let session = try await tessera.verifyWithUser(token: token)
                guard let user = session.user else { return Self.unauthenticated() }
                return Response.json(.ok) { json in
                    json.object {
                        $0.member("user_id", .string(String(user.id)))
                        $0.member("user_name", .string(user.username))
                        $0.member("full_name", .string(user.displayName ?? ""))
                        $0.member("email", .string(user.email ?? ""))
                        $0.member("roles", strings: user.roles)
                    }
                }
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
        router.post("api/v1/users/auth/_logout") { request, context in
            guard let token = Credentials.bearer(request) else { return Self.unauthenticated() }
            do {
                try await tessera.logout(token: token)
                return Response.json(.ok, [:])
            } catch {
                return Self.failure(TesseraFailure(error), context: context)
            }
        }
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String) -> Response {
        Response.json(status, ["errors": [["code": .string(code), "message": .string(message)]]], headers: [.cloudErrorCodes: code])
    }

    static func unauthenticated() -> Response {
        error(.unauthorized, "root.unauthenticated", "The supplied authentication is invalid")
    }

    static func failure(_ failure: TesseraFailure, context: GatewayContext) -> Response {
        failure.log(context.logger)
        switch failure {
        case .refused where failure.isAuthentication: return unauthenticated()
        case .refused(let server) where server.code == .invalidArgument: return error(.badRequest, "root.invalid_json_request", server.message)
        case .refused(let server) where server.code == .busy: return error(.serviceUnavailable, "root.service_unavailable", server.message)
        case .unavailable:
            return error(.badGateway, "authc.authentication_cluster_error", "The authentication cluster could not be reached; try again shortly.")
        default: return error(.internalServerError, "root.unexpected_error", "Unexpected error; see the gateway's log.")
        }
    }
}

extension HTTPField.Name {
    static let cloudErrorCodes = HTTPField.Name("x-cloud-error-codes")!
}

/// Any JSON value, decoded and encoded again as it was: ECE's `login_state` goes back to the
/// browser as it came.
indirect enum AnyJSON: Codable {
    case string(String), number(Double), bool(Bool), null, array([AnyJSON]), object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([AnyJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: AnyJSON].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension AnyJSON {
    /// The value as compact JSON, keys sorted.
    var compactText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}
