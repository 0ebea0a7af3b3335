import TesseraProtocol

/// The life of one connection, as a value: each event returns what the handler must do.
///
/// ```
///            frames, replies                 drain requested
///   ┌────────┐ ──────────────► ┌────────┐ ─────────────────► ┌──────────┐
///   │  open  │                 │  open  │                    │ draining │──► closed (when
///   └────────┘                 └────────┘                    └──────────┘    nothing in flight)
///        │ framing error                                          │ framing error
///        ▼                                                        ▼
///   ┌────────┐  error frame, close                           ┌────────┐
///   │ broken │ ───────────────────────────────────────────►  │ closed │
///   └────────┘                                               └────────┘
/// ```
///
/// No sockets: tested on its own (`ConnectionStateMachineTests`), its timeouts with a manual
/// clock. The peer's class, the connection limit, and the idle, frame, unread and refusal
/// timeouts are events and actions here: the machine keeps every time they are measured from
/// and does the arithmetic; the ``Connection`` tells it the time (monotonic nanoseconds) and
/// carries the actions out.
struct ConnectionStateMachine {
    enum State: Equatable {
        /// Reading and answering.
        case open
        /// Graceful shutdown: still answering what arrives, closing once nothing is in flight.
        case draining
        /// A framing error: the stream cannot be resynchronised; further bytes are ignored.
        case broken
        /// The channel is gone: late replies are dropped.
        case closed
    }

    private(set) var state = State.open
    /// Requests running off the socket thread (argon2id, durable writes).
    private(set) var slowInFlight = 0
    /// The most slow requests one connection may have running at once.
    let maximumSlowInFlight: Int
    /// What the peer may do, from its credentials at accept.
    let peer: PeerClass
    /// The timeouts it is held to.
    let limits: ConnectionLimits

    // The times the timeouts are measured from, in monotonic nanoseconds.
    /// The last read that brought a frame (or the accept): the idle timeout.
    private var lastFrameAt: UInt64
    /// Since when an unfinished frame has waited for its next byte: the frame timeout.
    private var partialFrameSince: UInt64?
    /// Since when reading has been paused for unread replies: the unread timeout.
    private var pausedSince: UInt64?
    /// A refused connection is closed by then, whatever its peer does.
    private var closeAt: UInt64?

    init(peer: PeerClass = .admin, maximumSlowInFlight: Int, limits: ConnectionLimits = ConnectionLimits(), now: UInt64 = 0) {
        self.peer = peer
        self.maximumSlowInFlight = maximumSlowInFlight
        self.limits = limits
        lastFrameAt = now
    }

    /// A refused connection waits this long for its peer to read the closing frame and hang up.
    static let refusalLingerNanoseconds: UInt64 = 1_000_000_000

    /// What to do when the connection becomes active.
    enum ConnectAction: Equatable {
        /// Read and answer.
        case serve
        /// Write one `forbidden` frame (request id 0, `CLOSING`) and close, reading nothing.
        case refuse
        /// Write one `busy` frame (request id 0, `CLOSING`) and close, reading nothing: the
        /// server holds its maximum of connections.
        case refuseBusy
    }

    /// The connection became active at `now`; `overLimit` when the server already holds its
    /// maximum of connections. A refused connection closes a second later at the latest
    /// (``TickAction/closeRefused``).
    mutating func connected(overLimit: Bool = false, now: UInt64 = 0) -> ConnectAction {
        if overLimit {
            state = .broken
            closeAt = now + Self.refusalLingerNanoseconds
            return .refuseBusy
        }
        guard peer == .refused else { return .serve }
        state = .broken
        closeAt = now + Self.refusalLingerNanoseconds
        return .refuse
    }

    // MARK: Time

    /// A read at `now` was split into frames: `handledFrames` when it completed at least one,
    /// `incompleteFrame` when an unfinished one is left waiting for more bytes.
    mutating func framesRead(handledFrames: Bool, incompleteFrame: Bool, now: UInt64) {
        // The idle clock restarts once per read that brought frames (not per frame).
        if handledFrames { lastFrameAt = now }
        // While reading is paused, what is left is the server's delay (whole frames it has not
        // handled yet among it), not the client's: the frame clock starts when reading resumes.
        if incompleteFrame, pausedSince == nil {
            if partialFrameSince == nil { partialFrameSince = now }
        } else {
            partialFrameSince = nil
        }
    }

