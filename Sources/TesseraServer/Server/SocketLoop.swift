import CEventPoll
import Foundation
import Locking
import Logging
import NIOCore
import TesseraProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The daemon's socket thread: one epoll set for the listening socket and every connection.
///
/// Per request it does what the system requires and nothing more: one `read(2)` per readable
/// connection, the answers, one `write(2)`. Work from other threads (a slow request's reply, a
/// drain) arrives through ``execute(on:_:)``: a queue under a lock and an eventfd that wakes
/// the loop. Timers (idle, frame, unread, refused) are checked about ten times a second.
final class SocketLoop<Dispatcher: RequestDispatching>: @unchecked Sendable {
    // @unchecked: everything but `mailbox` and `stopRequested` is touched on the loop's thread only.
    private let dispatcher: Dispatcher
    private let logger: Logger
    private let tracker: ConnectionTracker
    private let policy: PeerPolicy
    private let limits: ConnectionLimits
    private let quota: ConnectionQuota
    private let epoll: Int32
    private let doorbell: Int32
    private var listener: Int32 = -1
    /// Connections by id (the epoll token); ids start above the two reserved tokens.
    private var connections: [UInt64: Connection<Dispatcher>] = [:]
    /// What each `read(2)` of this loop's connections reads into, one at a time: a connection
    /// keeps only the bytes of a frame still incomplete, so an idle connection costs no read
    /// buffer of its own.
    var readBuffer = ByteBuffer()
    private let mailbox = Locked<[(UInt64?, @Sendable (Connection<Dispatcher>) -> Void, (@Sendable () -> Void)?)]>([])
    private let stopRequested = Locked(false)
    /// The loops accepted connections are spread over, this one included (set before
    /// ``start(listener:)``; only the loop that owns the listener uses it).
    var peers: [SocketLoop<Dispatcher>] = []
    private var nextPeer = 0
    /// Accepting paused until then after an accept failure (out of descriptors): no busy loop.
    private var acceptResumesAt: UInt64?
    private var nextTick: UInt64 = 0
    /// Times `epoll_wait` returned (a test checks that a hung-up peer does not spin the loop).
    private(set) var turns = 0
    /// Timer ticks so far, and what waits for a later one (``afterTicks(_:_:)``).
    private var ticks = 0
    private var tickWaiters: [(tick: Int, body: @Sendable (Int) -> Void)] = []
    private var thread: Thread?
    private let stopped = Locked(false)
    private let stoppedCondition = NSCondition()

    private static var listenerToken: UInt64 { 0 }
    private static var doorbellToken: UInt64 { 1 }

    init(
        dispatcher: Dispatcher, logger: Logger, tracker: ConnectionTracker, policy: PeerPolicy, limits: ConnectionLimits,
        quota: ConnectionQuota
    ) throws {
        self.dispatcher = dispatcher
        self.logger = logger
        self.tracker = tracker
        self.policy = policy
        self.limits = limits
        self.quota = quota
        epoll = try systemCall("epoll_create1") { tessera_epoll_create() }
        doorbell = try systemCall("eventfd") { tessera_eventfd() }
        _ = try systemCall("epoll_ctl") { tessera_epoll_control(epoll, doorbell, 0, 1, 0, Self.doorbellToken) }
    }

    deinit {
        Glibc.close(epoll)
        Glibc.close(doorbell)
    }

    /// Starts the thread, accepting on `listener` (a bound, listening, non-blocking socket), or
    /// serving only the sockets handed to ``serve(_:)`` when there is none.
    func start(listener: Int32?) throws {
        if let listener {
            self.listener = listener
            _ = try systemCall("epoll_ctl") { tessera_epoll_control(epoll, listener, 0, 1, 0, Self.listenerToken) }
        }
        // Named from inside: on Linux a name given before start does not reach the kernel (ps, perf, top).
        let thread = Thread { [self] in
            Thread.current.name = "tessera-sockets"
            run()
        }
        self.thread = thread
        thread.start()
    }

    /// Runs `work` on the loop's thread with connection `id`, if it is still open.
    func execute(on id: UInt64, _ work: @escaping @Sendable (Connection<Dispatcher>) -> Void) {
        mailbox.withLock { $0.append((id, work, nil)) }
        tessera_eventfd_ring(doorbell)
    }

    /// Runs `work` on the loop's thread.
    func execute(_ work: @escaping @Sendable () -> Void) {
        mailbox.withLock { $0.append((nil, { _ in }, work)) }
        tessera_eventfd_ring(doorbell)
    }

    /// Serves `fd`, a connected non-blocking Unix socket accepted elsewhere (a socketpair's end).
    func serve(_ fd: Int32) {
        execute { [self] in adopt(fd, now: Self.now()) }
    }

    /// Runs `body` on the loop's thread with the open connections and the loop's turns so far.
    func inspect(_ body: @escaping @Sendable ([Connection<Dispatcher>], Int) -> Void) {
        execute { [self] in body(Array(connections.values), turns) }
    }

    /// Runs `body` on the loop's thread with its turns so far, once `count` more timer ticks
    /// (about a tenth of a second each) have passed.
    func afterTicks(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        execute { [self] in tickWaiters.append((ticks + count, body)) }
    }

    /// Stops accepting and closes the listening socket (on the loop's thread).
    func stopAccepting() {
        execute { [self] in
            guard listener >= 0 else { return }
            _ = tessera_epoll_remove(epoll, listener)
            Glibc.close(listener)
            listener = -1
        }
    }

    /// Asks every connection to close once its in-flight requests have answered.
    func drainConnections() {
        execute { [self] in
            for connection in Array(connections.values) { connection.drain() }
        }
    }

