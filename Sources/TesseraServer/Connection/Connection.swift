import CEventPoll
import Logging
import NIOCore
import TesseraProtocol

#if canImport(Glibc)
import Glibc
#endif

/// One client connection on the ``SocketLoop``: its bytes in, its replies out, its timers.
///
/// Frames that arrive in one read are handled together: cheap requests answer at once,
/// verifies are answered together at the end of the read, and every reply of the read leaves in
/// one `write(2)`. Slow requests (argon2id, durable writes) run off the loop and reply whenever
/// they finish, so a verify never waits behind a login.
///
/// Which frames are answered how, and when the connection closes, is the state machine's
/// decision; this class only carries it out. Everything here runs on the loop's thread.
final class Connection<Dispatcher: RequestDispatching> {
    let fd: Int32
    let id: UInt64
    private unowned let loop: SocketLoop<Dispatcher>
    private let dispatcher: Dispatcher
    private var logger: Logger
    private let tracker: ConnectionTracker?
    private(set) var state: ConnectionStateMachine
    private var frames: FrameAccumulator
    private var pendingVerifies: [Frame] = []
    /// Replies not yet taken by the socket, in order.
    private var replies = ByteBuffer()
    private let limits: ConnectionLimits
    private let overLimit: Bool
    /// Holds one of the tracker's connection slots (given back at close).
    private var holdsSlot: Bool
    /// The peer's uid, whose slot count ``close()`` gives back.
    private let peerUID: UInt32?
    /// The peer sent its last byte: nothing more is read.
    private var inputClosed = false
    /// The read being handled held a slow request, whose bytes are wiped from the read buffer
    /// once it is handled.
    private var readHeldSlowRequest = false
    /// Reading stopped: the client leaves its replies unread (the state machine's timer).
    private var paused: Bool { state.isPaused }
    /// The socket's write side wants EPOLLOUT (replies wait for room).
    private var waitingForRoom = false
    /// In the loop's epoll set (``SocketLoop/updateInterest(_:reading:writing:)`` keeps it).
    var polled = true
    /// `write(2)` calls made so far (tests check that a read's replies leave in one).
    private(set) var writeCalls = 0
    /// The socket is closed. (The state machine may say `closed` a step earlier: its timeouts
    /// decide the close, this class carries it out.)
    private(set) var isClosed = false

    init(
        fd: Int32, id: UInt64, loop: SocketLoop<Dispatcher>, dispatcher: Dispatcher, peer: PeerCredentials?, peerClass: PeerClass,
        logger: Logger, tracker: ConnectionTracker?, limits: ConnectionLimits, overLimit: Bool, now: UInt64
    ) {
        self.fd = fd
        self.id = id
        self.loop = loop
        self.dispatcher = dispatcher
        self.logger = logger
        self.logger[metadataKey: "connection.id"] = "\(id)"
        self.logger[metadataKey: "peer.uid"] = "\(peer.map { String($0.uid) } ?? "unknown")"
        self.logger[metadataKey: "peer.pid"] = "\(peer.map { String($0.pid) } ?? "unknown")"
        self.logger[metadataKey: "peer.class"] = "\(peerClass.rawValue)"
        self.tracker = tracker
        self.limits = limits
        self.overLimit = overLimit
        holdsSlot = !overLimit && tracker != nil
        peerUID = peer?.uid
        state = ConnectionStateMachine(peer: peerClass, maximumSlowInFlight: Int(dispatcher.maximumInFlight), limits: limits, now: now)
        frames = FrameAccumulator(maximumLength: dispatcher.maximumFrameLength)
    }

    /// Bytes asked of one `read(2)`.
    static var readSize: Int { 16 * 1024 }

    // MARK: Lifecycle

