import NIOCore
import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol

/// Answers frames with the domain: VERIFY batches here, every other operation through its
/// handler in ``operations``, after ``Authorization``.
///
/// Knows operations and the domain; knows nothing of sockets. The handlers are registered by
/// family, one file each in `Handlers/`.
struct RequestDispatcher: RequestDispatching {
    let service: AuthService
    let configuration: ServerConfiguration
    let operations: OperationTable
    /// The users of recent VERIFY replies, encoded, while their records are unchanged.
    let encodedUsers = EncodedUsers()

    init(service: AuthService, configuration: ServerConfiguration) {
        self.service = service
        self.configuration = configuration
        operations = Self.makeTable(service: service, configuration: configuration)
        let defects = operations.defects
        precondition(defects.isEmpty, "the operation table is incomplete: \(defects.joined(separator: "; "))")
    }

    var maximumFrameLength: UInt32 { configuration.maximumFrameLength }
    var maximumInFlight: UInt32 { configuration.maximumInFlight }

    func answerInline(_ frame: Frame, peer: PeerClass, into out: inout ByteBuffer) throws {
        try operations.answerInline(frame, peer: peer, into: &out)
    }

    /// A slow operation that hashes a password (its declaration says so) starts only while the
    /// hashing pool has room for it: in its shared lane, or in its reserved lane for a LOGIN
    /// from a clean source (its `client_ip`, read here without decoding the rest) and for the
    /// operations of signed-in users. A flood of logins is so answered `busy` on the socket
    /// thread, as cheaply as before the lanes.
    func admitsSlow(_ frame: Frame) -> Bool {
        guard let opcode = Opcode(rawValue: frame.opcode), Operations.facts(of: opcode).hashesPassword else { return true }
        return service.admitsHashing(login: opcode == .login, clientIP: opcode == .login ? Self.clientIP(ofLogin: frame.body) : nil)
    }

    /// LOGIN's field 3, `client_ip`, if the body holds it; `nil` for anything malformed (the
    /// handler's decoding then answers it).
    private static func clientIP(ofLogin body: ByteBuffer) -> String? {
        var reader = FieldReader(body)
        while let field = try? reader.next() {
            if field.tag == LoginRequest.clientIPTag { return String(buffer: field.value) }
        }
        return nil
    }

    func answerSlow(_ frame: Frame, peer: PeerClass) async throws -> ByteBuffer {
        try await operations.answerSlow(frame, peer: peer)
    }

    /// Every operation's handler, by family; VERIFY is answered below.
    static func makeTable(service: AuthService, configuration: ServerConfiguration) -> OperationTable {
        var table = OperationTable(holders: service.verification)
        ConnectionHandlers(configuration: configuration, hashingQueueLimit: service.configuration.hashingQueueLimit).register(in: &table)
        AccountHandlers(accounts: service.accounts, transfers: service.transfers).register(in: &table)
        SessionHandlers(sessions: service.sessions).register(in: &table)
        KeyHandlers(keys: service.keys).register(in: &table)
        TwoFactorHandlers(twoFactor: service.twoFactor).register(in: &table)
        APIKeyHandlers(apiKeys: service.apiKeys).register(in: &table)
        return table
    }

    // MARK: VERIFY, the hot path

    func answerVerifies(_ frames: [Frame], into out: inout ByteBuffer) -> [(Frame, any Error)] {
        let now = service.clock.now()
        var failures: [(Frame, any Error)] = []
        var touches: [SessionID] = []
        var apiKeyTouches: [APIKeyID] = []
        do {
            try service.verification.withSnapshot { snapshot in
                for frame in frames {
                    do {
                        if let due = try answerVerify(frame, in: snapshot, now: now, into: &out) {
                            if due.isAPIKey { apiKeyTouches.append(APIKeyID(reinterpreting: due.id)) } else { touches.append(due.id) }
                        }
                    } catch {
                        let failure = Self.verifyFailure(error, frame)
                        #if DEBUG
                        OperationTable.assertDeclared(failure, Self.verifyFacts)
                        #endif
                        failures.append((frame, failure))
                    }
                }
            }
        } catch {
            failures = frames.map { ($0, error) }
        }
        service.verification.touch(touches, apiKeys: apiKeyTouches, at: now)
        return failures
    }

    /// Verifies one token (or API key) inside `snapshot` and writes the reply into `out`.
    /// Returns the session's (or key's) id when its last-seen (last-used) time is due.
    @inline(__always)
    private func answerVerify(
        _ frame: Frame, in snapshot: ReadSnapshot, now: Timestamp, into out: inout ByteBuffer
    ) throws -> (id: SessionID, isAPIKey: Bool)? {
        let (tokenField, withUser, withAPIKeys) = try VerifyRequest.fields(in: frame.body)
        let session = try tokenField.withUnsafeReadableBytes { token in try snapshot.verify(token: token, now: now) }
        let apiKeys =
            withAPIKeys
            ? try snapshot.apiKeys(ofUser: session.userID, seenBy: session.isAPIKey ? APIKeyID(reinterpreting: session.sessionID) : nil) : []
        let start = VerifyResponse.writeSessionReply(
            opcode: frame.opcode, requestID: frame.requestID, userID: session.userID,
            sessionID: (session.sessionID.high, session.sessionID.low), expiresAt: session.expiresAt,
            forEachRole: session.forEachRole, into: &out)
        if withUser || session.isAPIKey || withAPIKeys {
            do {
                if withUser { try encodedUsers.writeUser(id: session.userID, in: snapshot, into: &out) }
                if let name = session.apiKeyName { VerifyResponse.writeAPIKeyName(name, into: &out) }
                for key in apiKeys { try VerifyResponse.writeAPIKey(APIKeyInfo(key), into: &out) }
            } catch {
                out.moveWriterIndex(to: start)
                throw error
            }
            out.finishFrame(startingAt: start)
        }
        return session.touchDue ? (session.sessionID, session.isAPIKey) : nil
    }

    private static let verifyFacts = Operations.verify.facts

    /// A token that is not UTF-8 is a malformed string field, as in every other message
    /// (`invalid-argument`), not an unknown token. Checked only after the token failed.
    private static func verifyFailure(_ error: any Error, _ frame: Frame) -> any Error {
        guard case AuthError.tokenInvalid = error, let (token, _, _) = try? VerifyRequest.fields(in: frame.body),
            token.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) == nil
        else { return error }
        return ProtocolError.invalidUTF8(tag: 1)
    }
}
