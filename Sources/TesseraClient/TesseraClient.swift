import Locking
import NIOCore
import NIOPosix
import Synchronization
// Session and API key ids and account states: the names the client shares with the domain.
@_exported public import TesseraModel
package import TesseraProtocol

/// The async client a web process links to talk to `tesserad` over its Unix socket.
///
/// A client holds one connection for each event loop of its group, opened on first use, and
/// pipelines requests on it: each carries a request id and its reply may come back in any
/// order, so a verify is never stuck behind a login. A call made on one of the group's loops
/// (a Hummingbird or Vapor handler, when NIO runs Swift's tasks) goes out on that loop's
/// connection and is answered there, without a thread switch; calls from elsewhere share the
/// connections in turn, and the requests of concurrent callers go out in one write. When the
/// daemon restarts, the next request reconnects. Safe to share between tasks.
///
/// Every call is `nonisolated(nonsending)`: it runs on its caller's executor (an actor's, or
/// the event loop a handler runs on) up to the write and from the reply on, rather than
/// hopping to Swift's generic executor first and back after. Under NIO's takeover of Swift's
/// global executor each such hop is a job queued on the loop and run again (four of them a
/// verify, about 2 µs of a gateway request: `Benchmarks/RESULTS.md`).
///
/// ```swift
/// let tessera = TesseraClient(socketPath: "/run/tessera/tessera.sock")
/// let login = try await tessera.login(identifier: "alice", password: Array("s3cret-pass".utf8))
/// let session = try await tessera.verify(token: login.token)
/// ```
public final class TesseraClient: Sendable {
    /// The socket the client connects to.
    public let socketPath: String
    /// The connections, one for each event loop of the group, each opened on first use.
    private let slots: [ConnectionSlot]
    /// Where a caller that runs on none of the group's loops sends next.
    private let nextSlot = Atomic<Int>(0)
    private let firstRequestID: UInt32
    /// The users of recent VERIFY replies, not decoded again while unchanged.
    private let recentUsers = RecentUsers()
    private static let maximumReplyLength: UInt32 = 16 << 20

    /// How long a request waits for its reply unless ``withRequestTimeout(_:_:)`` says
    /// otherwise; past it the call throws ``TesseraClientError/timedOut(after:)``.
    public let requestTimeout: Duration

    /// A client of the daemon at `socketPath`. `requestTimeout` bounds every call (one minute by
    /// default: a login hashes, and a loaded host may queue it).
    public convenience init(
        socketPath: String, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, requestTimeout: Duration = .seconds(60)
    ) {
        self.init(socketPath: socketPath, eventLoopGroup: eventLoopGroup, requestTimeout: requestTimeout, firstRequestID: 1)
    }

    /// For the package's tests: the first request id a connection gives (to drive it to the wrap).
    package init(socketPath: String, eventLoopGroup: any EventLoopGroup, requestTimeout: Duration, firstRequestID: UInt32) {
        self.socketPath = socketPath
        slots = eventLoopGroup.makeIterator().map(ConnectionSlot.init)
        self.requestTimeout = requestTimeout
        self.firstRequestID = firstRequestID
    }

    @TaskLocal static var callTimeout: Duration?

    /// Runs `body` with `timeout` as the deadline of every call it makes (on any client), in
    /// place of each client's ``requestTimeout``: a tighter bound for a web request's own
    /// budget, or a longer one for a listing.
    public static func withRequestTimeout<T>(_ timeout: Duration, _ body: () async throws -> T) async rethrows -> T {
        try await $callTimeout.withValue(timeout) { try await body() }
    }

    // MARK: Operations

    /// Exchanges versions and learns the server's limits.
    nonisolated(nonsending) public func hello(clientName: String? = nil) async throws -> ServerHello {
        ServerHello(try await call(Operations.hello, HelloRequest(clientName: clientName)))
    }

    /// Round trip with an optional payload, echoed back.
    nonisolated(nonsending) public func ping(payload: [UInt8] = []) async throws -> [UInt8] {
        try await call(Operations.ping, PingMessage(payload: payload)).payload
    }

    /// Creates a user.
    nonisolated(nonsending) public func createUser(
        username: String, password: [UInt8], email: String? = nil, displayName: String? = nil, roles: [String] = []
    ) async throws -> User {
        try await register(NewUser(username: username, password: password, email: email, displayName: displayName, roles: roles)).user
    }