    /// The connection was accepted: serve it, or refuse it with a closing error frame.
    func start(now: UInt64) {
        logger.debug("connection accepted")
        switch state.connected(overLimit: overLimit, now: now) {
        case .serve:
            break
        case .refuseBusy:
            let traceID = TraceID.make()
            logger.notice("connection refused: no connection slot left for this peer", metadata: ["trace.id": "\(traceID)"])
            var failure = RequestFailure(
                status: .busy, message: "the server holds its maximum of connections (or of this peer's uid); retry shortly")
            failure.retryAfterSeconds = 1
            refuse(failure, traceID: traceID)
        case .refuse:
            let traceID = TraceID.make()
            logger.info("connection refused: the peer is neither admin nor application", metadata: ["trace.id": "\(traceID)"])
            let failure = RequestFailure(status: .forbidden, message: "this peer may not use tesserad; see its --admin-uid and --app-uid")
            refuse(failure, traceID: traceID)
        }
    }

    /// Writes the closing frame and shuts the write side. Half-close, not close: closing with
    /// the peer's request still unread would reset the connection and could destroy the frame
    /// before the peer reads it. The peer's bytes are discarded; the connection closes when the
    /// peer closes, or after a second (the state machine's ``ConnectionStateMachine/TickAction/closeRefused``).
    private func refuse(_ failure: RequestFailure, traceID: String) {
        replies.writeErrorFrame(opcode: 0, requestID: 0, failure: failure, traceID: traceID, closing: true)
        flush()
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes the socket and leaves the loop.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        state.socketClosed()
        loop.remove(self)
        if holdsSlot { tracker?.release(uid: peerUID, admin: state.peer == .admin) }
        holdsSlot = false
        Glibc.close(fd)
    }

    // MARK: Reading

