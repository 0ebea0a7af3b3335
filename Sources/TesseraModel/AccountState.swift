/// An account's state: whether it may log in.
public enum AccountState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Logs in normally.
    case active = 0
    /// Created unvalidated: logins answer `account-not-validated` until VALIDATE.
    case unvalidated = 1
    /// Logins answer `inactive-account`; every session ended when it was disabled.
    case disabled = 2

    /// `active`, `unvalidated` or `disabled`.
    public var description: String {
        switch self {
        case .active: "active"
        case .unvalidated: "unvalidated"
        case .disabled: "disabled"
        }
    }

    /// The state named `name` (`active`, `unvalidated`, `disabled`).
    public init?(name: String) {
        guard let state = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = state
    }
}

/// Whether an account is a person's or a service's (for machine clients).
public enum AccountType: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case user = 0
    case service = 1

    /// `user` or `service`.
    public var description: String { self == .user ? "user" : "service" }

}
