import TesseraProtocol
import XCTest

@testable import TesseraServer

final class ConnectionStateMachineTests: XCTestCase {
    func testFramesAreRoutedByHowTheirOperationIsAnswered() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        XCTAssertEqual(machine.frameReceived(.inline), .answerInline)
        XCTAssertEqual(machine.frameReceived(.verifyBatch), .queueVerify)
        XCTAssertEqual(machine.frameReceived(.slow), .startSlow)
        XCTAssertEqual(machine.frameReceived(nil), .rejectUnknownOpcode)
        XCTAssertEqual(machine.slowInFlight, 1)
    }

    func testSlowRequestsBeyondTheLimitAreRejectedUntilOneFinishes() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 2)
        XCTAssertEqual(machine.frameReceived(.slow), .startSlow)
        XCTAssertEqual(machine.frameReceived(.slow), .startSlow)
        XCTAssertEqual(machine.frameReceived(.slow), .rejectBusy)
        XCTAssertEqual(machine.frameReceived(.verifyBatch), .queueVerify, "verifies are never counted against the limit")
        XCTAssertEqual(machine.slowRequestFinished(), .writeAndFlush)
        XCTAssertEqual(machine.frameReceived(.slow), .startSlow)
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
        _ = machine.frameReceived(.slow)
        _ = machine.frameReceived(.slow)
        XCTAssertEqual(machine.drainRequested(), .waitForSlowRequests)
        XCTAssertEqual(machine.frameReceived(.inline), .answerInline, "a draining connection still answers what arrives")
        XCTAssertEqual(machine.slowRequestFinished(), .writeAndFlush)
        XCTAssertEqual(machine.slowRequestFinished(), .writeFlushAndClose)
    }

    func testAFramingErrorBreaksTheConnectionOnce() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        _ = machine.frameReceived(.slow)
        XCTAssertEqual(machine.framingFailed(), .answerQueuedThenFailAndClose)
        XCTAssertEqual(machine.state, .broken)
        XCTAssertFalse(machine.readsFrames)
        XCTAssertEqual(machine.framingFailed(), .ignore)
        XCTAssertEqual(machine.frameReceived(.inline), .ignore)
        XCTAssertEqual(machine.drainRequested(), .none)
        XCTAssertEqual(machine.slowRequestFinished(), .writeAndFlush, "a reply already computed still goes out before the close")
    }

    func testAHalfCloseIsADrain() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        _ = machine.frameReceived(.slow)
        XCTAssertEqual(machine.inputClosed(), .waitForSlowRequests)
        XCTAssertEqual(machine.slowRequestFinished(), .writeFlushAndClose)
    }

    func testRepliesFinishingAfterTheChannelClosedAreDropped() {
        var machine = ConnectionStateMachine(maximumSlowInFlight: 4)
        _ = machine.frameReceived(.slow)
        machine.channelClosed()
        XCTAssertEqual(machine.slowRequestFinished(), .drop)
        XCTAssertEqual(machine.frameReceived(.inline), .ignore)
    }
}
