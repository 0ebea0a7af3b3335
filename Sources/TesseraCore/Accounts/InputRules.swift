import TesseraModel

/// Input rules. Each failure names the field and the rule, so the caller knows what to fix.
enum Validation {
    static let maximumUsername = 64
    static let maximumEmail = 254
    static let maximumDisplayName = 128
    static let maximumRoles = 32
    static let maximumRole = 64
    static let maximumClientIP = 64
    static let maximumUserAgent = 512

    static func username(_ value: String) throws(AuthError) {
        let utf8 = value.utf8
        guard !utf8.isEmpty else { throw .invalidArgument("username must not be empty") }
        guard utf8.count <= maximumUsername else { throw .invalidArgument("username must be at most \(maximumUsername) bytes") }
        for byte in utf8 {
            let ok =
                (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2e || byte == 0x5f || byte == 0x2d
            guard ok else { throw .invalidArgument("username may contain only letters, digits, '.', '_' and '-'") }
        }
    }

    static func email(_ value: String) throws(AuthError) {
        let utf8 = Array(value.utf8)
        guard !utf8.isEmpty, utf8.count <= maximumEmail else { throw .invalidArgument("email must be 1 to \(maximumEmail) bytes") }
        let at = utf8.indices.filter { utf8[$0] == 0x40 }
        guard at.count == 1, at[0] > 0, at[0] < utf8.count - 1 else {
            throw .invalidArgument("email must have the form local@domain")
        }
        guard !utf8.contains(where: { $0 <= 0x20 || $0 == 0x7f }) else {
            throw .invalidArgument("email must not contain spaces or control characters")
        }
    }

    static func displayName(_ value: String) throws(AuthError) {
        guard value.utf8.count <= maximumDisplayName else { throw .invalidArgument("name must be at most \(maximumDisplayName) bytes") }
        guard !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { throw .invalidArgument("name must not contain control characters") }
    }

    static func roles(_ values: [String]) throws(AuthError) {
        guard values.count <= maximumRoles else { throw .invalidArgument("a user may have at most \(maximumRoles) roles") }
        for role in values {
            guard !role.isEmpty, role.utf8.count <= maximumRole, role.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw .invalidArgument("each role must be 1 to \(maximumRole) printable ASCII characters without spaces")
            }
        }
    }

    static func phone(_ value: String) throws(AuthError) {
        let utf8 = Array(value.utf8)
        guard utf8.count >= 7, utf8.count <= 16, utf8[0] == UInt8(ascii: "+"), utf8.dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .invalidArgument("phone must be in E.164 form: '+' and 6 to 15 digits")
        }
    }

    static func printable(_ value: String, field: String, maximum: Int) throws(AuthError) {
        guard value.utf8.count <= maximum else { throw .invalidArgument("\(field) must be at most \(maximum) bytes") }
        guard !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { throw .invalidArgument("\(field) must not contain control characters") }
    }

    /// The most bytes of keys and values a user's settings may hold in all: with every other
    /// field at its maximum, a user then encodes in well under the 65,535 bytes a field can hold.
    static let maximumSettingsBytes = 16 * 1024

    static func settings(_ values: [String: String]) throws(AuthError) {
        guard values.count <= 64 else { throw .invalidArgument("a user may have at most 64 settings") }
        let total = values.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard total <= maximumSettingsBytes else {
            throw .invalidArgument("settings may hold at most \(maximumSettingsBytes) bytes of keys and values in all, not \(total)")
        }
        for (key, value) in values {
            guard !key.isEmpty, key.utf8.count <= 64, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw .invalidArgument("setting keys must be 1 to 64 printable ASCII characters without spaces")
            }
            try printable(value, field: "setting \(key)", maximum: 1024)
        }
    }

    static func profile(_ changes: ProfileChanges) throws(AuthError) {
        if let email = changes.email, !email.isEmpty { try Self.email(email) }
        if let name = changes.displayName { try displayName(name) }
        if let phone = changes.phone, !phone.isEmpty { try Self.phone(phone) }
        if let url = changes.imageURL { try printable(url, field: "image URL", maximum: 2048) }
        if let role = changes.rootRole { try printable(role, field: "root role", maximum: 64) }
        if let id = changes.externalID { try printable(id, field: "external id", maximum: 256) }
        if let roles = changes.roles { try Self.roles(roles) }
        if let settings = changes.settings { try Self.settings(settings) }
        try attributes(changes.attributes, removing: changes.removedAttributes)
    }

    /// Each attribute given and each name removed; what the user holds afterwards is checked
    /// against the limits where the change is applied (``UserRecord/apply(_:)``).
    static func attributes(_ values: [String: AttributeValue], removing names: [String]) throws(AuthError) {
        for name in names {
            if let problem = AttributeLimits.problem(withName: name) { throw .invalidArgument(problem) }
            guard values[name] == nil else { throw .invalidArgument("attribute \(name) is both set and removed") }
        }
        for (name, value) in values {
            if let problem = AttributeLimits.problem(withName: name) { throw .invalidArgument(problem) }
            if let problem = value.problem { throw .invalidArgument("attribute \(name): \(problem)") }
        }
        if let problem = AttributeLimits.problem(with: values) { throw .invalidArgument(problem) }
    }

    static func password(_ count: Int, minimum: Int) throws(AuthError) {
        guard count >= minimum else { throw .invalidArgument("password must be at least \(minimum) bytes") }
        guard count <= 1024 else { throw .invalidArgument("password must be at most 1024 bytes") }
    }

    static func loginIdentifier(_ value: String) throws(AuthError) {
        guard !value.isEmpty, value.utf8.count <= maximumEmail else { throw .invalidArgument("identifier must be 1 to \(maximumEmail) bytes") }
    }

    static func sessionMetadata(clientIP: String?, userAgent: String?) throws(AuthError) {
        if let clientIP, clientIP.utf8.count > maximumClientIP { throw .invalidArgument("client IP must be at most \(maximumClientIP) bytes") }
        if let userAgent, userAgent.utf8.count > maximumUserAgent { throw .invalidArgument("user agent must be at most \(maximumUserAgent) bytes") }
    }
}