    /// Creates a user with profile fields; when `unvalidated`, the registration carries the
    /// validation code.
    ///
    /// From a web process, an email or phone another account holds throws
    /// ``TesseraError/Code/alreadyRegistered`` after as long as a sign-up takes:
    /// show the visitor the same page as for a fresh account and tell the address's owner
    /// instead (`PROTOCOL.md` §10, "What sign-up tells"). A taken username throws
    /// ``TesseraError/Code/conflict``.
    nonisolated(nonsending) public func register(_ user: NewUser) async throws -> Registration {
        try Registration(try await call(Operations.createUser, user.wire))
    }

    /// Imports a batch of users from another system (an administrator's operation), their
    /// password hashes kept as that system made them until each user's first login replaces it.
    /// Each record is checked alone: a refused one comes back with its reason, the others are
    /// written. A user already there with the same username and external id is left alone, so
    /// running an import again changes nothing. `source` and `position`: the server keeps the
    /// position for the source in the batch's own commit; a batch without users reads it (where
    /// an interrupted import resumes). With `dryRun` nothing is written.
    nonisolated(nonsending) public func importUsers(
        _ users: [ImportedUser], dryRun: Bool = false, source: String? = nil, position: UInt64? = nil
    ) async throws -> ImportResult {
        ImportResult(
            try await call(Operations.importUsers, ImportUsersRequest(users: users.map(\.wire), dryRun: dryRun, source: source, position: position)))
    }

    /// A page of users in id order after `afterID` (at most `limit`, 1 to 1000), with their
    /// password hashes, as ``importUsers(_:dryRun:source:position:)`` takes them back (an
    /// administrator's operation). With `twoFactorSecrets`, each enrolled user's TOTP secret too:
    /// keep what this returns as you would the database itself. `nextAfterID` is `nil` on the
    /// last page.
    nonisolated(nonsending) public func exportUsers(
        afterID: UInt64 = 0, limit: UInt32 = 1000, twoFactorSecrets: Bool = false
    ) async throws -> (users: [ImportedUser], nextAfterID: UInt64?) {
        let reply = try await call(
            Operations.exportUsers, ExportUsersRequest(afterID: afterID, limit: limit, twoFactorSecrets: twoFactorSecrets))
        return (reply.users.map(ImportedUser.init), reply.nextAfterID)
    }

    /// Issues a fresh validation code for an account waiting for validation (the previous code
    /// stops working), for the web process to send again. `not-found` when no such account waits.
    /// A web process's reply carries the addressee (ids, names, email, phone), not the rest of
    /// the profile.
    nonisolated(nonsending) public func newValidationCode(for user: UserSelector) async throws -> Registration {
        try Registration(try await call(Operations.newValidationCode, user.wire))
    }

    /// Changes a user's profile fields.
    nonisolated(nonsending) public func updateUser(_ user: UserSelector, _ changes: ProfileUpdate) async throws -> User {
        try User(try await call(Operations.updateUser, changes.wire(for: user)).user)
    }

    /// Activates an account with its validation code.
    nonisolated(nonsending) public func validate(code: String) async throws -> User {
        try User(try await call(Operations.validate, ValidateRequest(code: code)).user)
    }

    /// Reads a user by id, username, email, phone or session token.
    nonisolated(nonsending) public func user(_ lookup: UserSelector) async throws -> User {
        try User(try await call(Operations.getUser, lookup.wire).user)
    }

    /// Checks a password and opens a session. `passwordIsSHA256Hex`: `password` is the 64
    /// lower-case hex digits of the password's SHA-256 (what Meteor's and Rocket.Chat's clients
    /// send as `{digest, algorithm: "sha-256"}`), which logs in only a user whose hash was made over
    /// that hex (imported from such a system).
    nonisolated(nonsending) public func login(
        identifier: String, password: [UInt8], clientIP: String? = nil, userAgent: String? = nil, lifetimeSeconds: UInt32? = nil,
        idleTimeoutSeconds: UInt32? = nil, jwt: Bool = false, code: String? = nil, recoveryCode: String? = nil,
        passwordIsSHA256Hex: Bool = false
    ) async throws -> LoginResult {
        var request = LoginRequest(
            identifier: identifier, password: password, clientIP: clientIP, userAgent: userAgent,
            lifetimeSeconds: lifetimeSeconds, idleTimeoutSeconds: idleTimeoutSeconds, jwt: jwt)
        request.code = code
        request.recoveryCode = recoveryCode
        request.passwordIsSHA256Hex = passwordIsSHA256Hex
        return try LoginResult(try await call(Operations.login, request))
    }

