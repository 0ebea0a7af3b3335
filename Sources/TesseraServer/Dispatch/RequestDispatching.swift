import NIOCore
import TesseraProtocol

/// What a connection needs from the layer behind it: answers to frames. The connection knows
/// framing, batching, ordering and flow; the dispatcher knows operations and the domain.
///
/// ``RequestDispatcher`` is the real one, over ``TesseraCore/AuthService``; tests drive the real
/// ``Connection`` on a real ``SocketLoop`` over a socketpair with a fake one.
protocol RequestDispatching: Sendable {
    /// Largest accepted frame length field; checked before a frame is buffered.
    var maximumFrameLength: UInt32 { get }
    /// Slow requests one connection may have in flight.
    var maximumInFlight: UInt32 { get }

    /// Answers an ``Answering/inline`` request from a peer of class `peer`: appends its whole
    /// reply frame to `out`.
    func answerInline(_ frame: Frame, peer: PeerClass, into out: inout ByteBuffer) throws

    /// Answers a read burst's VERIFY requests together (sharing one LMDB snapshot, opened only
    /// if one of them needs it): appends each successful reply frame to `out` in order and
    /// returns the failed ones with their errors.
    func answerVerifies(_ frames: [Frame], into out: inout ByteBuffer) -> [(Frame, any Error)]

    /// Whether the slow request `frame` can start now; when not, the connection answers it
    /// `busy` at once, on the socket thread, without starting it.
    func admitsSlow(_ frame: Frame) -> Bool

    /// Runs an ``Answering/slow`` request from a peer of class `peer` off the socket thread and
    /// returns its reply body.
    func answerSlow(_ frame: Frame, peer: PeerClass) async throws -> ByteBuffer
}
