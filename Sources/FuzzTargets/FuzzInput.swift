import NIOCore
import ProtocolVectors
@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol

/// One fuzzing input, as libFuzzer hands it to `Fuzz/` and as `FuzzCorpusTests` replays the
/// corpus: the first byte picks the decoder, the rest is its input.
///
/// - 0: the frame decoder and the frame accumulator (a stream of frames, read whole or in pieces);
/// - 1: every message's decoder (each message type of the protocol's vectors);
/// - 2: every stored-record decoder;
/// - 3: the JSON reader the importers read their sources with (an import file is another
///   system's export: not to be trusted to be well formed).
public enum FuzzInput {
    public static func run(_ input: UnsafeRawBufferPointer) {
        guard let selector = input.first else { return }
        let bytes = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        switch selector % 4 {
        case 0: frames(bytes)
        case 1: messages(bytes)
        case 2: StoredRecords.decodeEveryKind(bytes)
        default: _ = try? JSONValue.parse(bytes)
        }
    }

    private static func frames(_ bytes: UnsafeRawBufferPointer) {
        var whole = ByteBuffer(bytes: bytes)
        while let frame = try? FrameDecoder.decodeFrame(from: &whole, maximumLength: 16 * 1024) {
            if let opcode = Opcode(rawValue: frame.opcode) { _ = opcode.answering }
        }
        // The same bytes in pieces of 7, as reads would bring them.
        var accumulator = FrameAccumulator(maximumLength: 16 * 1024)
        var offset = 0
        while offset < bytes.count {
            var piece = ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: bytes[offset..<min(offset + 7, bytes.count)]))
            accumulator.append(&piece)
            do {
                while try accumulator.next() != nil {}
            } catch {
                return
            }
            offset += 7
        }
    }

    /// One message type per name, from the vectors' catalog.
    private static let messageTypes: [any SchemaMessage.Type] = {
        var seen: Set<String> = []
        return TestVector.all.compactMap { vector in
            let type = Swift.type(of: vector.message)
            return seen.insert(String(reflecting: type)).inserted ? type : nil
        }
    }()

    private static func messages(_ bytes: UnsafeRawBufferPointer) {
        let body = ByteBuffer(bytes: bytes)
        for type in messageTypes {
            decode(type, body)
        }
    }

    private static func decode<M: SchemaMessage>(_: M.Type, _ body: ByteBuffer) {
        if let message = try? M(decoding: body) {
            // What decodes must encode again.
            _ = try? message.encoded()
        }
    }
}
