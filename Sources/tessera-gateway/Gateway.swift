import ArgumentParser
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import TesseraClient

/// `tessera-gateway`: five login APIs, each at its documented paths and in its documented
/// shapes, served over a running tesserad. The reference integration of `TesseraClient` in a
/// Hummingbird app: one client shared by every request (it pipelines on a connection per event
/// loop and reconnects after the daemon restarts), one file per API.
@main
struct Gateway: AsyncParsableCommand {
    /// Swift's tasks run on NIO's event loops (NIO's singleton group, which Hummingbird and the
    /// client use), installed before any task is made: a handler then runs on the loop that
    /// read its request, its call to tesserad goes out and comes back on that loop's
    /// connection, and the response is written there, with no thread switch between Swift's
    /// pool and the loops. Nothing in the gateway blocks a thread.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

    static let configuration = CommandConfiguration(
        commandName: "tessera-gateway",
        abstract: "Serve the Unleash, Rocket.Chat, Elastic Cloud Enterprise, JWT and /v1/auth login APIs over a running tesserad.",
        discussion: """
            Run it next to tesserad, as the web processes' user (an application peer of the daemon: its \
            --app-uid or --app-gid), never as an administrator. Every request is logged with its trace id, \
            which is also sent back in the x-trace-id header. When tesserad cannot be reached, each API \
            answers in its own error shape (502 or 503) and the next request reconnects. GET /health \
            answers without asking tesserad.
            """)

    @Option(help: "Address to listen on, HOST:PORT.") var listen = "127.0.0.1:8080"

    @Option(name: .customLong("tessera-socket"), help: "tesserad's socket (default: $TESSERA_SOCKET or ./tessera.sock, tesserad's default).")
    var tesseraSocket = ProcessInfo.processInfo.environment["TESSERA_SOCKET"] ?? "tessera.sock"

    @Option(help: "The APIs to serve, comma-separated: \(API.allCases.map(\.rawValue).joined(separator: ",")).")
    var apis = API.allCases.map(\.rawValue).joined(separator: ",")

    @Option(
        name: .customLong("trusted-proxy"),
        help: ArgumentHelp(
            "A reverse proxy whose client-address header is believed, ADDRESS or ADDRESS/BITS (repeatable).",
            discussion:
                "Logins pass the client's address to tesserad, which throttles failed logins per address. Without a trusted proxy it is the TCP peer's; behind a proxy, name the proxy here or every client shares its address."
        ))
    var trustedProxy: [String] = []

    @Option(
        name: .customLong("client-ip-header"),
        help: "The header a trusted proxy puts the client's address in (its rightmost untrusted address counts).")
    var clientIPHeader = "X-Forwarded-For"

    @Flag(
        name: .customLong("cookie-secure"), inversion: .prefixedNo,
        help: "Mark session cookies Secure, sent only over HTTPS (and to localhost). --no-cookie-secure: for plain-HTTP development on another host.")
    var cookieSecure = true

    @Option(
        name: .customLong("allowed-origin"),
        help:
            "A web origin besides the gateway's own (scheme://host[:port]) whose pages may log a browser in where a cookie is set (repeatable); a login with any other Origin is refused."
    )
    var allowedOrigin: [String] = []

    @Option(
        name: .customLong("unleash-session-secret-file"),
        help: ArgumentHelp(
            "A file holding the session secret of the Unleash this gateway replaces (UNLEASH_SECRET).",
            discussion:
                "Sessions imported by tessera import unleash are the browsers' signed unleash-session cookies: with the secret, a cookie whose signature is wrong is refused without asking tesserad."
        ))
    var unleashSessionSecretFile: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    enum API: String, CaseIterable {
        case unleash, rocketchat, ece, jwt, v1
    }

    func validate() throws {
        _ = try address()
        _ = try selectedAPIs()
        _ = try clientAddresses()
        _ = try unleashSessionSecret()
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level takes trace, debug, info, notice, warning, error or critical")
        }
    }

    func address() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port),
            colon != listen.startIndex
        else {
            throw ValidationError("--listen takes HOST:PORT, e.g. 127.0.0.1:8080")
        }
        return (String(listen[..<colon]), port)
    }

    func clientAddresses() throws -> ClientAddressMiddleware {
        let ranges = try trustedProxy.map { text in
            guard let range = AddressRange(text) else {
                throw ValidationError("--trusted-proxy takes an address or ADDRESS/BITS, e.g. 10.0.0.0/8 or ::1; '\(text)' is neither")
            }
            return range
        }
        guard let header = HTTPField.Name(clientIPHeader) else {
            throw ValidationError("--client-ip-header: '\(clientIPHeader)' is not a header name")
        }
        return ClientAddressMiddleware(trustedProxies: ranges, header: header)
    }

    /// The bytes of `--unleash-session-secret-file`, without a final line break.
    func unleashSessionSecret() throws -> [UInt8]? {
        guard let path = unleashSessionSecretFile else { return nil }
        guard let contents = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        var bytes = Array(contents)
        while let last = bytes.last, last == 0x0a || last == 0x0d { bytes.removeLast() }
        guard !bytes.isEmpty else { throw ValidationError("\(path) is empty") }
        return bytes
    }

    func selectedAPIs() throws -> [API] {
        try apis.split(separator: ",").map { name in
            guard let api = API(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ValidationError("--apis takes a list of \(API.allCases.map(\.rawValue).joined(separator: ", ")); '\(name)' is none")
            }
            return api
        }
    }

    func run() async throws {
        var logger = Logger(label: "tessera.gateway")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let tessera = TesseraClient(socketPath: tesseraSocket)
        await warnIfAdministrator(tessera, logger: logger)

        let router = Router(context: GatewayContext.self)
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: try clientAddresses())
        router.get("health") { _, _ in Response.json(.ok, ["status": "ok"]) }
        let selected = try selectedAPIs()
        for api in selected {
            switch api {
            case .unleash:
                UnleashAPI(
                    tessera: tessera, cookieSecure: cookieSecure, allowedOrigins: Set(allowedOrigin.map { $0.lowercased() }),
                    importedSessions: try unleashSessionSecret().map(UnleashAPI.SignedCookies.init)
                ).register(on: router)
            case .rocketchat: RocketChatAPI(tessera: tessera).register(on: router)
            case .ece: ElasticCloudAPI(tessera: tessera).register(on: router)
            case .jwt: JWTAPI(tessera: tessera).register(on: router)
            case .v1: V1AuthAPI(tessera: tessera).register(on: router)
            }
        }
        let (host, port) = try address()
        let (serving, listen) = (logger, self.listen)
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "tessera-gateway"),
            onServerRunning: { channel in
                serving.notice(
                    "serving", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? listen)", "apis": "\(selected.map(\.rawValue))"])
            }, logger: logger)
        try await app.runService()
        await tessera.close()
    }

    /// The gateway should be an application peer: as an administrator it could do anything to
    /// any user. Says so in the log when LIST_KEYS (administrators only) is allowed.
    private func warnIfAdministrator(_ tessera: TesseraClient, logger: Logger) async {
        do {
            _ = try await tessera.keys()
            logger.warning(
                "tesserad treats this gateway as an administrator: run it as the web processes' user (tesserad's --app-uid or --app-gid)")
        } catch TesseraClientError.server(let error) where error.code == .forbidden {
            logger.info("connected to tesserad as an application peer", metadata: ["socket": "\(tesseraSocket)"])
        } catch {
            logger.warning("tesserad is not reachable yet; requests will answer 502/503 until it is", metadata: ["error": "\(error)"])
        }
    }
}