    /// Closes every connection still open, stops the thread and waits for it.
    func stop() {
        execute { [self] in
            for connection in Array(connections.values) { connection.close() }
            peers = []  // the accepting loop is among its peers: end the cycle
        }
        stopRequested.withLock { $0 = true }
        tessera_eventfd_ring(doorbell)
        stoppedCondition.lock()
        while !stopped.withLock({ $0 }) && thread != nil { stoppedCondition.wait() }
        stoppedCondition.unlock()
    }

    // MARK: The loop's thread

    /// What `connection` waits for. Waiting for nothing takes it out of the epoll set: a socket
    /// whose peer hung up is reported (EPOLLHUP) whatever it is watched for, and would otherwise
    /// wake the loop at every turn while a slow request it still owes a reply to runs.
    func updateInterest(_ connection: Connection<Dispatcher>, reading: Bool, writing: Bool) {
        if !reading && !writing {
            if connection.polled { _ = tessera_epoll_remove(epoll, connection.fd) }
            connection.polled = false
            return
        }
        _ = tessera_epoll_control(epoll, connection.fd, connection.polled ? 1 : 0, reading ? 1 : 0, writing ? 1 : 0, connection.id)
        connection.polled = true
    }

    func remove(_ connection: Connection<Dispatcher>) {
        if connection.polled { _ = tessera_epoll_remove(epoll, connection.fd) }
        connections[connection.id] = nil
        tracker.closed(connection.id)
    }

    /// The monotonic clock the connections' timers run on, in nanoseconds.
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private func run() {
        var ready = [tessera_epoll_ready](repeating: tessera_epoll_ready(), count: 256)
        while !stopRequested.withLock({ $0 }) {
            let count = ready.withUnsafeMutableBufferPointer { tessera_epoll_wait(epoll, $0.baseAddress, Int32($0.count), 100) }
            turns &+= 1
            let now = Self.now()
            if count > 0 {
                for index in 0..<Int(count) {
                    let event = ready[index]
                    switch event.token {
                    case Self.listenerToken: accept(now: now)
                    case Self.doorbellToken: runMailbox()
                    default:
                        guard let connection = connections[event.token] else { continue }
                        if event.writable != 0 { connection.writable(now: now) }
                        if event.readable != 0 { connection.readable(now: now) }
                    }
                }
            }
            if now >= nextTick {
                nextTick = now + 100_000_000
                for connection in connections.values { connection.tick(now: now) }
                ticks += 1
                if !tickWaiters.isEmpty {
                    let due = tickWaiters.filter { $0.tick <= ticks }
                    tickWaiters.removeAll { $0.tick <= ticks }
                    for waiter in due { waiter.body(turns) }
                }
                if let resume = acceptResumesAt, now >= resume, listener >= 0 {
                    acceptResumesAt = nil
                    _ = tessera_epoll_control(epoll, listener, 1, 1, 0, Self.listenerToken)
                }
            }
        }
        runMailbox()
        stoppedCondition.lock()
        stopped.withLock { $0 = true }
        stoppedCondition.broadcast()
        stoppedCondition.unlock()
    }

    private func runMailbox() {
        tessera_eventfd_drain(doorbell)
        let work = mailbox.withLock { queued in
            defer { queued.removeAll(keepingCapacity: true) }
            return queued
        }
        for (id, onConnection, plain) in work {
            if let plain {
                plain()
            } else if let id, let connection = connections[id] {
                onConnection(connection)
            }
        }
    }

    private func accept(now: UInt64) {
        // Out of descriptors (EMFILE, ENFILE), tessera_accept (CEventPoll) sheds one queued
        // connection with `busy` per failed call: keep calling until the queue is empty, so every
        // waiting client hears at once. If failures go on (nothing could be shed), accepting
        // pauses for a second instead of spinning.
        var failures = 0
        while listener >= 0 {
            let fd = tessera_accept(listener)
            guard fd >= 0 else {
                let error = errno
                if error == EAGAIN || error == EINTR { return }
                failures += 1
                if error == ECONNABORTED || failures < 64 { continue }
                logger.warning("accept keeps failing; accepting pauses for a second", metadata: ["errno": "\(error)"])
                _ = tessera_epoll_control(epoll, listener, 1, 0, 0, Self.listenerToken)
                acceptResumesAt = now + 1_000_000_000
                return
            }
            // Round-robin over the loops; a peer loop's turn costs it one wake-up.
            let target = peers.isEmpty ? self : peers[nextPeer % peers.count]
            nextPeer &+= 1
            if target === self { adopt(fd, now: now) } else { target.serve(fd) }
        }
    }

    /// Serves `fd`, a connected, non-blocking socket: the peer's class is known before any byte
    /// is read, so a refused peer costs its socket.
    func adopt(_ fd: Int32, now: UInt64) {
        let peer = PeerCredentials.read(from: fd)
        let peerClass = peer.map(policy.classify) ?? .refused
        let admitted = tracker.admit(uid: peer?.uid, admin: peerClass == .admin, quota: quota)
        let id = tracker.makeID() + Self.doorbellToken
        let connection = Connection(
            fd: fd, id: id, loop: self, dispatcher: dispatcher, peer: peer, peerClass: peerClass,
            logger: logger, tracker: tracker, limits: limits, overLimit: !admitted, now: now)
        guard tessera_epoll_control(epoll, fd, 0, 1, 0, id) == 0 else {
            if admitted { tracker.release(uid: peer?.uid, admin: peerClass == .admin) }
            Glibc.close(fd)
            return
        }
        connections[id] = connection
        tracker.opened(id)
        connection.start(now: now)
    }
}
