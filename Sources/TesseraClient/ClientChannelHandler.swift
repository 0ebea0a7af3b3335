import Locking
import NIOCore
internal import TesseraProtocol

/// A request on its way out, with the promise its reply completes.
struct OutboundRequest: Sendable {
    var frame: Frame
    var promise: EventLoopPromise<Frame>
}

/// Matches replies to requests by request id, so many requests can be in flight at once
/// and replies may arrive in any order.
final class ClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = Frame
    typealias OutboundIn = OutboundRequest
    typealias OutboundOut = ByteBuffer

    private var pending: [UInt32: EventLoopPromise<Frame>] = [:]
    private let closingError: ClosingError

    init(closingError: ClosingError) {
        self.closingError = closingError
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        pending[request.frame.requestID] = request.promise
        var buffer = context.channel.allocator.buffer(capacity: Frame.headerLength + request.frame.body.readableBytes)
        buffer.writeFrame(request.frame)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        if let promise = pending.removeValue(forKey: frame.requestID) {
            promise.succeed(frame)
        } else if frame.flags.contains(.closing) {
            // A connection-level error (request id 0): every waiting request fails with it, and the
            // connection is done: close it now so the next request opens a fresh one.
            let error = (try? ClientReply.serverError(frame)) ?? .connectionClosed
            closingError.value = error
            failAll(error)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(.malformedReply("\(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: TesseraClientError) {
        let waiting = pending
        pending.removeAll()
        for promise in waiting.values { promise.fail(error) }
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