    /// Exchanges a refresh token for a new access token and refresh token. A retry within the
    /// server's grace window returns the same pair; a replay after it fails with `refresh-reused`
    /// and ends every session of the family.
    nonisolated(nonsending) public func refresh(
        refreshToken: String, clientIP: String? = nil, userAgent: String? = nil, jwt: Bool = false
    ) async throws -> LoginResult {
        try LoginResult(
            try await call(Operations.refresh, RefreshRequest(refreshToken: refreshToken, clientIP: clientIP, userAgent: userAgent, jwt: jwt)))
    }

    /// The JWKS (JSON) of the signing keys that may still verify a JWT: serve it at
    /// `/.well-known/jwks.json` for services that verify JWTs offline.
    nonisolated(nonsending) public func jwks() async throws -> String {
        try await call(Operations.jwks, EmptyMessage()).jwks
    }

    /// Checks a token (a session token, a JWT or an API key): whose it is, its roles and expiry.
    nonisolated(nonsending) public func verify(token: String) async throws -> VerifiedSession {
        try VerifiedSession(try await call(Operations.verify, VerifyRequest(token: token)) { try VerifyResponse.decodeReply($0) })
    }

    /// Checks a token and returns the user's profile with the session, in one round trip
    /// ("who am I", Rocket.Chat's resume); with `apiKeys`, the user's API keys too (as
    /// ``apiKeys(of:)`` lists them to that token: a session's user's every key, an API key
    /// only itself).
    nonisolated(nonsending) public func verifyWithUser(token: String, apiKeys: Bool = false) async throws -> VerifiedSession {
        var userField: ByteBuffer?
        let reply = try await call(Operations.verify, VerifyRequest(token: token, withUser: true, withAPIKeys: apiKeys)) { body in
            try VerifyResponse.decodeReply(body) { userField = $0 }
        }
        return try VerifiedSession(reply, user: try userField.map { field throws(TesseraClientError) in try recentUsers.user(from: field) })
    }

    /// Ends the session of a token.
    nonisolated(nonsending) public func logout(token: String) async throws {
        _ = try await call(Operations.logout, TokenRequest(token: token))
    }

    /// Changes the caller's password: the session's token and the current password; the
    /// user's other sessions end.
    nonisolated(nonsending) public func changePassword(token: String, current: [UInt8], new: [UInt8]) async throws {
        _ = try await call(Operations.changePassword, ChangePasswordRequest(token: token, currentPassword: current, newPassword: new))
    }

    // MARK: Administration

    /// Sets a user's password without the current one (an administrator's reset): every session
    /// and every API key of the user ends. Returns how many live ones ended.
    @discardableResult
    nonisolated(nonsending) public func setPassword(_ user: UserSelector, password: [UInt8]) async throws -> (sessions: Int, apiKeys: Int) {
        let ended = try await call(Operations.setPassword, SetPasswordRequest(user: user.wire, password: password))
        return (Int(ended.sessions), Int(ended.apiKeys))
    }

    /// Deletes a user with every session.
    nonisolated(nonsending) public func deleteUser(_ user: UserSelector) async throws {
        _ = try await call(Operations.deleteUser, user.wire)
    }

    /// A page of users in id order.
    nonisolated(nonsending) public func listUsers(afterID: UInt64 = 0, limit: UInt32 = 100) async throws -> UserPage {
        let reply = try await call(Operations.listUsers, ListUsersRequest(afterID: afterID, limit: limit))
        return UserPage(users: try reply.users.map { info throws(TesseraClientError) in try User(info) }, nextAfterID: reply.nextAfterID)
    }

    /// Sets an account's state. Leaving active ends its sessions.
    nonisolated(nonsending) public func setUserState(_ user: UserSelector, to state: AccountState) async throws -> User {
        try User(try await call(Operations.setUserState, SetUserStateRequest(user: user.wire, state: state.rawValue)).user)
    }

    /// Clears an account's failed-login count and lock.
    nonisolated(nonsending) public func unlockUser(_ user: UserSelector) async throws {
        _ = try await call(Operations.unlockUser, user.wire)
    }

