import Foundation
import SodiumKit
import TestSupport
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// A service over a fresh data directory, with cheap argon2id and a manual clock.
final class CoreFixture {
    let directory = TemporaryDirectory("tessera-core").path
    let clock = ManualClock()
    let masterKey = MasterKey.generate()
    private(set) var service: AuthService
    private(set) var hashingPool: HashingPool

    init(configure: (inout AuthConfiguration) -> Void = { _ in }) throws {
        var configuration = AuthConfiguration()
        configuration.passwordHasher = PasswordHasher(opsLimit: 1, memLimit: 64 * 1024)
        configuration.hashingThreads = 2
        configure(&configuration)
        hashingPool = HashingPool(configuration)
        service = AuthService(
            store: try TesseraStore(directory: directory, masterKey: masterKey, clock: clock), configuration: configuration,
            hashingPool: hashingPool, clock: clock)
    }

    /// Closes the store and opens it again, as a restart would, with `configuration`.
    func reopen(with configuration: AuthConfiguration? = nil) throws {
        shutdown()
        let configuration = configuration ?? service.configuration
        hashingPool = HashingPool(configuration)
        service = AuthService(
            store: try TesseraStore(directory: directory, masterKey: masterKey, clock: clock), configuration: configuration,
            hashingPool: hashingPool, clock: clock)
    }

    private func shutdown() {
        hashingPool.shutdown()
        service.store.close()
    }

    func tearDown() {
        shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func secret(_ text: String) -> SecretBytes {
        var bytes = Array(text.utf8)
        return SecretBytes(wiping: &bytes)
    }

    @discardableResult
    func createUser(
        _ name: String, password: String = "correct horse", email: String? = nil, phone: String? = nil, roles: [String] = []
    ) async throws -> UserProfile {
        var user = NewUser(username: name, password: Self.secret(password), email: email, roles: roles)
        user.profile.phone = phone
        return try await service.accounts.createUser(user)
    }

    func login(_ identifier: String, password: String = "correct horse", lifetime: UInt32? = nil) async throws -> LoginResult {
        try await service.sessions.login(LoginAttempt(identifier: identifier, password: Self.secret(password), lifetimeSeconds: lifetime))
    }
}

/// `XCTAssertThrowsError` for an `async` expression.
func assertThrowsAsync<T>(
    _ expression: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line,
    _ handler: (any Error) -> Void
) async {
    do {
        _ = try await expression()
        XCTFail("no error was thrown", file: file, line: line)
    } catch {
        handler(error)
    }
}

/// A suite of domain tests: each test gets a fresh ``CoreFixture``, configured by the suite's
/// `configure(_:)` and then `prepare()`d (its users, say), and torn down after it.
class CoreTestCase: XCTestCase {
    var fixture: CoreFixture!

    /// The suite's configuration, over the fixture's (cheap argon2id, two hashing threads).
    func configure(_ configuration: inout AuthConfiguration) {}

    /// What every test of the suite starts from, once the fixture is up.
    func prepare() async throws {}

    override func setUp() async throws {
        fixture = try CoreFixture { self.configure(&$0) }
        try await prepare()
    }

    override func tearDown() {
        fixture?.tearDown()
        fixture = nil
    }
}
