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
/// No sockets, no NIO: tested on its own (`ConnectionStateMachineTests`). The peer's class,
/// the connection limit, the idle, frame and unread timeouts are events and actions here; the
/// handler owns the timers and carries the actions out.
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

    init(peer: PeerClass = .admin, maximumSlowInFlight: Int) {
        self.peer = peer
        self.maximumSlowInFlight = maximumSlowInFlight
    }

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

    /// The connection became active; `overLimit` when the server already holds its maximum of
    /// connections.
    mutating func connected(overLimit: Bool = false) -> ConnectAction {
        if overLimit {
            state = .broken
            return .refuseBusy
        }
        guard peer == .refused else { return .serve }
        state = .broken
        return .refuse
    }

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
    }

    mutating func slowRequestFinished() -> SlowCompletionAction {
        precondition(slowInFlight > 0, "a slow request finished that never started")
        slowInFlight -= 1
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
