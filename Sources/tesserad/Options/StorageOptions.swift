import ArgumentParser
import LMDBKit
@_spi(TesseraInternal) import TesseraCore
import TesseraServer

/// Where the data and the master key live, how large the database may grow, how often expired
/// records are swept.
struct StorageOptions: ParsableArguments {
    @Option(name: .long, help: "Directory of the LMDB environment (created with mode 0700).")
    var data = "tessera-data"

    @Option(
        name: .customLong("master-key"),
        help: """
            The file of the master key that seals the token keys, every TOTP secret and every API key (mode 0600; \
            back it up apart from the data directory: the data is unreadable without it). Created on first start, \
            never on a tmpfs or in the socket's directory (both are emptied at boot); for a data directory with \
            sealed keys a missing file is an error. Default: tessera-master.key beside the data directory (in its parent).
            """)
    var masterKey: String?

    /// `--master-key`, or `tessera-master.key` beside the data directory.
    var masterKeyPath: String {
        masterKey ?? MasterKeyFile.defaultPath(data: data)
    }

    /// Where the master key was made by default before it moved beside the data directory:
    /// beside the socket (a tmpfs in the usual service layout).
    func formerDefaultMasterKeyPath(socket: String) -> String {
        MasterKeyFile.directory(of: socket) + "/tessera-master.key"
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
