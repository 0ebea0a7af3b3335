import NIOCore
import TesseraProtocol

/// Opcode → the closure that answers it. Each operation is registered once, typed by its
/// ``TesseraProtocol/Operation``: the table decodes the request, runs the closure and encodes
/// the reply, so no handler touches a tag or a frame.
struct OperationTable: Sendable {
    typealias InlineAnswer = @Sendable (Frame, PeerClass, inout ByteBuffer) throws -> Void
    typealias SlowAnswer = @Sendable (Frame, PeerClass) async throws -> ByteBuffer

    private var inlineAnswers = [InlineAnswer?](repeating: nil, count: 256)
    private var slowAnswers = [SlowAnswer?](repeating: nil, count: 256)

    /// Registers an operation answered at once, on the event loop, from a read snapshot.
    mutating func inline<Request, Reply>(_ operation: Operation<Request, Reply>, _ answer: @escaping @Sendable (Request) throws -> Reply) {
        inline(operation, withPeer: { request, _ in try answer(request) })
    }

    /// Registers an operation answered at once whose answer depends on the caller's class
    /// (self-service: an application peer acts only on the user of its session token).
    mutating func inline<Request, Reply>(
        _ operation: Operation<Request, Reply>, withPeer answer: @escaping @Sendable (Request, PeerClass) throws -> Reply
    ) {
        precondition(operation.answering == .inline, "\(operation.opcode) is not answered inline")
        inlineAnswers[Int(operation.opcode.rawValue)] = { frame, peer, out in
            let reply = try answer(try Request(decoding: frame.body), peer)
            try out.writeReply(frame) { try reply.encode(into: &$0) }
        }
    }

    /// Registers an operation that runs off the event loop. The request is handed over `inout`
    /// so the answer can wipe the secrets it carries.
    mutating func slow<Request, Reply>(
        _ operation: Operation<Request, Reply>,
        _ answer: @escaping @Sendable (inout Request) async throws -> Reply
    ) {
        slow(operation, withPeer: { request, _ in try await answer(&request) })
    }

    /// Registers an operation that runs off the event loop and whose answer depends on the
    /// caller's class.
    mutating func slow<Request, Reply>(
        _ operation: Operation<Request, Reply>,
        withPeer answer: @escaping @Sendable (inout Request, PeerClass) async throws -> Reply
    ) {
        precondition(operation.answering == .slow, "\(operation.opcode) is not answered off the event loop")
        slowAnswers[Int(operation.opcode.rawValue)] = { frame, peer in
            var request = try Request(decoding: frame.body)
            return try await answer(&request, peer).encoded()
        }
    }

    func answerInline(_ frame: Frame, peer: PeerClass, into out: inout ByteBuffer) throws {
        guard let answer = inlineAnswers[Int(frame.opcode)] else { preconditionFailure("no inline answer for opcode \(frame.opcode)") }
        try answer(frame, peer, &out)
    }

    func answerSlow(_ frame: Frame, peer: PeerClass) async throws -> ByteBuffer {
        guard let answer = slowAnswers[Int(frame.opcode)] else { preconditionFailure("no slow answer for opcode \(frame.opcode)") }
        return try await answer(frame, peer)
    }

    /// The opcodes of `answering` that have no entry: empty when the table is complete.
    func missing(_ answering: Answering) -> [Opcode] {
        Opcode.allCases.filter { opcode in
            guard opcode.answering == answering else { return false }
            switch answering {
            case .inline: return inlineAnswers[Int(opcode.rawValue)] == nil
            case .slow: return slowAnswers[Int(opcode.rawValue)] == nil
            case .verifyBatch: return false
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
