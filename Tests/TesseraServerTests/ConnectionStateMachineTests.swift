import TesseraProtocol
import XCTest

@testable import TesseraServer

final class ConnectionStateMachineTests: XCTestCase {
    func testFramesAreRoutedByHowTheirOperationIsAnswered() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        XCTAssertEqual(machine.frameReceived(.ping), .answerInline)
        XCTAssertEqual(machine.frameReceived(.verify), .queueVerify)
        XCTAssertEqual(machine.frameReceived(.login), .startSlow)
        XCTAssertEqual(machine.frameReceived(nil), .rejectUnknownOpcode)
        XCTAssertEqual(machine.slowInFlight, 1)
    }

    func testSlowRequestsBeyondTheLimitAreRejectedUntilOneFinishes() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 2)
        XCTAssertEqual(machine.frameReceived(.login), .startSlow)
        XCTAssertEqual(machine.frameReceived(.login), .startSlow)
        XCTAssertEqual(machine.frameReceived(.login), .rejectBusy)
        XCTAssertEqual(machine.frameReceived(.verify), .queueVerify, "verifies are never counted against the limit")
        XCTAssertEqual(machine.slowRequestFinished(), .writeAndFlush)
        XCTAssertEqual(machine.frameReceived(.login), .startSlow)
        XCTAssertEqual(machine.slowInFlight, 2)
    }

    func testEveryReplyByteCountsAndOnePastTheOutputLimitClosesTheConnection() {
        var limits = ConnectionLimits()
        limits.outputLimitBytes = 1000
        var machine = ConnectionStateMachine(peer: .application, maximumSlowInFlight: 8, limits: limits, now: 0)
        for _ in 0..<4 { XCTAssertEqual(machine.frameReceived(.listSessions), .startSlow) }
        XCTAssertEqual(machine.slowRequestFinished(unreadBytes: 0, replyBytes: 5000), .writeAndFlush, "alone, any reply goes out")
        XCTAssertEqual(machine.slowRequestFinished(unreadBytes: 600, replyBytes: 400), .writeAndFlush, "up to the limit")
        XCTAssertEqual(machine.slowRequestFinished(unreadBytes: 1000, replyBytes: 1), .closeOverOutputLimit)
        XCTAssertEqual(machine.state, .closed)
        XCTAssertEqual(machine.slowRequestFinished(unreadBytes: 0, replyBytes: 1), .drop, "the rest of those in flight are dropped")
        XCTAssertEqual(machine.slowInFlight, 0)
    }

    func testDrainClosesAtOnceWhenNothingIsInFlight() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 2)
        XCTAssertEqual(machine.drainRequested(), .close)
        XCTAssertEqual(machine.state, .draining)
        XCTAssertEqual(machine.drainRequested(), .none)
    }

    func testDrainWaitsForTheLastSlowRequest() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        _ = machine.frameReceived(.login)
        _ = machine.frameReceived(.login)
        XCTAssertEqual(machine.drainRequested(), .waitForSlowRequests)
        XCTAssertEqual(machine.frameReceived(.ping), .answerInline, "a draining connection still answers what arrives")
        XCTAssertEqual(machine.slowRequestFinished(), .writeAndFlush)
        XCTAssertEqual(machine.slowRequestFinished(), .writeFlushAndClose)
    }

    func testAFramingErrorBreaksTheConnectionOnce() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        _ = machine.frameReceived(.login)
        XCTAssertEqual(machine.framingFailed(), .answerQueuedThenFailAndClose)
        XCTAssertEqual(machine.state, .broken)
        XCTAssertFalse(machine.readsFrames)
        XCTAssertEqual(machine.framingFailed(), .ignore)
        XCTAssertEqual(machine.frameReceived(.ping), .ignore)
        XCTAssertEqual(machine.drainRequested(), .none)
        XCTAssertEqual(machine.slowRequestFinished(), .writeAndFlush, "a reply already computed still goes out before the close")
    }

    func testAHalfCloseIsADrain() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        _ = machine.frameReceived(.login)
        XCTAssertEqual(machine.inputClosed(), .waitForSlowRequests)
        XCTAssertEqual(machine.slowRequestFinished(), .writeFlushAndClose)
    }

    func testAnApplicationPeerIsForbiddenTheAdministrativeOperations() {
        var machine = ConnectionStateMachine(peer: .application, maximumSlowInFlight: 4)
        XCTAssertEqual(machine.connected(), .serve)
        // GET_USER, UPDATE_USER, LIST_SESSIONS and REVOKE_SESSION pass here; the dispatcher
        // holds them to the user of the request's session token (Authorization).
        for opcode in [
            Opcode.hello, .ping, .createUser, .login, .refresh, .logout, .validate, .newValidationCode, .changePassword, .getUser,
            .updateUser, .listSessions, .revokeSession,
        ] {
            XCTAssertNotEqual(machine.frameReceived(opcode), .rejectForbidden, "\(opcode)")
        }
        XCTAssertEqual(machine.frameReceived(.verify), .queueVerify)
        for opcode in [Opcode.setPassword, .setUserState, .unlockUser, .deleteUser, .listUsers, .revokeAllSessions] {
            XCTAssertEqual(machine.frameReceived(opcode), .rejectForbidden, "\(opcode)")
        }
        XCTAssertEqual(machine.frameReceived(nil), .rejectUnknownOpcode)
    }

    func testAConnectionOverTheLimitIsRefusedBusyWhateverItsPeer() {
        var machine = ConnectionStateMachine(peer: .admin, maximumSlowInFlight: 4)
        XCTAssertEqual(machine.connected(overLimit: true), .refuseBusy)
        XCTAssertEqual(machine.frameReceived(.ping), .ignore, "nothing it sends is read")
    }

    func testTimeouts() {
        var idle = ConnectionStateMachine(peer: .application, maximumSlowInFlight: 4)
        XCTAssertEqual(idle.connected(), .serve)
        XCTAssertEqual(idle.frameReceived(.login), .startSlow)
        XCTAssertEqual(idle.idleTimedOut(), .none, "a login in flight is not idleness")
        XCTAssertEqual(idle.slowRequestFinished(), .writeAndFlush)
        XCTAssertEqual(idle.idleTimedOut(), .close)

        var trickle = ConnectionStateMachine(peer: .application, maximumSlowInFlight: 4)
        XCTAssertEqual(trickle.frameTimedOut(), .failAndClose)
        XCTAssertEqual(trickle.frameTimedOut(), .none, "once")
        XCTAssertEqual(trickle.frameReceived(.ping), .ignore)

        var unread = ConnectionStateMachine(peer: .application, maximumSlowInFlight: 4)
        XCTAssertEqual(unread.unreadTimedOut(), .close)
        XCTAssertEqual(unread.unreadTimedOut(), .none)
    }

    func testAnAdminPeerMayUseEverything() {
        var machine = ConnectionStateMachine(peer: .admin, maximumSlowInFlight: 64)
        for opcode in Opcode.allCases { XCTAssertNotEqual(machine.frameReceived(opcode), .rejectForbidden, "\(opcode)") }
    }

    func testARefusedPeerIsClosedAtConnectAndReadsNothing() {
        var machine = ConnectionStateMachine(peer: .refused, maximumSlowInFlight: 4)
        XCTAssertEqual(machine.connected(), .refuse)
        XCTAssertFalse(machine.readsFrames)
        XCTAssertEqual(machine.frameReceived(.ping), .ignore)
    }

    func testRepliesFinishingAfterTheChannelClosedAreDropped() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        _ = machine.frameReceived(.login)
        machine.socketClosed()
        XCTAssertEqual(machine.slowRequestFinished(), .drop)
        XCTAssertEqual(machine.frameReceived(.ping), .ignore)
    }
}