    /// The socket is readable (or hung up).
    func readable(now: UInt64) {
        guard !isClosed, !paused, !inputClosed else { return }
        // The loop's read buffer, lent for this read: whatever still refers to it when the read
        // is done (an incomplete frame, a slow request's body) is copied out first, so the next
        // connection finds it free again.
        var input = ByteBuffer()
        swap(&input, &loop.readBuffer)
        defer { swap(&input, &loop.readBuffer) }
        input.clear()
        var result = 0
        input.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.readSize) { raw in
            result = read(fd, raw.baseAddress, raw.count)
            return max(0, result)
        }
        if result < 0 {
            if errno == EAGAIN || errno == EINTR { return }
            logger.debug("connection error", metadata: ["errno": "\(errno)"])
            close()
            return
        }
        if result == 0 {
            endOfInput()
            return
        }
        guard state.readsFrames else { return }  // a broken or refused connection: bytes are discarded
        // Split on a local: a class property touched per frame pays a dynamic exclusivity check.
        var accumulator = FrameAccumulator(maximumLength: frames.maximumLength)
        swap(&accumulator, &frames)
        accumulator.append(&input)
        processFrames(&accumulator, now: now)
        accumulator.keepOwnCopy()
        swap(&accumulator, &frames)
        answerPendingVerifies()
        flush()
        if readHeldSlowRequest {
            // A slow request may carry a password: its bytes leave nothing in the read buffer
            // (verifies, which carry tokens only, are not worth the pass over every read).
            input.wipe()
            readHeldSlowRequest = false
        }
    }

    /// The peer sent its last byte (a half-close or a close). It still gets every reply it is owed.
    private func endOfInput() {
        inputClosed = true
        loop.updateInterest(self, reading: false, writing: waitingForRoom)
        if state.state == .broken {
            close()
            return
        }
        answerPendingVerifies()
        flush()
        if state.inputClosed() == .close { close() }
    }

    /// Handles the whole frames in `accumulator` until it holds none, or until the client's
    /// unread replies make the server stop reading.
    private func processFrames(_ accumulator: inout FrameAccumulator, now: UInt64) {
        var handled = false
        do {
            while !paused, let frame = try accumulator.next() {
                handled = true
                handle(frame)
                if replies.readableBytes >= limits.outputPauseBytes { pauseIfUnread(now: now) }
            }
        } catch {
            failFraming(error)
            return
        }
        state.framesRead(handledFrames: handled, incompleteFrame: accumulator.bufferedBytes > 0, now: now)
    }

    private func handle(_ frame: Frame) {
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
            readHeldSlowRequest = true
            guard dispatcher.admitsSlow(frame) else {
                // Refused before it started: it leaves the in-flight count at once.
                _ = state.slowRequestFinished()
                writeError(RequestFailure(status: .busy, message: "the server is saturated; retry shortly", retryAfterSeconds: 1), for: frame)
                return
            }
            startSlow(frame)
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

    // MARK: Writing

    /// Writes what the socket takes now; what it does not take waits for room (EPOLLOUT).
    private func flush() {
        guard replies.readableBytes > 0, !isClosed else { return }
        while replies.readableBytes > 0 {
            writeCalls += 1
            let written = replies.withUnsafeReadableBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                replies.moveReaderIndex(forwardBy: written)
                continue
            }
            if written < 0 && errno == EINTR { continue }
            if written < 0 && errno == EAGAIN { break }
            logger.debug("connection error", metadata: ["errno": "\(errno)"])
            close()
            return
        }
        if replies.readableBytes == 0 {
            // An idle connection keeps a small reply buffer, not the largest it ever needed.
            if replies.capacity > Self.readSize { replies = ByteBuffer() } else { replies.clear() }
            if waitingForRoom {
                waitingForRoom = false
                loop.updateInterest(self, reading: !paused && !inputClosed, writing: false)
            }
        } else if !waitingForRoom {
            waitingForRoom = true
            loop.updateInterest(self, reading: !paused && !inputClosed, writing: true)
        }
    }

    /// The socket has room again.
    func writable(now: UInt64) {
        guard !isClosed else { return }
        flush()
        guard !isClosed, paused, replies.readableBytes < limits.outputPauseBytes else { return }
        // The client reads again: so does the server, starting with the frames already here.
        state.readingResumed()
        var accumulator = FrameAccumulator(maximumLength: frames.maximumLength)
        swap(&accumulator, &frames)
        processFrames(&accumulator, now: now)
        swap(&accumulator, &frames)
        // These frames came from the accumulator's own copy, which wipes itself once consumed.
        readHeldSlowRequest = false
        answerPendingVerifies()
        flush()
        if !paused && !isClosed { loop.updateInterest(self, reading: !inputClosed, writing: waitingForRoom) }
    }

    /// Flushes what is due; when the client still does not take it, stops reading its requests
    /// until it does, and closes the connection if it never does.
    private func pauseIfUnread(now: UInt64) {
        answerPendingVerifies()
        flush()
        guard !isClosed, replies.readableBytes >= limits.outputPauseBytes, !paused else { return }
        state.readingPaused(now: now)
        loop.updateInterest(self, reading: false, writing: true)
        waitingForRoom = true
    }

    // MARK: Timers

    /// Called by the loop about ten times a second: the state machine decides what is due.
    func tick(now: UInt64) {
        guard !isClosed else { return }
        switch state.tick(now: now, incompleteFrame: frames.bufferedBytes > 0) {
        case .none:
            break
        case .closeRefused:
            close()
        case .closeUnread:
            logger.info("connection closed: the client left its replies unread", metadata: ["timeout.seconds": "\(limits.unreadTimeoutSeconds)"])
            close()
        case .failFrameTimeout:
            let failure = RequestFailure(status: .malformedFrame, message: "a frame was not completed within \(limits.frameTimeoutSeconds) s")
            closeWithError(failure)
        case .closeIdle:
            logger.debug("connection closed: idle", metadata: ["timeout.seconds": "\(limits.idleTimeoutSeconds)"])
            close()
        }
    }

    // MARK: Slow requests

    private func startSlow(_ received: Frame) {
        // The body is a slice of the loop's read buffer: the task takes a copy of its few bytes.
        var copy = received
        copy.body = ByteBuffer(bytes: received.body.readableBytesView)
        let request = SlowRequest(copy)
        let (dispatcher, peer, loop, id) = (self.dispatcher, state.peer, self.loop, self.id)
        Task {
            let result: Result<ByteBuffer, any Error>
            do {
                result = .success(try await dispatcher.answerSlow(request.frame, peer: peer))
            } catch {
                result = .failure(error)
            }
            // The request is decoded and answered: its bytes (a password, maybe) are wiped
            // before the copy is freed; only the header is needed from here.
            let answered = request.wipedFrame()
            loop.execute(on: id) { connection in connection.slowFinished(answered, result, now: SocketLoop<Dispatcher>.now()) }
        }
    }

    /// A slow request's reply, on the loop's thread (dropped by the loop if the connection closed).
    func slowFinished(_ frame: Frame, _ result: Result<ByteBuffer, any Error>, now: UInt64) {
        // What the client has not taken yet, after offering it what waits.
        if !isClosed { flush() }
        let replyBytes = (try? result.get().readableBytes) ?? 0
        let action = state.slowRequestFinished(unreadBytes: isClosed ? 0 : replies.readableBytes, replyBytes: replyBytes)
        switch action {
        case .drop:
            return
        case .closeOverOutputLimit:
            logger.notice(
                "connection closed: its unread replies passed the output limit",
                metadata: ["unread.bytes": "\(replies.readableBytes)", "limit.bytes": "\(limits.outputLimitBytes)"])
            close()
            return
        case .writeAndFlush, .writeFlushAndClose:
            break
        }
        switch result {
        case .success(var body):
            replies.writeReply(frame) { $0.writeBuffer(&body) }
        case .failure(let error):
            writeError(error, for: frame)
        }
        flush()
        if action == .writeFlushAndClose {
            close()
        } else if !isClosed, replies.readableBytes >= limits.outputPauseBytes {
            // The unread timeout runs from here, as for replies written while reading.
            pauseIfUnread(now: now)
        }
    }

    /// A graceful shutdown: close now, or once the slow requests in flight have answered.
    func drain() {
        if state.drainRequested() == .close { close() }
    }

    // MARK: Errors

    private func writeError(_ error: any Error, for frame: Frame) {
        var failure = RequestFailure(error)
        if state.peer == .application, let message = failure.applicationMessage { failure.message = message }
        let traceID = TraceID.make()
        var metadata: Logger.Metadata = ["trace.id": "\(traceID)", "request.opcode": "\(frame.opcode)", "error.name": "\(failure.status.name)"]
        if failure.status == .internal { metadata["error.detail"] = "\(error)" }
        logger.log(level: failure.status.logLevel, "request failed", metadata: metadata)
        replies.writeErrorFrame(opcode: frame.opcode, requestID: frame.requestID, failure: failure, traceID: traceID)
    }

    /// A framing error: the stream cannot be resynchronised. Answer the verifies already
    /// queued, then a closing error frame, and close.
    private func failFraming(_ error: any Error) {
        guard state.framingFailed() == .answerQueuedThenFailAndClose else { return }
        answerPendingVerifies()
        closeWithError(RequestFailure(error))
    }

    /// Writes a closing error frame (request id 0) and closes.
    private func closeWithError(_ failure: RequestFailure) {
        let traceID = TraceID.make()
        logger.info("connection closed after a framing error", metadata: ["trace.id": "\(traceID)", "error.name": "\(failure.status.name)"])
        replies.writeErrorFrame(opcode: 0, requestID: 0, failure: failure, traceID: traceID, closing: true)
        flush()
        close()
    }
}

/// A slow request's own copy of its frame, held by one reference (the task's) so that wiping
/// its body writes over the bytes it received instead of a copy of them: a frame captured by
/// value in the task's closure would keep a second reference to the storage until the task ends.
private final class SlowRequest: @unchecked Sendable {
    // Touched only by the task that answers the request, one step after another.
    private(set) var frame: Frame

    init(_ frame: Frame) { self.frame = frame }

    /// Wipes the body and answers the frame's header, with an empty body.
    func wipedFrame() -> Frame {
        frame.body.wipe()
        var header = frame
        header.body = ByteBuffer()
        return header
    }
}
