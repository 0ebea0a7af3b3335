import NIOCore
import TesseraProtocol

/// Opcode → the handler that answers it, each registered once against its
/// ``TesseraProtocol/Operation`` declaration.
///
/// The table decodes the request, authorizes it (``Authorization``: the peer, what an
/// application may send, the user it names) and only then runs the handler, then encodes the
/// reply: no handler touches a tag, a frame or the peer's class. A handler of an operation that
/// acts on a user receives that user resolved (``AuthorizedUser``); the declaration's subject
/// type decides which registration applies, so the check cannot be left out.
struct OperationTable: Sendable {
    typealias InlineAnswer = @Sendable (Frame, PeerClass, inout ByteBuffer) throws -> Void
    typealias SlowAnswer = @Sendable (Frame, PeerClass) async throws -> ByteBuffer

    let authorization: Authorization
    private var inlineAnswers = [InlineAnswer?](repeating: nil, count: 256)
    private var slowAnswers = [SlowAnswer?](repeating: nil, count: 256)
    /// How many times each opcode was registered (VERIFY's batch included).
    private var registrations = [Int](repeating: 0, count: 256)

    init(holders: any TokenHolders) {
        authorization = Authorization(holders: holders)
    }

    // MARK: Registration

    /// Registers an operation answered at once, on the socket thread, from a read snapshot.
    mutating func inline<Request, Reply>(
        _ operation: Operation<Request, Reply, Subject.Nobody>, _ answer: @escaping @Sendable (Request) throws -> Reply
    ) {
        let authorization = self.authorization
        register(
            operation,
            inline: { request, peer in
                try authorization.admit(operation, request, peer: peer)
                return try answer(request)
            })
    }

    /// Registers an operation answered at once that acts on the user its request names.
    mutating func inline<Request, Reply>(
        _ operation: Operation<Request, Reply, Subject.User>, _ answer: @escaping @Sendable (Request, AuthorizedUser) throws -> Reply
    ) {
        let authorization = self.authorization
        register(operation, inline: { request, peer in try answer(request, try authorization.user(operation, request, peer: peer)) })
    }

    /// Registers an operation that runs off the socket thread. The request is handed over
    /// `inout` so the handler can wipe the secrets it carries.
    mutating func slow<Request, Reply>(
        _ operation: Operation<Request, Reply, Subject.Nobody>, _ answer: @escaping @Sendable (inout Request) async throws -> Reply
    ) {
        let authorization = self.authorization
        register(
            operation,
            slow: { request, peer in
                try authorization.admit(operation, request, peer: peer)
                return try await answer(&request)
            })
    }

    /// Registers an operation that runs off the socket thread, acts on no named user, and
    /// answers an administrator and a web process differently (a sign-up gets the configured
    /// roles): the handler is told which, never the peer.
    mutating func slow<Request, Reply>(
        _ operation: Operation<Request, Reply, Subject.Nobody>, _ answer: @escaping @Sendable (inout Request, Origin) async throws -> Reply
    ) {
        let authorization = self.authorization
        register(
            operation,
            slow: { request, peer in
                try authorization.admit(operation, request, peer: peer)
                return try await answer(&request, peer == .admin ? .administrator : .application)
            })
    }

    /// Registers an operation that runs off the socket thread and acts on the user its request names.
    mutating func slow<Request, Reply>(
        _ operation: Operation<Request, Reply, Subject.User>, _ answer: @escaping @Sendable (inout Request, AuthorizedUser) async throws -> Reply
    ) {
        let authorization = self.authorization
        register(operation, slow: { request, peer in try await answer(&request, try authorization.user(operation, request, peer: peer)) })
    }

    /// Registers an operation that runs off the socket thread and acts on an object of the
    /// owner its request proves.
    mutating func slow<Request, Reply>(
        _ operation: Operation<Request, Reply, Subject.Owner>, _ answer: @escaping @Sendable (inout Request, AuthorizedOwner) async throws -> Reply
    ) {
        let authorization = self.authorization
        register(operation, slow: { request, peer in try await answer(&request, try authorization.owner(operation, request, peer: peer)) })
    }

