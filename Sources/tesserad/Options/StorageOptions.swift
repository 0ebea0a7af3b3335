import ArgumentParser
import LMDBKit
import TesseraServer

/// Where the data and the master key live, how large the database may grow, how often expired
/// records are swept.
struct StorageOptions: ParsableArguments {
    @Option(name: .long, help: "Directory of the LMDB environment (created with mode 0700).")
    var data = "tessera-data"

    @Option(
        name: .customLong("master-key"),
        help: """
            The file of the master key that seals the token keys (mode 0600; keep it out of the data directory and \
            its backups). Created on first start; for a data directory with sealed keys a missing file is an error. \
            Default: tessera-master.key beside the socket.
            """)
    var masterKey: String?

    /// `--master-key`, or `tessera-master.key` in the directory of `socket`.
    func masterKeyPath(socket: String) -> String {
        if let masterKey { return masterKey }
        guard let slash = socket.lastIndex(of: "/") else { return "tessera-master.key" }
        return String(socket[...slash]) + "tessera-master.key"
    }

    @Option(name: .customLong("max-map-mib"), help: "Largest size the database may grow to, in MiB.")
    var maximumMapMiB: Int = 64 * 1024

    @Option(name: .customLong("initial-map-mib"), help: "Map size to start with, in MiB; it doubles when full.")
    var initialMapMiB: Int = 256

    @Option(name: .customLong("sweep-interval"), help: "Seconds between background sweeps of expired sessions and refresh tokens (0: never).")
    var sweepInterval: UInt32 = 10

    func validate() throws {
        guard initialMapMiB >= 1, maximumMapMiB >= initialMapMiB else { throw ValidationError("--initial-map-mib must be >= 1 and <= --max-map-mib") }
        guard maximumMapMiB <= 16 << 20 else { throw ValidationError("--max-map-mib must be at most 16 TiB (16777216)") }
    }

    var environment: EnvironmentOptions {
        var options = EnvironmentOptions()
        options.initialMapSize = initialMapMiB << 20
        options.maximumMapSize = maximumMapMiB << 20
        return options
    }

    func apply(to server: inout ServerConfiguration) {
        server.sweepIntervalSeconds = sweepInterval
    }
}
