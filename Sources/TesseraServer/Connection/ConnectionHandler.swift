import Logging
import NIOCore
import TesseraProtocol

/// One client connection: the NIO glue around a ``ConnectionStateMachine`` and a dispatcher.
///
/// Frames that arrive in one read burst are handled together: cheap requests answer at once,
/// verifies wait for the end of the burst and run in one LMDB snapshot, and every reply of the
/// burst leaves in one write and one flush. Slow requests (argon2id, durable writes) run off the
/// event loop and reply whenever they finish, so a verify never waits behind a login.
///
/// Which frames are answered how, and when the connection closes, is the state machine's
/// decision; this class only carries it out. Frames are split by
/// ``TesseraProtocol/FrameAccumulator`` rather than behind a `ByteToMessageHandler`: a frame
/// handed down a pipeline is boxed in `NIOAny`, one allocation per frame on the verify path.
final class ConnectionHandler<Dispatcher: RequestDispatching>: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dispatcher: Dispatcher
    private var logger: Logger
    private let tracker: ConnectionTracker?
    private var state: ConnectionStateMachine
    private var frames: FrameAccumulator
    private var pendingVerifies: [Frame] = []
    private var replies: ByteBuffer
    private let limits: ConnectionLimits
    private let overLimit: Bool
    /// Holds one of the tracker's connection slots (given back when the handler goes).
    private var holdsSlot: Bool
    /// Reading stopped because the client does not read its replies.
    private var paused = false
    private var lastFrameAt = NIODeadline.now()
    /// The channel's writability, as NIO last reported it (read per burst without touching the channel).
    private var writable = true
    private var idleTimer: Scheduled<Void>?
    private var frameTimer: Scheduled<Void>?
    private var unreadTimer: Scheduled<Void>?

    init(
        dispatcher: Dispatcher, peer: PeerCredentials?, peerClass: PeerClass, logger: Logger, tracker: ConnectionTracker?, connectionID: UInt64,
        limits: ConnectionLimits = ConnectionLimits(), overLimit: Bool = false
    ) {
        self.limits = limits
        self.overLimit = overLimit
        holdsSlot = !overLimit && tracker != nil
        self.dispatcher = dispatcher
        self.logger = logger
        self.logger[metadataKey: "connection.id"] = "\(connectionID)"
        self.logger[metadataKey: "peer.uid"] = "\(peer.map { String($0.uid) } ?? "unknown")"
        self.logger[metadataKey: "peer.pid"] = "\(peer.map { String($0.pid) } ?? "unknown")"
        self.logger[metadataKey: "peer.class"] = "\(peerClass.rawValue)"
        self.tracker = tracker
        state = ConnectionStateMachine(peer: peerClass, maximumSlowInFlight: Int(dispatcher.maximumInFlight))
        frames = FrameAccumulator(maximumLength: dispatcher.maximumFrameLength)
        replies = ByteBuffer()
        pendingVerifies.reserveCapacity(64)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        replies = context.channel.allocator.buffer(capacity: 4096)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if holdsSlot { tracker?.release() }
        holdsSlot = false
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state.readsFrames else { return }  // a broken or refused connection: bytes are discarded
        var incoming = unwrapInboundIn(data)
        // Split on a local: a class property touched per frame pays a dynamic exclusivity check.
        var accumulator = FrameAccumulator(maximumLength: frames.maximumLength)
        swap(&accumulator, &frames)
        defer { swap(&accumulator, &frames) }
        accumulator.append(&incoming)
        processFrames(&accumulator, context: context)
    }

    /// Handles the whole frames in `accumulator` until it holds none, or until the client's
    /// unread replies make the server stop reading.
    private func processFrames(_ accumulator: inout FrameAccumulator, context: ChannelHandlerContext) {
        var handled = false
        do {
            while !paused, let frame = try accumulator.next() {
                handled = true
                handle(frame, context: context)
                if replies.readableBytes >= limits.outputPauseBytes { pauseIfUnread(context: context) }
            }
        } catch {
            failFraming(error, context: context)
            return
        }
        // The idle clock restarts once per read burst that brought frames (not per frame).
        if handled { lastFrameAt = .now() }
        watchPartialFrame(pending: accumulator.bufferedBytes > 0, context: context)
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch state.frameReceived(Opcode(rawValue: frame.opcode)) {
        case .queueVerify:
            pendingVerifies.append(frame)
        case .answerInline:
            do {
                try dispatcher.answerInline(frame, peer: state.peer, into: &replies)
            } catch {
                writeError(error, for: frame)
            }
        case .startSlow:
            guard dispatcher.admitsSlow(frame.opcode) else {
                // Refused before it started: it leaves the in-flight count at once.
                _ = state.slowRequestFinished()
                writeError(RequestFailure(status: .busy, message: "the server is saturated; retry shortly", retryAfterSeconds: 1), for: frame)
                return
            }
            startSlow(frame, context: context)
        case .rejectBusy:
            writeError(RequestFailure(status: .busy, message: "too many requests in flight on this connection", retryAfterSeconds: 1), for: frame)
        case .rejectForbidden:
            writeError(RequestFailure(status: .forbidden, message: "this peer may not use opcode 0x\(String(frame.opcode, radix: 16))"), for: frame)
        case .rejectUnknownOpcode:
            writeError(
                RequestFailure(
                    status: .unknownOpcode,
                    message: "opcode 0x\(String(frame.opcode, radix: 16)) is not part of protocol version \(ProtocolVersion.current)"),
                for: frame)
        case .ignore:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        answerPendingVerifies()
        flushReplies(context: context)
        if !writable { pauseIfUnread(context: context) }
    }

    // MARK: Limits

    /// Flushes what is due; when the client still does not take it, stops reading its requests
    /// until it does, and closes the connection if it never does.
    private func pauseIfUnread(context: ChannelHandlerContext) {
        answerPendingVerifies()
        flushReplies(context: context)
        guard !context.channel.isWritable, !paused else { return }
        paused = true
        // While the server does not read, an unfinished frame is not the client's delay.
        frameTimer?.cancel()
        frameTimer = nil
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        unreadTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(limits.unreadTimeoutSeconds)) { [self] in
            guard state.unreadTimedOut() == .close else { return }
            logger.info("connection closed: the client left its replies unread", metadata: ["timeout.seconds": "\(limits.unreadTimeoutSeconds)"])
            context.close(promise: nil)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        context.fireChannelWritabilityChanged()
        guard writable, paused else { return }
        paused = false
        unreadTimer?.cancel()
        unreadTimer = nil
        var accumulator = FrameAccumulator(maximumLength: frames.maximumLength)
        swap(&accumulator, &frames)
        processFrames(&accumulator, context: context)
        swap(&accumulator, &frames)
        answerPendingVerifies()
        flushReplies(context: context)
        if !paused {
            watchPartialFrame(pending: frames.bufferedBytes > 0, context: context)
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
    }

    /// A frame begun but not complete must complete within the frame timeout.
    private func watchPartialFrame(pending: Bool, context: ChannelHandlerContext) {
        guard pending else {
            frameTimer?.cancel()
            frameTimer = nil
            return
        }
        guard frameTimer == nil, !paused, limits.frameTimeoutSeconds > 0 else { return }
        frameTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(limits.frameTimeoutSeconds)) { [self] in
            frameTimer = nil
            guard frames.bufferedBytes > 0, state.frameTimedOut() == .failAndClose else { return }
            let failure = RequestFailure(status: .malformedFrame, message: "a frame was not completed within \(limits.frameTimeoutSeconds) s")
            closeWithError(failure, context: context)
        }
    }

    /// Closes a connection that received no frame (and has nothing in flight) for the idle timeout.
    private func scheduleIdleCheck(context: ChannelHandlerContext, after delay: TimeAmount) {
        guard limits.idleTimeoutSeconds > 0 else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            let idle = NIODeadline.now() - lastFrameAt
            let timeout = TimeAmount.seconds(limits.idleTimeoutSeconds)
            guard idle >= timeout else { return scheduleIdleCheck(context: context, after: timeout - idle) }
            guard state.idleTimedOut() == .close else { return scheduleIdleCheck(context: context, after: timeout) }
            logger.debug("connection closed: idle", metadata: ["timeout.seconds": "\(limits.idleTimeoutSeconds)"])
            context.close(promise: nil)
        }
    }

    private func answerPendingVerifies() {
        guard !pendingVerifies.isEmpty else { return }
        // Work on locals: class properties touched per frame would pay a dynamic exclusivity
        // check each time.
        var out = replies
        replies = ByteBuffer()
        var batch: [Frame] = []
        swap(&batch, &pendingVerifies)
        let failures = dispatcher.answerVerifies(batch, into: &out)
        replies = out
        for (frame, error) in failures { writeError(error, for: frame) }
        batch.removeAll(keepingCapacity: true)  // uniquely held again: no reallocation
        swap(&batch, &pendingVerifies)
    }

    private func flushReplies(context: ChannelHandlerContext) {
        guard replies.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(replies), promise: nil)
        // When the socket took the bytes at once, NIO has let go of the buffer and `clear()`
        // reuses it; only a write left pending makes the next reply allocate.
        replies.clear()
    }

    // MARK: Slow requests

    private func startSlow(_ frame: Frame, context: ChannelHandlerContext) {
        let (dispatcher, peer) = (self.dispatcher, state.peer)
        let promise = context.eventLoop.makePromise(of: ByteBuffer.self)
        promise.completeWithTask { try await dispatcher.answerSlow(frame, peer: peer) }
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            let action = state.slowRequestFinished()
            guard action != .drop else { return }
            switch result {
            case .success(var body):
                replies.writeReply(frame) { $0.writeBuffer(&body) }
            case .failure(let error):
                writeError(error, for: frame)
            }
            flushReplies(context: context)
            if action == .writeFlushAndClose { context.close(promise: nil) }
        }
    }

    // MARK: Errors

    private func writeError(_ error: any Error, for frame: Frame) {
        var failure = RequestFailure(error)
        if failure.status == .conflict, state.peer == .application {
            // Which field clashed would tell an application peer which emails and phones exist.
            failure.message = "the username, email or phone is already registered"
        }
        let traceID = TraceID.make()
        var metadata: Logger.Metadata = ["trace.id": "\(traceID)", "request.opcode": "\(frame.opcode)", "error.name": "\(failure.status.name)"]
        if failure.status == .internal { metadata["error.detail"] = "\(error)" }
        logger.log(level: failure.status.logLevel, "request failed", metadata: metadata)
        replies.writeErrorFrame(opcode: frame.opcode, requestID: frame.requestID, failure: failure, traceID: traceID)
    }

    /// A framing error: the stream cannot be resynchronised. Answer the verifies already
    /// queued, then a closing error frame, and close.
    private func failFraming(_ error: any Error, context: ChannelHandlerContext) {
        guard state.framingFailed() == .answerQueuedThenFailAndClose else { return }
        answerPendingVerifies()
        closeWithError(RequestFailure(error), context: context)
    }

    /// Writes a closing error frame (request id 0) and closes.
    private func closeWithError(_ failure: RequestFailure, context: ChannelHandlerContext) {
        let traceID = TraceID.make()
        logger.info("connection closed after a framing error", metadata: ["trace.id": "\(traceID)", "error.name": "\(failure.status.name)"])
        replies.writeErrorFrame(opcode: 0, requestID: 0, failure: failure, traceID: traceID, closing: true)
        flushReplies(context: context)
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Lifecycle

    func channelActive(context: ChannelHandlerContext) {
        tracker?.opened(context.channel)
        logger.debug("connection accepted")
        context.fireChannelActive()
        switch state.connected(overLimit: overLimit) {
        case .serve:
            scheduleIdleCheck(context: context, after: .seconds(limits.idleTimeoutSeconds))
        case .refuseBusy:
            let traceID = TraceID.make()
            logger.notice("connection refused: the server holds its maximum of connections", metadata: ["trace.id": "\(traceID)"])
            var failure = RequestFailure(status: .busy, message: "the server holds its maximum of connections; retry shortly")
            failure.retryAfterSeconds = 1
            replies.writeErrorFrame(opcode: 0, requestID: 0, failure: failure, traceID: traceID, closing: true)
            flushReplies(context: context)
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { context.close(promise: nil) }
        case .refuse:
            let traceID = TraceID.make()
            logger.info("connection refused: the peer is neither admin nor application", metadata: ["trace.id": "\(traceID)"])
            let failure = RequestFailure(status: .forbidden, message: "this peer may not use tesserad; see its --admin-uid and --app-uid")
            replies.writeErrorFrame(opcode: 0, requestID: 0, failure: failure, traceID: traceID, closing: true)
            flushReplies(context: context)
            // Half-close, not close: closing with the peer's request still unread would reset the
            // connection and could destroy the frame before the peer reads it. The peer's bytes
            // are discarded; the connection closes when the peer closes, or after a second.
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for timer in [idleTimer, frameTimer, unreadTimer] { timer?.cancel() }
        state.channelClosed()
        tracker?.closed(context.channel)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        let action: ConnectionStateMachine.DrainAction
        switch event {
        case is DrainEvent:
            action = state.drainRequested()
        case ChannelEvent.inputClosed where state.state == .broken:
            context.close(promise: nil)
            return
        case ChannelEvent.inputClosed:
            // Replies for the frames of this last read are due at read-complete; answer them now.
            answerPendingVerifies()
            flushReplies(context: context)
            action = state.inputClosed()
        default:
            context.fireUserInboundEventTriggered(event)
            return
        }
        if action == .close { context.close(promise: nil) }
    }
}

/// Sent to every connection on graceful shutdown: close once in-flight requests have answered.
struct DrainEvent: Sendable {}

/// The limits a connection is held to (``ServerConfiguration``).
struct ConnectionLimits: Sendable {
    var idleTimeoutSeconds: Int64 = 300
    var frameTimeoutSeconds: Int64 = 10
    var outputPauseBytes = 256 * 1024
    var unreadTimeoutSeconds: Int64 = 30

    init() {}

    init(_ configuration: ServerConfiguration) {
        idleTimeoutSeconds = configuration.idleTimeoutSeconds
        frameTimeoutSeconds = configuration.frameTimeoutSeconds
        outputPauseBytes = configuration.outputPauseBytes
        unreadTimeoutSeconds = configuration.unreadTimeoutSeconds
    }
}