    /// Every session of a user, oldest first (all pages of LIST_SESSIONS).
    nonisolated(nonsending) public func sessions(of user: UserSelector) async throws -> [SessionSummary] {
        var all: [SessionSummary] = []
        var after: SessionID?
        repeat {
            let page = try await sessions(of: user, after: after, limit: 1000)
            all += page.sessions
            after = page.next
        } while after != nil
        return all.sorted { $0.createdAt < $1.createdAt }
    }

    /// One page of a user's sessions in session id order: at most `limit` (1–1000) after the
    /// session `after`, and where the next page starts when this one is full.
    nonisolated(nonsending) public func sessions(
        of user: UserSelector, after: SessionID?, limit: UInt32 = 100
    ) async throws -> (
        sessions: [SessionSummary], next: SessionID?
    ) {
        let reply = try await call(Operations.listSessions, ListSessionsRequest(user: user.wire, afterSessionID: after?.bytes, limit: limit))
        let sessions = try reply.sessions.map { info throws(TesseraClientError) in try SessionSummary(info) }
        guard let next = reply.nextAfterSessionID else { return (sessions, nil) }
        guard let nextID = SessionID(bytes: next) else { throw TesseraClientError.malformedReply("a session id is 16 bytes") }
        return (sessions, nextID)
    }

    /// Ends one session (and its refresh family).
    ///
    /// With `sessionToken` (required of an application peer), only a session of that token's
    /// user: another user's session is `not-found`.
    nonisolated(nonsending) public func revokeSession(_ id: SessionID, sessionToken: String? = nil) async throws {
        _ = try await call(Operations.revokeSession, SessionIDRequest(sessionID: id.bytes, sessionToken: sessionToken))
    }

    /// Ends every session of a user, or all but `except`, and every API key of the user
    /// ("log out everywhere"); returns how many live ones ended.
    @discardableResult
    nonisolated(nonsending) public func revokeAllSessions(
        of user: UserSelector, except: SessionID? = nil
    ) async throws -> (sessions: Int, apiKeys: Int) {
        let ended = try await call(Operations.revokeAllSessions, RevokeAllSessionsRequest(user: user.wire, exceptSessionID: except?.bytes))
        return (Int(ended.count), Int(ended.apiKeys))
    }

    /// The token keys, oldest first (never their material).
    nonisolated(nonsending) public func keys() async throws -> [TokenKey] {
        try await call(Operations.listKeys, EmptyMessage()).keys.map { info throws(TesseraClientError) in try TokenKey(info) }
    }

    /// Makes a new key of `purpose` active; the previous one verifies what it made until that
    /// cannot be alive, then retires. Returns the new key.
    nonisolated(nonsending) public func rotateKey(_ purpose: KeyPurpose = .tokenDigest) async throws -> TokenKey {
        try TokenKey(try await call(Operations.rotateKey, RotateKeyRequest(purpose: purpose.rawValue)).key)
    }

    /// Seals the token keys under a new master key, which the daemon writes to a new file at
    /// `path` (an absolute path on its host, mode 0600). Restart the daemon with
    /// `--master-key path`. Returns how many live keys were sealed.
    nonisolated(nonsending) public func rotateMasterKey(newKeyFile path: String) async throws -> Int {
        Int(try await call(Operations.rotateMasterKey, RotateMasterKeyRequest(path: path)).keysSealed)
    }

    /// Retires key `id` now: every token made under it is refused. Returns the key and how many
    /// live sessions ended.
    nonisolated(nonsending) public func retireKey(_ id: UInt16) async throws -> (key: TokenKey, sessionsEnded: Int) {
        let reply = try await call(Operations.retireKey, RetireKeyRequest(keyID: id))
        return (try TokenKey(reply.key), Int(clamping: reply.sessionsEnded))
    }

    // MARK: API keys

    /// Makes an API key for `user` with `permissions` (among the user's roles) and, when given,
    /// a lifetime. Returns the key's text (`tsk_…`, shown once: hand it to the machine client,
    /// it is not stored) and the key as listed. From a web process the user re-authenticates
    /// (`reauthenticatedBy`): a key outlives the session that made it.
    nonisolated(nonsending) public func createAPIKey(
        for user: UserSelector, name: String, lifetimeSeconds: UInt32? = nil, permissions: [String] = [],
        reauthenticatedBy proof: Reauthentication? = nil
    ) async throws -> (key: String, apiKey: APIKey) {
        let request = CreateAPIKeyRequest(
            user: user.wire, name: name, lifetimeSeconds: lifetimeSeconds, permissions: permissions, password: proof?.password,
            code: proof?.code, recoveryCode: proof?.recoveryCode)
        let reply = try await call(Operations.createAPIKey, request)
        return (reply.key, try APIKey(reply.apiKey))
    }

