import Logging
import NIOCore
import TesseraCore
import TesseraProtocol

/// One client connection: routes each frame, batches verifies, coalesces replies.
///
/// Frames that arrive in one read burst are handled together: cheap requests answer at once,
/// verifies wait for the end of the burst and run in one LMDB snapshot, and every reply of the
/// burst leaves in one write and one flush. Slow requests (argon2id, durable writes) run off the
/// event loop and reply whenever they finish, so a verify never waits behind a login.
///
/// The handler splits frames itself (``FrameDecoder/decodeFrame(from:maximumLength:)``) rather
/// than behind a `ByteToMessageHandler`: a frame handed down a pipeline is boxed in `NIOAny`,
/// one allocation per frame on the verify path.
final class ConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dispatcher: RequestDispatcher
    private let clock: any Clock
    private var logger: Logger
    private let tracker: ConnectionTracker
    private var pendingVerifies: [Frame] = []
    private var replies: ByteBuffer
    private var inFlight = 0
    private var draining = false
    private var closed = false
    /// Bytes of a frame not yet complete.
    private var partial: ByteBuffer?
    /// Set after a framing error: the stream cannot be resynchronised; further bytes are ignored.
    private var broken = false

    init(dispatcher: RequestDispatcher, clock: any Clock, logger: Logger, tracker: ConnectionTracker, connectionID: UInt64) {
        self.dispatcher = dispatcher
        self.clock = clock
        self.logger = logger
        self.logger[metadataKey: "connection.id"] = "\(connectionID)"
        self.tracker = tracker
        replies = ByteBuffer()
        pendingVerifies.reserveCapacity(64)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        replies = context.channel.allocator.buffer(capacity: 4096)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !broken else { return }
        var incoming = unwrapInboundIn(data)
        if var buffered = partial {
            partial = nil
            buffered.writeBuffer(&incoming)
            incoming = buffered
        }
        do {
            while let frame = try FrameDecoder.decodeFrame(from: &incoming, maximumLength: dispatcher.configuration.maximumFrameLength) {
                handle(frame, context: context)
            }
        } catch {
            broken = true
            failFraming(error, context: context)
            return
        }
        if incoming.readableBytes > 0 { partial = incoming }
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch RequestDispatcher.route(frame.opcode) {
        case .verify:
            pendingVerifies.append(frame)
        case .inline:
            do {
                try dispatcher.answerInline(frame, into: &replies)
            } catch {
                writeError(error, for: frame)
            }
        case .slow:
            startSlow(frame, context: context)
        case .unknown:
            writeError(RequestFailure(status: .unknownOpcode, message: "opcode 0x\(String(frame.opcode, radix: 16)) is not part of protocol version \(ProtocolVersion.current)"), for: frame)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if !pendingVerifies.isEmpty {
            answerPendingVerifies()
        }
        flushReplies(context: context)
    }

    private func answerPendingVerifies() {
        let now = clock.now()
        // Work on locals: class properties touched per frame would pay a dynamic exclusivity
        // check each time.
        var out = replies
        replies = ByteBuffer()
        var frames: [Frame] = []
        swap(&frames, &pendingVerifies)
        var failures: [(Frame, any Error)] = []
        var touches: [SessionID] = []
        do {
            try dispatcher.service.verification.withSnapshot { snapshot in
                for frame in frames {
                    do {
                        if let due = try dispatcher.answerVerify(frame, in: snapshot, now: now, into: &out) { touches.append(due) }
                    } catch {
                        failures.append((frame, error))
                    }
                }
            }
        } catch {
            failures = frames.map { ($0, error) }
        }
        replies = out
        for (frame, error) in failures { writeError(error, for: frame) }
        dispatcher.service.verification.touch(touches, at: now)
        frames.removeAll(keepingCapacity: true)  // uniquely held again: no reallocation
        swap(&frames, &pendingVerifies)
    }

    private func flushReplies(context: ChannelHandlerContext) {
        guard replies.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(replies), promise: nil)
        // When the socket took the bytes at once, NIO has let go of the buffer and `clear()`
        // reuses it; only a write left pending makes the next reply allocate.
        replies.clear()
    }

    private func startSlow(_ frame: Frame, context: ChannelHandlerContext) {
        guard inFlight < Int(dispatcher.configuration.maximumInFlight) else {
            writeError(RequestFailure(status: .busy, message: "too many requests in flight on this connection", retryAfterSeconds: 1), for: frame)
            return
        }
        inFlight += 1
        let dispatcher = self.dispatcher
        let promise = context.eventLoop.makePromise(of: ByteBuffer.self)
        promise.completeWithTask { try await dispatcher.answerSlow(frame) }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            inFlight -= 1
            switch result {
            case .success(var body):
                replies.writeReply(frame) { $0.writeBuffer(&body) }
            case .failure(let error):
                writeError(error, for: frame)
            }
            guard !closed else { return }
            flushReplies(context: context)
            if draining && inFlight == 0 { context.close(promise: nil) }
        }
    }

    private func writeError(_ error: any Error, for frame: Frame) {
        let failure = RequestFailure(error)
        let traceID = TraceID.make()
        var metadata: Logger.Metadata = ["trace.id": "\(traceID)", "request.opcode": "\(frame.opcode)", "error.name": "\(failure.status.name)"]
        if failure.status == .internal { metadata["error.detail"] = "\(error)" }
        logger.info("request failed", metadata: metadata)
        replies.writeErrorFrame(opcode: frame.opcode, requestID: frame.requestID, failure: failure, traceID: traceID)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// A framing error: the stream cannot be resynchronised. Answer with a closing error frame
    /// (after the replies already due) and close.
    private func failFraming(_ error: any Error, context: ChannelHandlerContext) {
        if !pendingVerifies.isEmpty { answerPendingVerifies() }
        let failure = RequestFailure(error)
        let traceID = TraceID.make()
        logger.info("connection closed after a framing error", metadata: ["trace.id": "\(traceID)", "error.name": "\(failure.status.name)"])
        replies.writeErrorFrame(opcode: 0, requestID: 0, failure: failure, traceID: traceID, closing: true)
        flushReplies(context: context)
        context.close(promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        tracker.opened(context.channel)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        tracker.closed(context.channel)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            draining = true
            if inFlight == 0 { context.close(promise: nil) }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}

/// Sent to every connection on graceful shutdown: close once in-flight requests have answered.
struct DrainEvent: Sendable {}
