import Logging
import ServiceLifecycle
@_spi(TesseraInternal) import TesseraCore

/// Runs the domain's ``Sweeper`` every `intervalSeconds` until a graceful shutdown.
package struct SweeperService: Service {
    let sweeper: Sweeper
    let intervalSeconds: UInt32
    let logger: Logger

    package init(sweeper: Sweeper, intervalSeconds: UInt32, logger: Logger) {
        self.sweeper = sweeper
        self.intervalSeconds = intervalSeconds
        self.logger = logger
    }

    package func run() async throws {
        guard intervalSeconds > 0 else {
            try? await gracefulShutdown()
            return
        }
        // cancelWhenGracefulShutdown: the sleep between steps ends at once on shutdown; a step
        // already committing finishes first.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(Int(intervalSeconds)))
                do {
                    _ = try await sweeper.sweep()
                } catch {
                    logger.warning("sweep failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