/// The connection's timeouts, decided by the state machine on a manual clock: no socket, no
/// waiting. (`ConnectionLimitsTests` keeps one end-to-end test per rule against the daemon.)
final class ConnectionTimerTests: XCTestCase {
    /// Monotonic nanoseconds, moved by hand.
    struct ManualClock {
        private(set) var now: UInt64 = 5_000_000_000
        mutating func advance(seconds: Double) { now += UInt64(seconds * 1_000_000_000) }
    }

    private var clock = ManualClock()
    private var limits: ConnectionLimits {
        var limits = ConnectionLimits()
        limits.idleTimeoutSeconds = 300
        limits.frameTimeoutSeconds = 10
        limits.unreadTimeoutSeconds = 30
        return limits
    }

    private func machine(peer: PeerClass = .application) -> ConnectionStateMachine {
        ConnectionStateMachine(peer: peer, maximumSlowInFlight: 4, limits: limits, now: clock.now)
    }

    func testAnIdleConnectionClosesAtTheIdleTimeoutAndFramesRestartTheClock() {
        var machine = machine()
        XCTAssertEqual(machine.connected(now: clock.now), .serve)
        clock.advance(seconds: 299.9)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .none)
        machine.framesRead(handledFrames: true, incompleteFrame: false, now: clock.now)
        clock.advance(seconds: 299.9)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .none, "a frame restarted the idle clock")
        machine.framesRead(handledFrames: false, incompleteFrame: false, now: clock.now)
        clock.advance(seconds: 0.1)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .closeIdle, "a read without a frame does not")
        XCTAssertEqual(machine.state, .closed)
    }

    func testASlowRequestInFlightPostponesTheIdleCloseByAWholeTimeout() {
        var machine = machine()
        _ = machine.connected(now: clock.now)
        XCTAssertEqual(machine.frameReceived(.login), .startSlow)
        clock.advance(seconds: 300)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .none, "a login is still hashing")
        XCTAssertEqual(machine.slowRequestFinished(), .writeAndFlush)
        clock.advance(seconds: 299)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .none, "looked again a whole timeout after")
        clock.advance(seconds: 1)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .closeIdle)
    }

    func testAFrameLeftUnfinishedFailsAtTheFrameTimeoutUnlessReadingIsPaused() {
        var machine = machine()
        _ = machine.connected(now: clock.now)
        machine.framesRead(handledFrames: false, incompleteFrame: true, now: clock.now)
        clock.advance(seconds: 5)
        machine.framesRead(handledFrames: false, incompleteFrame: true, now: clock.now)
        clock.advance(seconds: 4.9)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: true), .none, "measured from the frame's first byte")
        clock.advance(seconds: 0.1)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: true), .failFrameTimeout)
        XCTAssertEqual(machine.state, .broken)

        var paused = self.machine()
        _ = paused.connected(now: clock.now)
        paused.framesRead(handledFrames: true, incompleteFrame: true, now: clock.now)
        paused.readingPaused(now: clock.now)
        clock.advance(seconds: 20)
        XCTAssertEqual(paused.tick(now: clock.now, incompleteFrame: true), .none, "not the client's delay while the server does not read")
        paused.readingResumed()
        paused.framesRead(handledFrames: false, incompleteFrame: true, now: clock.now)
        clock.advance(seconds: 10)
        XCTAssertEqual(paused.tick(now: clock.now, incompleteFrame: true), .failFrameTimeout, "measured again from the resumed read")

        var completed = self.machine()
        _ = completed.connected(now: clock.now)
        completed.framesRead(handledFrames: false, incompleteFrame: true, now: clock.now)
        completed.framesRead(handledFrames: true, incompleteFrame: false, now: clock.now)
        clock.advance(seconds: 11)
        XCTAssertEqual(completed.tick(now: clock.now, incompleteFrame: false), .none, "the frame arrived whole")
    }

    /// As the connection does it: the read that fills the reply buffer pauses reading and then
    /// reports what it left (whole frames not handled yet, and part of one). None of it starts
    /// the frame clock; the read after the client resumes does.
    func testTheFrameClockStartsWhenReadingResumesNotWhenItPaused() {
        var machine = machine()
        _ = machine.connected(now: clock.now)
        machine.readingPaused(now: clock.now)
        machine.framesRead(handledFrames: true, incompleteFrame: true, now: clock.now)
        clock.advance(seconds: 30 - 0.1)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: true), .none)
        machine.readingResumed()
        machine.framesRead(handledFrames: true, incompleteFrame: true, now: clock.now)
        clock.advance(seconds: 9.9)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: true), .none, "not measured from the pause, 40 s ago")
        clock.advance(seconds: 0.1)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: true), .failFrameTimeout, "measured from the resumed read")
    }

    func testRepliesLeftUnreadCloseTheConnectionAtTheUnreadTimeout() {
        var machine = machine()
        _ = machine.connected(now: clock.now)
        machine.readingPaused(now: clock.now)
        XCTAssertTrue(machine.isPaused)
        clock.advance(seconds: 29.9)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .none)
        machine.readingResumed()
        clock.advance(seconds: 1)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .none, "the client read again in time")
        machine.readingPaused(now: clock.now)
        clock.advance(seconds: 30)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .closeUnread)
        XCTAssertEqual(machine.state, .closed)
    }

    func testARefusedConnectionClosesASecondLaterWhateverItsPeerDoes() {
        for (peer, overLimit, action) in [
            (PeerClass.refused, false, ConnectionStateMachine.ConnectAction.refuse), (.application, true, .refuseBusy),
        ] {
            var machine = machine(peer: peer)
            XCTAssertEqual(machine.connected(overLimit: overLimit, now: clock.now), action)
            clock.advance(seconds: 0.9)
            XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .none)
            clock.advance(seconds: 0.1)
            XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .closeRefused)
        }
    }

    func testAZeroTimeoutNeverFiresAndAHugeOneSaturates() {
        var never = ConnectionLimits()
        never.idleTimeoutSeconds = 0
        var machine = ConnectionStateMachine(peer: .admin, maximumSlowInFlight: 4, limits: never, now: clock.now)
        _ = machine.connected(now: clock.now)
        clock.advance(seconds: 10 * 365 * 24 * 3600)
        XCTAssertEqual(machine.tick(now: clock.now, incompleteFrame: false), .none)
        var huge = ConnectionLimits()
        huge.idleTimeoutSeconds = .max
        var saturated = ConnectionStateMachine(peer: .admin, maximumSlowInFlight: 4, limits: huge, now: clock.now)
        _ = saturated.connected(now: clock.now)
        clock.advance(seconds: 10 * 365 * 24 * 3600)
        XCTAssertEqual(saturated.tick(now: clock.now, incompleteFrame: false), .none, "no overflow trap")
    }
}