    /// Every API key of `user`, oldest first; never a secret.
    nonisolated(nonsending) public func apiKeys(of user: UserSelector) async throws -> [APIKey] {
        try await call(Operations.listAPIKeys, user.wire).apiKeys.map { info throws(TesseraClientError) in try APIKey(info) }
    }

    /// Revokes one API key by its id (`sessionToken`: self-service, only a key of that user).
    nonisolated(nonsending) public func revokeAPIKey(_ id: APIKeyID, sessionToken: String? = nil) async throws {
        _ = try await call(Operations.revokeAPIKey, RevokeAPIKeyRequest(keyID: id.bytes, sessionToken: sessionToken))
    }

    /// Revokes every API key of `user`. Returns how many were live.
    nonisolated(nonsending) public func revokeAllAPIKeys(of user: UserSelector) async throws -> Int {
        Int(try await call(Operations.revokeAllAPIKeys, user.wire).count)
    }

    /// Checks an API key: whose it is, which key, its permissions. ``verify(token:)`` accepts
    /// API keys too.
    nonisolated(nonsending) public func verifyAPIKey(_ key: String) async throws -> APIKeyVerification {
        try APIKeyVerification(try await call(Operations.verifyAPIKey, VerifyAPIKeyRequest(key: key)))
    }

    // MARK: Two-factor login

    /// A user's second factor; never its secret.
    nonisolated(nonsending) public func twoFactorStatus(of user: UserSelector) async throws -> TwoFactorStatus {
        try TwoFactorStatus(try await call(Operations.twoFactorStatus, user.wire))
    }

    /// Issues a TOTP secret for `user` (pending until
    /// ``confirmTwoFactor(of:code:reauthenticatedBy:)``): show its `uri` as a QR code, once.
    /// `issuer` and `accountName` are what the app shows (the server's issuer and the user's
    /// email or username when absent). From a web process the user re-authenticates
    /// (`reauthenticatedBy`, the password alone: a user with a second factor disables it first).
    nonisolated(nonsending) public func enrolTwoFactor(
        of user: UserSelector, algorithm: TOTPAlgorithm = .sha1, digits: Int = 6, issuer: String? = nil, accountName: String? = nil,
        reauthenticatedBy proof: Reauthentication? = nil
    ) async throws -> TwoFactorEnrolment {
        let request = EnrolTwoFactorRequest(
            user: user.wire, algorithm: algorithm.rawValue, digits: UInt8(clamping: digits), issuer: issuer, accountName: accountName,
            password: proof?.password, code: proof?.code, recoveryCode: proof?.recoveryCode)
        return try TwoFactorEnrolment(try await call(Operations.enrolTwoFactor, request))
    }

    /// Confirms a pending enrolment with one code from the app. Returns the ten recovery codes:
    /// show them once. From a web process the user re-authenticates with the password
    /// (`reauthenticatedBy`).
    nonisolated(nonsending) public func confirmTwoFactor(
        of user: UserSelector, code: String, reauthenticatedBy proof: Reauthentication? = nil
    ) async throws -> [String] {
        try await call(Operations.confirmTwoFactor, ConfirmTwoFactorRequest(user: user.wire, code: code, password: proof?.password))
            .recoveryCodes
    }

    /// Removes a second factor: from the user themselves (a `sessionToken` selector) with the
    /// password and a code or a recovery code; from an administrator with neither (a reset).
    nonisolated(nonsending) public func disableTwoFactor(
        of user: UserSelector, password: [UInt8]? = nil, code: String? = nil, recoveryCode: String? = nil
    ) async throws {
        _ = try await call(
            Operations.disableTwoFactor, DisableTwoFactorRequest(user: user.wire, password: password, code: code, recoveryCode: recoveryCode))
    }

    /// New recovery codes, the old ones void; `code` is needed from the user themselves.
    nonisolated(nonsending) public func regenerateRecoveryCodes(of user: UserSelector, code: String? = nil) async throws -> [String] {
        try await call(Operations.regenerateRecoveryCodes, RegenerateRecoveryCodesRequest(user: user.wire, code: code)).recoveryCodes
    }

    /// Closes the connections; the next request opens a new one.
    nonisolated(nonsending) public func close() async {
        for slot in slots {
            if let channel = try? await slot.forgetAll()?.get().channel { try? await channel.close() }
        }
    }

