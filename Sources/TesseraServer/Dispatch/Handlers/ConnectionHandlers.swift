@_spi(TesseraInternal) import TesseraCore
import TesseraProtocol

/// HELLO and PING: the connection's own operations.
struct ConnectionHandlers {
    let configuration: ServerConfiguration
    let hashingQueueLimit: Int

    func register(in table: inout OperationTable) {
        let (configuration, hashingQueueLimit) = (self.configuration, self.hashingQueueLimit)
        table.inline(Operations.hello) { hello in
            guard hello.protocolVersion >= 1 else {
                throw RequestFailure(status: .unsupportedVersion, message: "this server speaks protocol version \(ProtocolVersion.current)")
            }
            return HelloResponse(
                protocolVersion: min(hello.protocolVersion, ProtocolVersion.current), serverName: ServerConfiguration.serverName,
                maximumFrameLength: configuration.maximumFrameLength, maximumInFlight: configuration.maximumInFlight,
                maximumQueuedHashes: UInt32(clamping: hashingQueueLimit))
        }
        table.inline(Operations.ping) { $0 }
    }
}
