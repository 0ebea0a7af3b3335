import Locking
import Logging
import NIOCore
import TesseraProtocol
import XCTest

@testable import TesseraServer

/// A dispatcher that echoes: PING returns its body; VERIFY answers `verified:<body>` unless the
/// body is `bad`; slow requests wait until the test releases them by body.
final class FakeDispatcher: RequestDispatching {
    let maximumFrameLength: UInt32 = 1024
    let maximumInFlight: UInt32
    private let state = Locked<(batches: [Int], gates: [String: CheckedContinuation<Void, Never>], released: Set<String>)>(([], [:], []))

    init(maximumInFlight: UInt32) {
        self.maximumInFlight = maximumInFlight
    }

    var verifyBatches: [Int] { state.withLock { $0.batches } }

    /// While true, slow requests are refused before they start (a full hashing queue).
    let saturated = Locked(false)

    func admitsSlow(_ frame: Frame) -> Bool { !saturated.withLock { $0 } }

    func answerInline(_ frame: Frame, peer: PeerClass, into out: inout ByteBuffer) throws {
        var body = frame.body
        out.writeFrame(opcode: frame.opcode, flags: .response, requestID: frame.requestID) { $0.writeBuffer(&body) }
    }

    func answerVerifies(_ frames: [Frame], into out: inout ByteBuffer) -> [(Frame, any Error)] {
        state.withLock { $0.batches.append(frames.count) }
        var failures: [(Frame, any Error)] = []
        for frame in frames {
            let body = String(buffer: frame.body)
            if body == "bad" {
                failures.append((frame, RequestFailure(status: .tokenInvalid, message: "no such session")))
            } else {
                out.writeFrame(opcode: frame.opcode, flags: .response, requestID: frame.requestID) { $0.writeString("verified:" + body) }
            }
        }
        return failures
    }

    func answerSlow(_ frame: Frame, peer: PeerClass) async throws -> ByteBuffer {
        let key = String(buffer: frame.body)
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.released.remove(key) != nil { return true }
                state.gates[key] = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return ByteBuffer(string: key + " done")
    }

    /// Lets the slow request whose body is `key` finish (now, or as soon as it starts).
    func release(_ key: String) {
        let waiting = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let gate = state.gates.removeValue(forKey: key) { return gate }
            state.released.insert(key)
            return nil
        }
        waiting?.resume()
    }
}
