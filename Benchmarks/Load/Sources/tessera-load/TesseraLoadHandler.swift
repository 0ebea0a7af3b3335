import Foundation
import NIOCore
import TesseraProtocol

/// Shared, read-only inputs of the Tessera workload.
final class TesseraWorkload: Sendable {
    let verifyTokens: [String]
    let logoutTokens: [String]
    let expectedUserID: UInt64
    let username: String
    let password: [UInt8]
    /// Cumulative weights over `operations`.
    let operations: [(LoadOperation, Int)]
    let totalWeight: Int

    init(verifyTokens: [String], logoutTokens: [String], expectedUserID: UInt64, username: String, password: [UInt8], mix: [(LoadOperation, Int)]) {
        self.verifyTokens = verifyTokens
        self.logoutTokens = logoutTokens
        self.expectedUserID = expectedUserID
        self.username = username
        self.password = password
        var cumulative: [(LoadOperation, Int)] = []
        var total = 0
        for (op, weight) in mix where weight > 0 {
            total += weight
            cumulative.append((op, total))
        }
        operations = cumulative
        totalWeight = total
    }
}

/// One connection keeping `depth` requests in flight. Request id = slot number, so each reply
/// names the slot to refill; every reply is checked before it counts.
final class TesseraLoadHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private let workload: TesseraWorkload
    private let depth: Int
    private let logoutCursor: Cursor
    private var sentAt: [UInt64]
    private var slotOperation: [LoadOperation]
    /// Per slot, the refresh token to present next (a `refresh` slot logs in once to get one).
    private var slotRefreshToken: [String?]
    private var rng: UInt64
    private var out = ByteBuffer()
    private(set) var stats: [LoadOperation: OperationStats] = [:]
    private var running = true
    /// When the last reply arrived: the end of the measured interval.
    private(set) var lastReplyAt: UInt64 = 0
    private var inFlight = 0
    let done: EventLoopPromise<Void>

    init(workload: TesseraWorkload, depth: Int, seed: UInt64, logoutCursor: Cursor, done: EventLoopPromise<Void>) {
        self.workload = workload
        self.depth = depth
        self.logoutCursor = logoutCursor
        self.done = done
        sentAt = Array(repeating: 0, count: depth)
        slotOperation = Array(repeating: .verify, count: depth)
        slotRefreshToken = Array(repeating: nil, count: depth)
        rng = seed | 1
    }

    func channelActive(context: ChannelHandlerContext) {
        out = context.channel.allocator.buffer(capacity: 16 * 1024)
        for slot in 0..<depth { send(slot: slot) }
        flush(context: context)
    }

    /// Every refresh slot holds its refresh token (its chain's login is done): the measured
    /// interval of a refresh run starts once every connection is warm.
    var isWarm: Bool {
        !workload.operations.contains(where: { $0.0 == .refresh }) || !slotRefreshToken.contains(nil)
    }

    /// Forgets what was measured so far (the warm-up's logins); the interval starts now.
    func resetStatistics() {
        stats = [:]
    }

    func stop(context: ChannelHandlerContext) {
        running = false
        if inFlight == 0 { done.succeed() }
    }

    private func nextRandom() -> UInt64 {
        rng ^= rng << 13
        rng ^= rng >> 7
        rng ^= rng << 17
        return rng
    }

    private func send(slot: Int) {
        guard running else { return }
        var operation = workload.operations[0].0
        if workload.operations.count > 1 {
            let pick = Int(nextRandom() % UInt64(workload.totalWeight))
            operation = workload.operations.first { pick < $0.1 }!.0
        }
        slotOperation[slot] = operation
        // Tokens, names and passwords here are short: writing their fields cannot fail (`try!`).
        switch operation {
        case .verify:
            let token = workload.verifyTokens[Int(nextRandom() % UInt64(workload.verifyTokens.count))]
            try! out.writeFrame(opcode: Opcode.verify.rawValue, requestID: UInt32(slot)) { try $0.writeField(1, string: token) }
        case .login:
            try! out.writeFrame(opcode: Opcode.login.rawValue, requestID: UInt32(slot)) {
                try $0.writeField(1, string: workload.username)
                try $0.writeField(2, bytes: workload.password)
            }
        case .refresh:
            guard let refreshToken = slotRefreshToken[slot] else {
                // First a login, to start this slot's refresh chain.
                slotOperation[slot] = .login
                try! out.writeFrame(opcode: Opcode.login.rawValue, requestID: UInt32(slot)) {
                    try $0.writeField(1, string: workload.username)
                    try $0.writeField(2, bytes: workload.password)
                }
                break
            }
            try! out.writeFrame(opcode: Opcode.refresh.rawValue, requestID: UInt32(slot)) { try $0.writeField(1, string: refreshToken) }
        case .logout:
            guard let index = logoutCursor.next(limit: workload.logoutTokens.count) else {
                running = false
                return
            }
            try! out.writeFrame(opcode: Opcode.logout.rawValue, requestID: UInt32(slot)) {
                try $0.writeField(1, string: workload.logoutTokens[index])
            }
        case .redisGet:
            preconditionFailure("not a Tessera operation")
        }
        sentAt[slot] = Clock.nanoseconds()
        inFlight += 1
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let now = Clock.nanoseconds()
        let slot = Int(frame.requestID)
        guard slot < depth else {
            stats[.verify, default: .init()].fail("reply with unknown request id \(frame.requestID)")
            return
        }
        inFlight -= 1
        let operation = slotOperation[slot]
        pendingRefreshToken = nil
        if let problem = check(frame, operation) {
            stats[operation, default: .init()].fail(problem)
        } else {
            stats[operation, default: .init()].record(nanoseconds: now - sentAt[slot])
        }
        lastReplyAt = now
        if let next = pendingRefreshToken { slotRefreshToken[slot] = next }
        send(slot: slot)
        if !running && inFlight == 0 { done.succeed() }
    }

    private var pendingRefreshToken: String?

    private func check(_ frame: Frame, _ operation: LoadOperation) -> String? {
        guard frame.status == 0 else {
            let body = try? ErrorBody(decoding: frame.body)
            return "\(operation.rawValue): status \(frame.status) \(body?.name ?? "")"
        }
        switch operation {
        case .verify:
            var reader = FieldReader(frame.body)
            while let field = try? reader.next() {
                if field.tag == 1 {
                    return field.value.getInteger(at: field.value.readerIndex, as: UInt64.self) == workload.expectedUserID
                        ? nil : "verify: wrong user id"
                }
            }
            return "verify: no user id"
        case .login, .refresh:
            guard let reply = try? LoginResponse(decoding: frame.body), reply.token.utf8.count == 68 else {
                return "\(operation.rawValue): undecodable reply"
            }
            if workload.operations.contains(where: { $0.0 == .refresh }) { pendingRefreshToken = reply.refreshToken }
            return nil
        case .logout, .redisGet:
            return nil
        }
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
        if inFlight > 0 { stats[.verify, default: .init()].fail("connection closed with \(inFlight) in flight") }
        done.succeed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        stats[.verify, default: .init()].fail("\(error)")
        context.close(promise: nil)
    }
}

/// Hands out indexes 0..<limit once each, across connections on any thread.
final class Cursor: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private var value = 0
    private let lock = NSLockLike()
    func next(limit: Int) -> Int? {
        lock.withLock {
            guard value < limit else { return nil }
            defer { value += 1 }
            return value
        }
    }
}

typealias NSLockLike = NSLock