    /// Reading stopped at `now`: the client leaves its replies unread.
    mutating func readingPaused(now: UInt64) {
        guard pausedSince == nil else { return }
        pausedSince = now
        // While the server does not read, an unfinished frame is not the client's delay.
        partialFrameSince = nil
    }

    /// The client reads its replies again, and the server its requests: an unfinished frame is
    /// measured from the next read on.
    mutating func readingResumed() {
        pausedSince = nil
        partialFrameSince = nil
    }

    /// Whether reading is paused for unread replies.
    var isPaused: Bool { pausedSince != nil }

    /// What a timer tick asks of the connection.
    enum TickAction: Equatable {
        /// Nothing yet.
        case none
        /// Close: a refused connection's second is over.
        case closeRefused
        /// Close: the client left its replies unread for the unread timeout.
        case closeUnread
        /// Write a closing `malformed-frame` and close: a frame stayed unfinished for the frame timeout.
        case failFrameTimeout
        /// Close: nothing arrived for the idle timeout and nothing is in flight.
        case closeIdle
    }

    /// The timers at `now` (the socket loop ticks ten times a second). `incompleteFrame`: the
    /// connection still holds part of a frame.
    mutating func tick(now: UInt64, incompleteFrame: Bool) -> TickAction {
        if let closeAt, now >= closeAt {
            state = .closed
            return .closeRefused
        }
        if let since = pausedSince, Self.elapsed(from: since, to: now) >= Self.nanoseconds(limits.unreadTimeoutSeconds),
            unreadTimedOut() == .close
        {
            return .closeUnread
        }
        if limits.frameTimeoutSeconds > 0, pausedSince == nil, let since = partialFrameSince,
            Self.elapsed(from: since, to: now) >= Self.nanoseconds(limits.frameTimeoutSeconds)
        {
            partialFrameSince = nil
            if incompleteFrame, frameTimedOut() == .failAndClose { return .failFrameTimeout }
        }
        if limits.idleTimeoutSeconds > 0, Self.elapsed(from: lastFrameAt, to: now) >= Self.nanoseconds(limits.idleTimeoutSeconds) {
            if idleTimedOut() == .close { return .closeIdle }
            lastFrameAt = now  // busy with a slow request: look again a whole timeout later
        }
        return .none
    }

    /// Seconds as nanoseconds. The options are bounded before use (`tesserad`'s validation);
    /// a larger value saturates rather than traps.
    private static func nanoseconds(_ seconds: Int64) -> UInt64 {
        let (product, overflow) = UInt64(max(0, seconds)).multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? UInt64.max / 2 : product
    }

    /// Nanoseconds from `start` to `end`; 0 when `start` was read later (another clock reading
    /// of the same loop turn).
    private static func elapsed(from start: UInt64, to end: UInt64) -> UInt64 { end > start ? end - start : 0 }

    /// What to do when a timer of the connection fires.
    enum TimeoutAction: Equatable {
        /// Write a closing error frame and close.
        case failAndClose
        /// Close (nothing is owed to the client).
        case close
        /// Nothing.
        case none
    }

    /// No frame arrived for the idle timeout: close when nothing is in flight.
    mutating func idleTimedOut() -> TimeoutAction {
        guard state == .open, slowInFlight == 0 else { return .none }
        state = .closed
        return .close
    }

    /// A frame stayed incomplete for the frame timeout.
    mutating func frameTimedOut() -> TimeoutAction {
        guard readsFrames else { return .none }
        state = .broken
        return .failAndClose
    }

    /// The client left its replies unread for the unread timeout.
    mutating func unreadTimedOut() -> TimeoutAction {
        guard state != .closed else { return .none }
        state = .closed
        return .close
    }

