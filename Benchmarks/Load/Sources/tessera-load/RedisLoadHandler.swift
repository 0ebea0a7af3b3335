import NIOCore

/// One connection sending `GET session:<token>` with `depth` in flight (RESP2). Redis answers
/// in order, so send times are a FIFO. Every reply is checked against the expected value (a
/// JSON session record, ``RedisSessionValue``).
final class RedisLoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let tokens: [String]
    private let depth: Int
    private var rng: UInt64
    private var sentAt: [UInt64]
    private var expected: [Int]
    private var head = 0
    private var tail = 0
    private var inFlight = 0
    private var buffer = ByteBuffer()
    private var out = ByteBuffer()
    private var running = true
    /// When the last reply arrived: the end of the measured interval.
    private(set) var lastReplyAt: UInt64 = 0
    private(set) var stats = OperationStats()
    let done: EventLoopPromise<Void>

    init(tokens: [String], depth: Int, seed: UInt64, done: EventLoopPromise<Void>) {
        self.tokens = tokens
        self.depth = depth
        rng = seed | 1
        sentAt = Array(repeating: 0, count: depth)
        expected = Array(repeating: 0, count: depth)
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        out = context.channel.allocator.buffer(capacity: 16 * 1024)
        buffer = context.channel.allocator.buffer(capacity: 16 * 1024)
        for _ in 0..<depth { send() }
        flush(context: context)
    }

    func stop(context: ChannelHandlerContext) {
        running = false
        if inFlight == 0 { done.succeed() }
    }

    private func send() {
        guard running else { return }
        rng ^= rng << 13
        rng ^= rng >> 7
        rng ^= rng << 17
        let index = Int(rng % UInt64(tokens.count))
        // Keys are "session:" + a 68-character token: 76 bytes.
        out.writeStaticString("*2\r\n$3\r\nGET\r\n$76\r\nsession:")
        out.writeString(tokens[index])
        out.writeStaticString("\r\n")
        sentAt[tail] = Clock.nanoseconds()
        expected[tail] = index
        tail = (tail + 1) % depth
        inFlight += 1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let reply = parseBulk() {
            let now = Clock.nanoseconds()
            let token = tokens[expected[head]]
            if let range = reply {
                let matches = buffer.withVeryUnsafeBytes { storage in RedisSessionValue.matches(storage[range], token: token) }
                if matches {
                    stats.record(nanoseconds: now - sentAt[head])
                    lastReplyAt = now
                } else {
                    stats.fail("redis: wrong value")
                }
            } else {
                stats.fail("redis: missing key")
            }
            head = (head + 1) % depth
            inFlight -= 1
            send()
        }
        buffer.discardReadBytes()
        if !running && inFlight == 0 { done.succeed() }
    }

    /// One bulk reply: `.some(range of the value)`, `.some(nil)` for `$-1` or an error, `nil` when incomplete.
    /// The reader index moves past the reply; the value's bytes stay in the buffer until `discardReadBytes`.
    private func parseBulk() -> Range<Int>?? {
        let view = buffer.readableBytesView
        guard let crlf = view.firstIndex(of: UInt8(ascii: "\r")), crlf + 1 < view.endIndex else { return nil }
        guard view[view.startIndex] == UInt8(ascii: "$") else {
            stats.fail("redis: unexpected reply")
            buffer.moveReaderIndex(to: crlf + 2)
            return .some(nil)
        }
        var length = 0
        var negative = false
        for byte in view[(view.startIndex + 1)..<crlf] {
            if byte == UInt8(ascii: "-") { negative = true } else { length = length * 10 + Int(byte - 48) }
        }
        if negative {
            buffer.moveReaderIndex(to: crlf + 2)
            return .some(nil)
        }
        let start = crlf + 2
        guard view.endIndex >= start + length + 2 else { return nil }
        buffer.moveReaderIndex(to: start + length + 2)
        return .some(start..<start + length)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context)
    }

    private func flush(context: ChannelHandlerContext) {
        guard out.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        out = context.channel.allocator.buffer(capacity: 16 * 1024)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed()
    }
}