    // MARK: Frames

    /// Sends `request` as `operation` and decodes its reply; an error frame throws
    /// ``TesseraClientError/server(_:)``. For the package's own code: the public API speaks the domain.
    nonisolated(nonsending) package func call<Request, Reply, Names>(
        _ operation: Operation<Request, Reply, Names>, _ request: Request, decode: (ByteBuffer) throws -> Reply = Reply.init(decoding:)
    ) async throws -> Reply {
        let timeout = Self.callTimeout ?? requestTimeout
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = seconds > Int64.max / 1_000_000_000 ? Int64.max : seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        let frame = try await connection().send(opcode: operation.opcode.rawValue, timeout: .nanoseconds(max(0, nanoseconds))) {
            try request.encode(into: &$0)
        }
        guard frame.status == 0 else { throw try ClientReply.serverError(frame) }
        do {
            return try decode(frame.body)
        } catch {
            throw TesseraClientError.malformedReply("\(error)")
        }
    }

    /// The connection of the caller's event loop when it runs on one of the group's (so the call
    /// is written and answered on this thread), or else of the loops in turn.
    private func slot() -> ConnectionSlot {
        if slots.count > 1 {
            if let current = MultiThreadedEventLoopGroup.currentEventLoop {
                for slot in slots where slot.eventLoop === current { return slot }
            }
            return slots[nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count]
        }
        return slots[0]
    }

    nonisolated(nonsending) private func connection() async throws -> ClientConnection {
        let slot = self.slot()
        if let connection = slot.connection { return connection }
        var replaced = false
        while true {
            let (future, served) = slot.connecting { connect(on: slot.eventLoop) }
            let connection: ClientConnection
            do {
                connection = try await future.get()
            } catch {
                slot.forget(future)
                throw TesseraClientError.cannotConnect(path: socketPath, reason: "\(error)")
            }
            if connection.isUsable {
                slot.settle(future, connection)
                return connection
            }
            slot.forget(future)
            // The daemon refused a new connection with a reason (a peer it does not serve): say it.
            if !served, let ended = connection.endedWith, case .server = ended { throw ended }
            // The daemon closed this connection (a restart, say): connect once more.
            guard !replaced else { throw TesseraClientError.connectionClosed }
            replaced = true
        }
    }

    private func connect(on eventLoop: any EventLoop) -> EventLoopFuture<ClientConnection> {
        let maximum = Self.maximumReplyLength
        let first = firstRequestID
        return ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientChannelHandler(firstRequestID: first, maximumReplyLength: maximum))
                }
            }
            .connect(unixDomainSocketPath: socketPath)
            .flatMapThrowing { channel in
                guard let connection = try channel.pipeline.syncOperations.handler(type: ClientChannelHandler.self).connection else {
                    throw TesseraClientError.connectionClosed
                }
                return connection
            }
    }
}

/// The connection of one event loop: being opened, or open.
private final class ConnectionSlot: Sendable {
    let eventLoop: any EventLoop
    private let state = Locked<(opening: EventLoopFuture<ClientConnection>?, open: ClientConnection?)>((nil, nil))

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// The open connection, while it takes requests.
    var connection: ClientConnection? {
        guard let open = state.withLock({ $0.open }), open.isUsable else { return nil }
        return open
    }

    /// The connection being opened (or open), or a new one from `open`; `served`: it was open
    /// and took requests before.
    func connecting(_ open: () -> EventLoopFuture<ClientConnection>) -> (EventLoopFuture<ClientConnection>, served: Bool) {
        state.withLock { state in
            if let opening = state.opening { return (opening, state.open != nil) }
            let fresh = open()
            state.opening = fresh
            return (fresh, false)
        }
    }

    /// `future` gave `connection`, which takes requests: later calls take it directly.
    func settle(_ future: EventLoopFuture<ClientConnection>, _ connection: ClientConnection) {
        state.withLock { state in if state.opening === future { state.open = connection } }
    }

    /// `future` failed or its connection ended: the next call opens another.
    func forget(_ future: EventLoopFuture<ClientConnection>) {
        state.withLock { state in
            guard state.opening === future else { return }
            state = (nil, nil)
        }
    }

    /// Forgets whatever connection there is and returns it, to close.
    func forgetAll() -> EventLoopFuture<ClientConnection>? {
        state.withLock { state in
            defer { state = (nil, nil) }
            return state.opening
        }
    }
}
