import TesseraClient

/// What `POST /v1/auth/user` may change, read from its body: the seed's `{"user": {...}}` or
/// the fields themselves. Every field the client sends is either stored (and returned by the
/// reply) or refused with an error that names it; nothing is dropped without a word.
struct V1AuthProfileChange: Equatable {
    var email: String?
    var phoneNumber: String?
    var firstName: String?
    var lastName: String?
    var image: String?
    var settings: [String: String]?
    /// Seed fields kept as the user's attributes: set, or (sent as `null`) removed.
    var attributes: [String: AttributeValue] = [:]
    var removedAttributes: [String] = []

    /// The user fields Tessera holds and this API changes.
    static let writable: Set<String> = ["email", "phoneNumber", "firstName", "lastName", "image", "imageUrl", "settings"]
    /// The user fields the server sets (`GET` returns them; a body may carry them back only
    /// unchanged in meaning, so they are refused rather than ignored).
    static let readOnly: Set<String> = ["id", "userName", "createdAt", "updatedAt", "lastLogIn", "roles", "apiKeys"]
    /// Seed fields held as the user's attributes of the same name, each of its seed type: a
    /// date is an RFC 3339 string, `rank` a number. `GET` answers `null` for one the user has
    /// not set (or holds of another kind); a body sets one with a value of its type and removes
    /// it with `null`.
    static let attributeFields: [String: AttributeKind] = [
        "title": .string, "department": .string, "birthDate": .date, "lastDismissMessages": .date, "rank": .number, "address": .string,
        "postalCode": .string, "region": .string, "city": .string, "country": .string, "countryCode": .string, "mobile": .string,
        "notes": .string, "customerId": .string,
    ]
    /// The members of a setting as `GET` writes them besides `name` and `value`, with the
    /// values a body may carry back (`nil`: `null` only; a type's name: any value of it).
    static let settingEcho: [String: JSONValue?] = [
        "id": nil, "category": nil, "group": nil, "description": nil, "type": .string("string"), "readOnly": .bool(false),
        "userId": .string(""),
    ]

    /// Reads the change from a request body, or says what is wrong with it.
    static func parse(_ body: JSONValue) -> Result<Self, Refusal> {
        guard var fields = body.object else { return .failure(Refusal("The body must be a JSON object of profile fields.")) }
        if fields.count == 1, let user = fields["user"] {
            guard let inner = user.object else { return .failure(Refusal("user must be an object of profile fields.")) }
            fields = inner
        }
        let unknown = fields.keys.filter { !writable.contains($0) && !readOnly.contains($0) && attributeFields[$0] == nil }.sorted()
        guard unknown.isEmpty else { return .failure(Refusal("Unknown field\(unknown.count > 1 ? "s" : ""): \(unknown.joined(separator: ", ")).")) }
        let fixed = fields.keys.filter(readOnly.contains).sorted()
        guard fixed.isEmpty else {
            return .failure(Refusal("\(fixed.joined(separator: ", ")) cannot be changed here (set by the server)."))
        }
        var change = Self()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            guard let kind = attributeFields[name] else { continue }
            switch attribute(value, of: kind) {
            case .success(let attribute?): change.attributes[name] = attribute
            case .success(nil): change.removedAttributes.append(name)
            case .failure(let why): return .failure(Refusal("\(name) \(why.message)"))
            }
        }
        for (name, path) in [("email", \Self.email), ("phoneNumber", \.phoneNumber), ("firstName", \.firstName), ("lastName", \.lastName)] {
            guard let value = fields[name] else { continue }
            guard let text = value.string else { return .failure(Refusal("\(name) must be a string.")) }
            change[keyPath: path] = text
        }
        if fields["image"] != nil && fields["imageUrl"] != nil { return .failure(Refusal("Send image or imageUrl, not both.")) }
        if let value = fields["image"] ?? fields["imageUrl"] {
            guard let text = value.string else { return .failure(Refusal("image must be a string.")) }
            change.image = text
        }
        if let firstName = change.firstName, firstName.contains(" ") {
            return .failure(Refusal("firstName must be one word: Tessera keeps one display name, the first word its first name."))
        }
        if let value = fields["settings"] {
            switch settings(value) {
            case .success(let settings): change.settings = settings
            case .failure(let refusal): return .failure(refusal)
            }
        }
        return .success(change)
    }

    /// The attribute a seed field's JSON value sets, `nil` for `null` (remove it), or why the
    /// value is not of the field's type.
    private static func attribute(_ value: JSONValue, of kind: AttributeKind) -> Result<AttributeValue?, Refusal> {
        let attribute: AttributeValue
        switch (kind, value) {
        case (_, .null): return .success(nil)
        case (.string, .string(let text)): attribute = .string(text)
        case (.number, .integer(let number)): attribute = .number(Double(number))
        case (.number, .double(let number)): attribute = .number(number)
        case (.date, .string(let text)):
            guard let date = try? AttributeValue(parsing: text, as: .date) else {
                return .failure(Refusal("must be an RFC 3339 date-time (1990-05-01T00:00:00Z) or null."))
            }
            attribute = date
        default:
            return .failure(Refusal("must be \(kind == .string ? "a string" : kind == .number ? "a number" : "an RFC 3339 date-time") or null."))
        }
        if let problem = attribute.problem { return .failure(Refusal("cannot be stored: \(problem).")) }
        return .success(attribute)
    }

    /// `settings`: an array of `{name, value}` (or `{key, value}`), each value a string.
    private static func settings(_ value: JSONValue) -> Result<[String: String], Refusal> {
        guard let entries = value.array else { return .failure(Refusal("settings must be an array of {name, value}.")) }
        var settings: [String: String] = [:]
        for entry in entries {
            guard var members = entry.object else { return .failure(Refusal("settings must be an array of {name, value}.")) }
            guard (members["name"] == nil) != (members["key"] == nil),
                let name = (members.removeValue(forKey: "name") ?? members.removeValue(forKey: "key"))?.string,
                let value = members.removeValue(forKey: "value")?.string
            else {
                return .failure(Refusal("Each setting needs a name (or key) and a value, both strings."))
            }
            for (member, given) in members {
                guard let allowed = settingEcho[member] else { return .failure(Refusal("Unknown member of setting \(name): \(member).")) }
                let fits: Bool
                switch allowed {
                case nil: fits = given.isNull
                case .string(let expected)? where expected.isEmpty: fits = given.isNull || given.string != nil
                case let expected?: fits = given.isNull || given == expected
                }
                guard fits else { return .failure(Refusal("Setting \(name): \(member) cannot be set here.")) }
            }
            guard settings.updateValue(value, forKey: name) == nil else { return .failure(Refusal("Setting \(name) is given twice.")) }
        }
        return .success(settings)
    }

    /// Why a body was refused, for a 400 answer.
    struct Refusal: Error, Equatable {
        var message: String
        init(_ message: String) { self.message = message }
    }
}