    /// Whether bytes that arrive are worth splitting into frames.
    var readsFrames: Bool { state == .open || state == .draining }

    // MARK: Frames

    /// What to do with one frame.
    enum FrameAction: Equatable {
        /// Answer now, on the socket thread.
        case answerInline
        /// Keep until the end of the read burst and answer with the other verifies together.
        case queueVerify
        /// Run off the socket thread; call ``slowRequestFinished()`` when it completes.
        case startSlow
        /// Answer `busy`: too many slow requests in flight on this connection.
        case rejectBusy
        /// Answer `unknown-opcode`.
        case rejectUnknownOpcode
        /// Answer `forbidden`: the peer's class may not use this operation.
        case rejectForbidden
        /// Nothing: the connection is broken or closed.
        case ignore
    }

    /// A frame arrived for `opcode` (`nil`: not an operation of this protocol version).
    mutating func frameReceived(_ opcode: Opcode?) -> FrameAction {
        guard readsFrames else { return .ignore }
        guard let opcode else { return .rejectUnknownOpcode }
        guard peer.permits(opcode) else { return .rejectForbidden }
        switch opcode.answering {
        case .inline: return .answerInline
        case .verifyBatch: return .queueVerify
        case .slow:
            guard slowInFlight < maximumSlowInFlight else { return .rejectBusy }
            slowInFlight += 1
            return .startSlow
        }
    }

    /// What to do when a slow request completed.
    enum SlowCompletionAction: Equatable {
        /// Write its reply (or error) and flush.
        case writeAndFlush
        /// Write its reply, flush, and close: it was the last one of a draining connection.
        case writeFlushAndClose
        /// Nothing: the channel is gone.
        case drop
        /// Close without writing it: the client left so many replies unread that this one
        /// would take them past the output limit.
        case closeOverOutputLimit
    }

    /// A slow request completed with a reply of `replyBytes`, while `unreadBytes` of earlier
    /// replies wait for the client. Every reply byte counts: reading stops at the pause budget,
    /// but the replies of requests already in flight still arrive, so a client that never
    /// reads is closed at once when one would take its unread bytes past
    /// ``ConnectionLimits/outputLimitBytes`` (as Redis's hard `client-output-buffer-limit`). A
    /// reply is always written when nothing else waits, however large.
    mutating func slowRequestFinished(unreadBytes: Int = 0, replyBytes: Int = 0) -> SlowCompletionAction {
        precondition(slowInFlight > 0, "a slow request finished that never started")
        slowInFlight -= 1
        if state != .closed, unreadBytes > 0, unreadBytes + replyBytes > limits.outputLimitBytes {
            state = .closed
            return .closeOverOutputLimit
        }
        switch state {
        case .open, .broken: return .writeAndFlush
        case .draining: return slowInFlight == 0 ? .writeFlushAndClose : .writeAndFlush
        case .closed: return .drop
        }
    }

    // MARK: Connection events

    /// What to do after a framing error.
    enum FramingFailureAction: Equatable {
        /// Answer the verifies already queued, write a closing error frame, flush, close.
        case answerQueuedThenFailAndClose
        /// Nothing: already broken or closed.
        case ignore
    }

    mutating func framingFailed() -> FramingFailureAction {
        guard readsFrames else { return .ignore }
        state = .broken
        return .answerQueuedThenFailAndClose
    }

    /// What to do when a graceful shutdown asks the connection to finish.
    enum DrainAction: Equatable {
        /// Close now: nothing is in flight.
        case close
        /// Close when the last slow request finishes.
        case waitForSlowRequests
        /// Nothing: already draining, broken or closed.
        case none
    }

    mutating func drainRequested() -> DrainAction {
        guard state == .open else { return .none }
        state = .draining
        return slowInFlight == 0 ? .close : .waitForSlowRequests
    }

    /// The peer shut down its write side (half-close): it sends nothing more but still reads.
    /// Like a drain: the replies still due are sent, then the connection closes.
    mutating func inputClosed() -> DrainAction {
        drainRequested()
    }

    /// The channel became inactive.
    mutating func socketClosed() {
        state = .closed
    }
}
