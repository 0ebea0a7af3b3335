/// The limits a connection is held to (``ServerConfiguration``).
struct ConnectionLimits: Sendable {
    var idleTimeoutSeconds: Int64 = 300
    var frameTimeoutSeconds: Int64 = 10
    var outputPauseBytes = 256 * 1024
    var outputLimitBytes = 1024 * 1024
    var unreadTimeoutSeconds: Int64 = 30

    init() {}

    init(_ configuration: ServerConfiguration) {
        idleTimeoutSeconds = configuration.idleTimeoutSeconds
        frameTimeoutSeconds = configuration.frameTimeoutSeconds
        outputPauseBytes = configuration.outputPauseBytes
        outputLimitBytes = configuration.outputLimitBytes
        unreadTimeoutSeconds = configuration.unreadTimeoutSeconds
    }
}
