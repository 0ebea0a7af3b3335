import Locking
import NIOCore
internal import TesseraProtocol

/// A connection's request ids: the next after the last, skipping 0 (what connection-level
/// errors carry) and every id still in use.
struct RequestIDs {
    var next: UInt32

    /// The next id that is not 0 and for which `inUse` is false. Ids in use are far fewer than
    /// 2^32, so the search ends.
    mutating func take(skipping inUse: (UInt32) -> Bool) -> UInt32 {
        while next == 0 || inUse(next) { next &+= 1 }
        defer { next &+= 1 }
        return next
    }
}

/// One connection to the daemon, on one event loop: its request ids, its waiting callers and
/// the frames not yet written, all under one lock.
///
/// A caller on any thread gives its request an id, writes the frame into the outbox and waits,
/// without a hop to the event loop: the loop is asked to write only when the outbox was empty,
/// and then writes everything queued since in one write (``flush()``), so concurrent callers
/// share their hops and their system calls. A caller already on the connection's loop pays no
/// thread switch at all. Replies may come in any order and reach their callers by request id
/// (``complete(_:)``), on the loop.
///
/// Ids in use are never given twice, so a reply can reach only the request sent with its id.
/// A request whose deadline passes fails with ``TesseraClientError/timedOut(after:)``; its id
/// stays taken until its reply arrives (and is dropped) or the connection closes. Deadlines
/// are watched by one timer per connection, set for the earliest one (``sweep()``), not a
/// timer per request.
final class ClientConnection: Sendable {
    let channel: any Channel

    /// A request awaiting its reply; `continuation` is `nil` once its deadline passed.
    private struct Waiting {
        var continuation: UnsafeContinuation<Frame, any Error>?
        var deadline: NIODeadline
        var timeout: TimeAmount
    }

    private struct State {
        var requestIDs: RequestIDs
        var waiting: [UInt32: Waiting] = [:]
        /// Frames written by callers, not yet handed to the channel.
        var outbox = ByteBuffer()
        /// Whether a ``flush()`` is on its way to the loop (the outbox was not empty).
        var flushRequested = false
        /// The timer that fails expired requests, and when it fires.
        var sweep: (at: NIODeadline, timer: Scheduled<Void>)?
        /// Why the connection ended, once it has: every later request fails with it.
        var ended: TesseraClientError?
    }

    private let state: Locked<State>

    init(channel: any Channel, firstRequestID: UInt32) {
        self.channel = channel
        state = Locked(State(requestIDs: RequestIDs(next: firstRequestID)))
    }

    /// Whether a request sent now would be written: the connection has not ended.
    var isUsable: Bool { channel.isActive && state.withLock { $0.ended == nil } }

    /// The error the connection ended with, if it has.
    var endedWith: TesseraClientError? { state.withLock { $0.ended } }

    /// Sends a request of `opcode` whose body `encode` writes, and waits at most `timeout` for
    /// its reply frame (successful or not).
    nonisolated(nonsending) func send(opcode: UInt8, timeout: TimeAmount, _ encode: (inout ByteBuffer) throws -> Void) async throws -> Frame {
        let deadline = NIODeadline.now() + timeout
        return try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Frame, any Error>) in
            let outcome = state.withLock { state -> Result<Bool, TesseraClientError> in
                if let ended = state.ended { return .failure(ended) }
                var ids = state.requestIDs
                let id = ids.take { state.waiting[$0] != nil }
                do {
                    try state.outbox.writeFrame(opcode: opcode, requestID: id, encode)
                } catch {
                    return .failure(.invalidRequest("\(error)"))
                }
                state.requestIDs = ids
                state.waiting[id] = Waiting(continuation: continuation, deadline: deadline, timeout: timeout)
                if state.sweep.map({ deadline < $0.at }) ?? true {
                    state.sweep?.timer.cancel()
                    state.sweep = (deadline, channel.eventLoop.scheduleTask(deadline: deadline) { self.sweep() })
                }
                defer { state.flushRequested = true }
                return .success(!state.flushRequested)
            }
            switch outcome {
            case .failure(let error): continuation.resume(throwing: error)
            case .success(true): channel.eventLoop.execute { self.flush() }
            case .success(false): break
            }
        }
    }

    /// On the loop: writes every frame queued since the last flush, in one write.
    private func flush() {
        let frames = state.withLock { state -> ByteBuffer in
            state.flushRequested = false
            defer { state.outbox = ByteBuffer() }
            return state.outbox
        }
        guard frames.readableBytes > 0 else { return }
        // A failed write closes the channel, and its closing fails the waiting requests.
        channel.writeAndFlush(frames, promise: nil)
    }

    /// On the loop: the reply `frame` reached its request, which returns it. `false` when no
    /// request waits for its id (a reply past its deadline, or a connection-level frame).
    func complete(_ frame: Frame) -> Bool {
        guard let waiting = state.withLock({ $0.waiting.removeValue(forKey: frame.requestID) }) else { return false }
        waiting.continuation?.resume(returning: frame)
        return true
    }

    /// Ends the connection with `error`: every waiting request fails with it, and so does every
    /// later one. The first error stays.
    func end(_ error: TesseraClientError) {
        let (waiting, ended) = state.withLock { state -> ([Waiting], TesseraClientError) in
            if state.ended == nil { state.ended = error }
            defer { state.waiting.removeAll() }
            state.sweep?.timer.cancel()
            state.sweep = nil
            return (Array(state.waiting.values), state.ended ?? error)
        }
        for request in waiting { request.continuation?.resume(throwing: ended) }
    }

    /// On the loop, when the earliest deadline is due: fails every request past its deadline,
    /// then sets the timer for the earliest deadline left.
    private func sweep() {
        let now = NIODeadline.now()
        let expired = state.withLock { state -> [Waiting] in
            state.sweep = nil
            var expired: [Waiting] = []
            var earliest: NIODeadline?
            for (id, request) in state.waiting where request.continuation != nil {
                if request.deadline <= now {
                    expired.append(request)
                    state.waiting[id]?.continuation = nil
                } else if earliest.map({ request.deadline < $0 }) ?? true {
                    earliest = request.deadline
                }
            }
            if let earliest, state.ended == nil {
                state.sweep = (earliest, channel.eventLoop.scheduleTask(deadline: earliest) { self.sweep() })
            }
            return expired
        }
        for request in expired {
            request.continuation?.resume(throwing: TesseraClientError.timedOut(after: .nanoseconds(request.timeout.nanoseconds)))
        }
    }
}
