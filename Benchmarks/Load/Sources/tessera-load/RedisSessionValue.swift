/// What Redis holds per session in the comparison: the information Tessera returns on VERIFY
/// and shows in LIST_SESSIONS (user id, session, expiry, roles, created, last seen, IP, user
/// agent), as a team would store it, one JSON value per `session:<token>` key. The session
/// field is the token's first 32 characters, so each reply can be checked against its key.
enum RedisSessionValue {
    static let prefix = Array(#"{"user_id":1,"session":""#.utf8)
    static let suffix =
        Array(#"","expires_at":1767312000000,"created_at":1767225600000,"last_seen":1767225600000,"roles":["bench"],"#.utf8)
        + Array(#""ip":"203.0.113.7","user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}"#.utf8)
    static let sessionLength = 32
    static let length = prefix.count + sessionLength + suffix.count

    /// The value stored for `token`.
    static func value(for token: Substring) -> String {
        String(decoding: prefix, as: UTF8.self) + token.prefix(sessionLength) + String(decoding: suffix, as: UTF8.self)
    }

    /// Whether `bytes` is the value stored for `token` (compared in place, nothing built).
    static func matches(_ bytes: some Collection<UInt8>, token: String) -> Bool {
        guard bytes.count == length else { return false }
        var index = bytes.startIndex
        for byte in prefix {
            guard bytes[index] == byte else { return false }
            index = bytes.index(after: index)
        }
        for byte in token.utf8.prefix(sessionLength) {
            guard bytes[index] == byte else { return false }
            index = bytes.index(after: index)
        }
        for byte in suffix {
            guard bytes[index] == byte else { return false }
            index = bytes.index(after: index)
        }
        return true
    }
}
