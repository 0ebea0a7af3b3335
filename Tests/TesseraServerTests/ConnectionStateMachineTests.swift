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
