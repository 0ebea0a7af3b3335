import Foundation
import NIOCore
import TesseraProtocol

/// The byte-exact examples of `Protocol/vectors/`, with the values they encode.
///
/// Each vector is a whole frame. The tests decode every file and compare with `message`,
/// and encode `message` and compare with the file, byte for byte. `scripts/write-vectors`
/// writes the files from this catalog.
public struct TestVector: Sendable {
    public var name: String
    public var summary: String
    public var opcode: UInt8
    public var flags: FrameFlags
    public var status: UInt16
    public var requestID: UInt32
    public var message: any SchemaMessage

    public static let token = "AQABAZt22qgArphgWEHSgt65fTn3RoKRE4TzTvEPtYEoFe7Wi7yYiNcApyZ1uBBwy4cp"
    public static let refreshToken = "AgABAZt22qgACq9bYt3uKd0mE1sW5oPz8LhJ6fRgA2cN4iU7yT0vB3kX9eD1qZ5wHs8a"
    public static let sessionID: [UInt8] = [0x01, 0x9b, 0x76, 0xda, 0xa8, 0x00, 0xae, 0x98, 0x60, 0x58, 0x41, 0xd2, 0x82, 0xde, 0xb9, 0x7d]
    public static let alice = UserInfo(
        id: 1, username: "alice", email: "alice@example.com", displayName: "Alice",
        createdAt: 1_767_225_600_000, roles: ["admin"])

    /// The whole frame.
    public var bytes: [UInt8] {
        var buffer = ByteBuffer()
        // The catalog's messages are small: a failure here is a mistake in the catalog itself.
        try! buffer.writeFrame(opcode: opcode, flags: flags, status: status, requestID: requestID) { try message.encode(into: &$0) }
        return Array(buffer.readableBytesView)
    }

    /// Decodes `body` as this vector's message type.
    public func decodeMessage(_ body: ByteBuffer) throws -> any SchemaMessage {
        try type(of: message).init(decoding: body)
    }

    /// The annotated hex file: header bytes, then one line per top-level field.
    public var annotatedFile: String {
        let bytes = self.bytes
        func hex(_ slice: ArraySlice<UInt8>) -> String { slice.map { String(format: "%02x", $0) }.joined(separator: " ") }
        var lines = ["# \(name): \(summary)", "# \(bytes.count) bytes"]
        lines.append("\(hex(bytes[0..<4]))  # length = \(bytes.count - 4)")
        lines.append("\(hex(bytes[4..<5]))  # opcode 0x\(String(format: "%02x", opcode))")
        lines.append("\(hex(bytes[5..<6]))  # flags\(flags.contains(.response) ? " RESPONSE" : "")\(flags.contains(.closing) ? " CLOSING" : "")")
        lines.append("\(hex(bytes[6..<8]))  # status \(status)")
        lines.append("\(hex(bytes[8..<12]))  # request id \(requestID)")
        var offset = 12
        while offset < bytes.count {
            let tag = bytes[offset]
            let length = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            let end = offset + 3 + length
            lines.append("\(hex(bytes[offset..<offset + 3]))  # field \(tag) \(fieldName(message, tag: tag) ?? "?"), \(length) bytes")
            var chunk = offset + 3
            while chunk < end {
                let next = min(chunk + 16, end)
                lines.append("  \(hex(bytes[chunk..<next]))")
                chunk = next
            }
            offset = end
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses an annotated hex file: `#` starts a comment, whitespace separates bytes.
    public static func parse(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for word in code.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                out.append(UInt8(word, radix: 16)!)
            }
        }
        return out
    }
}

/// The schema's name for `tag` in `message`'s type.
func fieldName<Message: SchemaMessage>(_ message: Message, tag: UInt8) -> String? {
    Message.schema.field(tag: tag)?.name
}
