import ServiceLifecycle
@_spi(TesseraInternal) import TesseraCore

/// Owns the hashing pool and the store for the length of a `ServiceGroup`: on graceful
/// shutdown (or when the group is cancelled) it finishes queued hashes, then queued writes, and
/// closes LMDB. Place it first in the group so it stops last, after the server has drained.
package struct StorageService: Service {
    let store: TesseraStore
    let hashingPool: HashingPool

    package init(store: TesseraStore, hashingPool: HashingPool) {
        self.store = store
        self.hashingPool = hashingPool
    }

    package func run() async throws {
        try? await gracefulShutdown()
        hashingPool.shutdown()
        store.close()
    }
}