    /// Records that VERIFY is answered by the dispatcher's batch (``RequestDispatcher/answerVerifies(_:into:)``),
    /// not by an entry of this table.
    mutating func batched<Request, Reply>(_ operation: Operation<Request, Reply, Subject.Nobody>) {
        precondition(operation.answering == .verifyBatch, "\(operation.name) is not answered in a batch")
        precondition(operation.access.admitsApplications, "a batched operation is checked by no authorization")
        registrations[Int(operation.opcode.rawValue)] += 1
    }

    private mutating func register<Request, Reply, Names>(
        _ operation: Operation<Request, Reply, Names>, inline answer: @escaping @Sendable (Request, PeerClass) throws -> Reply
    ) {
        precondition(operation.answering == .inline, "\(operation.name) is not answered inline")
        registrations[Int(operation.opcode.rawValue)] += 1
        let facts = operation.facts
        inlineAnswers[Int(operation.opcode.rawValue)] = { frame, peer, out in
            do {
                let reply = try answer(try Request(decoding: frame.body), peer)
                try out.writeReply(frame) { try reply.encode(into: &$0) }
            } catch {
                Self.assertDeclared(error, facts)
                throw error
            }
        }
    }

    private mutating func register<Request, Reply, Names>(
        _ operation: Operation<Request, Reply, Names>, slow answer: @escaping @Sendable (inout Request, PeerClass) async throws -> Reply
    ) {
        precondition(operation.answering == .slow, "\(operation.name) is not answered off the socket thread")
        registrations[Int(operation.opcode.rawValue)] += 1
        let facts = operation.facts
        slowAnswers[Int(operation.opcode.rawValue)] = { frame, peer in
            do {
                var request = try Request(decoding: frame.body)
                return try await answer(&request, peer).encoded()
            } catch {
                Self.assertDeclared(error, facts)
                throw error
            }
        }
    }

    /// In debug builds (the test suite's), an error an operation does not declare stops the
    /// daemon: every status a test provokes is then in the spec's list for the operation.
    @inline(__always)
    static func assertDeclared(_ error: any Error, _ facts: OperationFacts) {
        assert(
            facts.possibleErrors.contains(RequestFailure(error).status),
            "\(facts.name) answered \(RequestFailure(error).status.name), which its declaration does not list (\(error))")
    }

    // MARK: Answers

    func answerInline(_ frame: Frame, peer: PeerClass, into out: inout ByteBuffer) throws {
        guard let answer = inlineAnswers[Int(frame.opcode)] else { preconditionFailure("no inline answer for opcode \(frame.opcode)") }
        try answer(frame, peer, &out)
    }

    func answerSlow(_ frame: Frame, peer: PeerClass) async throws -> ByteBuffer {
        guard let answer = slowAnswers[Int(frame.opcode)] else { preconditionFailure("no slow answer for opcode \(frame.opcode)") }
        return try await answer(frame, peer)
    }

    // MARK: Completeness

    /// What is wrong with the table: each declared operation without exactly one registration.
    /// Empty when the table is complete; the daemon refuses to start otherwise.
    var defects: [String] {
        let declared = Set(Operations.all.map(\.opcode))
        let undeclared = Opcode.allCases.filter { !declared.contains($0) }.map { "opcode \($0) is not declared in Operations.all" }
        return undeclared
            + Operations.all.compactMap { operation in
                switch registrations[Int(operation.opcode.rawValue)] {
                case 1: nil
                case 0: "\(operation.name) has no handler"
                case let count: "\(operation.name) has \(count) handlers"
                }
            }
    }
}

extension ByteBuffer {
    /// Writes a successful reply to `request`.
    @inline(__always)
    mutating func writeReply(_ request: Frame, _ body: (inout ByteBuffer) throws -> Void) rethrows {
        try writeFrame(opcode: request.opcode, flags: .response, requestID: request.requestID, body)
    }
}
