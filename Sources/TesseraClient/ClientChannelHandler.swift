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

/// A request on its way out, with the promise its reply completes and how long it may wait.
/// The handler gives it its request id.
struct OutboundRequest: Sendable {
    var opcode: UInt8
    var body: ByteBuffer
    var promise: EventLoopPromise<Frame>
    var timeout: TimeAmount
}

/// Matches replies to requests by request id, so many requests can be in flight at once
/// and replies may arrive in any order.
///
/// The handler, on its event loop, is the one place ids are given: the next after the last,
/// skipping 0 and every id still awaiting its reply, so an id in use is never given twice (a
/// reply can reach only the request that was sent with its id). A request whose deadline
/// passes fails with ``TesseraClientError/timedOut(after:)``; its id stays taken until its
/// reply arrives (and is dropped) or the connection closes.
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = OutboundRequest
    typealias OutboundOut = ByteBuffer

    /// A request awaiting its reply; `promise` is `nil` once its deadline passed.
    private struct Waiting {
        var promise: EventLoopPromise<Frame>?
        var deadline: Scheduled<Void>?
    }

    private var pending: [UInt32: Waiting] = [:]
    private var requestIDs: RequestIDs
    private let closingError: ClosingError
    /// Why this handler closed the connection, for the requests its closing fails.
    private var closingReason: TesseraClientError?

    init(closingError: ClosingError, firstRequestID: UInt32 = 1) {
        self.closingError = closingError
        self.requestIDs = RequestIDs(next: firstRequestID)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        let id = requestIDs.take { self.pending[$0] != nil }
        // On this handler's event loop, where `expire` must run.
        let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: request.timeout) { [weak self] () -> Void in
            self?.expire(id, after: request.timeout)
        }
        pending[id] = Waiting(promise: request.promise, deadline: deadline)
        var buffer = context.channel.allocator.buffer(capacity: Frame.headerLength + request.body.readableBytes)
        buffer.writeFrame(Frame(opcode: request.opcode, requestID: id, body: request.body))
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    /// The deadline of `id` passed: its caller fails now; the id stays taken for its late reply.
    private func expire(_ id: UInt32, after timeout: TimeAmount) {
        guard let promise = pending[id]?.promise else { return }
        pending[id] = Waiting(promise: nil, deadline: nil)
        promise.fail(TesseraClientError.timedOut(after: .nanoseconds(timeout.nanoseconds)))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if let waiting = pending.removeValue(forKey: frame.requestID) {
            waiting.deadline?.cancel()
            waiting.promise?.succeed(frame)
        } else if frame.flags.contains(.closing) {
            // A connection-level error (request id 0): every waiting request fails with it, and the
            // connection is done: close it now so the next request opens a fresh one.
            // Closed before the waiting requests fail: a caller that goes on at once finds the
            // channel inactive and opens a fresh one, rather than writing to this one.
            let error = (try? ClientReply.serverError(frame)) ?? .connectionClosed
            closingError.value = error
            closingReason = error
            context.close(promise: nil)
            failAll(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(closingReason ?? .connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = TesseraClientError.malformedReply("\(error)")
        closingReason = reason
        context.close(promise: nil)
        failAll(reason)
    }

    private func failAll(_ error: TesseraClientError) {
        let waiting = pending
        pending.removeAll()
        for request in waiting.values {
            request.deadline?.cancel()
            request.promise?.fail(error)
        }
    }
}

/// The error a `CLOSING` frame ended a connection with, kept for requests that were still on
/// their way out when it arrived (a peer refused at connect gets it before sending anything).
final class ClosingError: Sendable {
    private let storage = Locked<TesseraClientError?>(nil)

    var value: TesseraClientError? {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}

/// Decoding of reply frames.
enum ClientReply {
    static func serverError(_ frame: Frame) throws -> TesseraClientError {
        let body = try ErrorBody(decoding: frame.body)
        return .server(
            TesseraError(
                code: TesseraError.Code(rawValue: frame.status), name: body.name, message: body.message, traceID: body.traceID,
                retryAfter: body.retryAfterSeconds.map { .seconds(Int64($0)) }, closedConnection: frame.flags.contains(.closing)))
    }
}
