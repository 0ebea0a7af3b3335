import Foundation
import NIOCore
import TesseraProtocol

/// The byte-exact examples of `Protocol/vectors/`, with the values they encode.
///
/// Each vector is a whole frame. The tests decode every file and compare with `message`,
/// and encode `message` and compare with the file, byte for byte.
struct TestVector {
    var name: String
    var summary: String
    var opcode: UInt8
    var flags: FrameFlags
    var status: UInt16
    var requestID: UInt32
    var message: any WireMessage
    /// Field names by tag, for the annotated file.
    var fieldNames: [UInt8: String]

    static let token = "AQABKPA0xDi-rphgWEHSgt65fTn3RoKRE4TzTvEPtYEoFe7Wi7yYiNcApyZ1uBBwy4cp"
    static let refreshToken = "AgABkQ2nV7x4Cq9bYt3uKd0mE1sW5oPz8LhJ6fRgA2cN4iU7yT0vB3kX9eD1qZ5wHs8a"
    static let sessionID: [UInt8] = [0x28, 0xf0, 0x34, 0xc4, 0x38, 0xbe, 0xae, 0x98, 0x60, 0x58, 0x41, 0xd2, 0x82, 0xde, 0xb9, 0x7d]
    static let alice = UserInfo(id: 1, username: "alice", email: "alice@example.com", displayName: "Alice",
                                createdAt: 1_767_225_600_000, roles: ["admin"])
    static let userFields: [UInt8: String] = [1: "user"]

    static let all: [TestVector] = [
        TestVector(name: "hello-request", summary: "HELLO, client speaks version 1, names itself", opcode: 0x01, flags: [], status: 0, requestID: 1,
                   message: HelloRequest(protocolVersion: 1, clientName: "web"), fieldNames: [1: "protocol_version", 2: "client_name"]),
        TestVector(name: "hello-response", summary: "HELLO reply: version 1, limits", opcode: 0x01, flags: .response, status: 0, requestID: 1,
                   message: HelloResponse(protocolVersion: 1, serverName: "tesserad/0.1.0", maximumFrameLength: 16384, maximumInFlight: 256),
                   fieldNames: [1: "protocol_version", 2: "server_name", 3: "max_frame_length", 4: "max_in_flight"]),
        TestVector(name: "ping-request", summary: "PING with a 2-byte payload", opcode: 0x02, flags: [], status: 0, requestID: 2,
                   message: PingMessage(payload: [0x68, 0x69]), fieldNames: [1: "payload"]),
        TestVector(name: "ping-response", summary: "PING reply echoing the payload", opcode: 0x02, flags: .response, status: 0, requestID: 2,
                   message: PingMessage(payload: [0x68, 0x69]), fieldNames: [1: "payload"]),
        TestVector(name: "create-user-request", summary: "CREATE_USER alice with email, name and one role", opcode: 0x10, flags: [], status: 0, requestID: 3,
                   message: CreateUserRequest(username: "alice", password: Array("correct horse".utf8), email: "alice@example.com",
                                              displayName: "Alice", roles: ["admin"]),
                   fieldNames: [1: "username", 2: "password", 3: "email", 4: "display_name", 5: "role"]),
        TestVector(name: "create-user-response", summary: "CREATE_USER reply: the user", opcode: 0x10, flags: .response, status: 0, requestID: 3,
                   message: UserResponse(user: alice), fieldNames: userFields),
        TestVector(name: "get-user-request", summary: "GET_USER by username", opcode: 0x11, flags: [], status: 0, requestID: 4,
                   message: GetUserRequest.username("alice"), fieldNames: [2: "username"]),
        TestVector(name: "get-user-response", summary: "GET_USER reply: the user", opcode: 0x11, flags: .response, status: 0, requestID: 4,
                   message: UserResponse(user: alice), fieldNames: userFields),
        TestVector(name: "login-request", summary: "LOGIN by username with client IP and user agent", opcode: 0x20, flags: [], status: 0, requestID: 5,
                   message: LoginRequest(identifier: "alice", password: Array("correct horse".utf8), clientIP: "203.0.113.7", userAgent: "Mozilla/5.0"),
                   fieldNames: [1: "identifier", 2: "password", 3: "client_ip", 4: "user_agent"]),
        TestVector(name: "login-response", summary: "LOGIN reply: token, session id, expiry, user", opcode: 0x20, flags: .response, status: 0, requestID: 5,
                   message: LoginResponse(token: token, sessionID: sessionID, expiresAt: 1_767_312_000_000, user: alice,
                                          refreshToken: refreshToken, refreshExpiresAt: 1_769_817_600_000),
                   fieldNames: [1: "token", 2: "session_id", 3: "expires_at", 4: "user", 5: "refresh_token", 6: "refresh_expires_at"]),
        TestVector(name: "refresh-request", summary: "REFRESH with a refresh token", opcode: 0x23, flags: [], status: 0, requestID: 13,
                   message: RefreshRequest(refreshToken: refreshToken), fieldNames: [1: "refresh_token"]),
        TestVector(name: "refresh-error-reused", summary: "REFRESH refused: status 8 refresh-reused", opcode: 0x23, flags: .response, status: 8, requestID: 13,
                   message: ErrorBody(name: "refresh-reused", message: "this refresh token was already used; every session it led to has been revoked",
                                      traceID: "c0ffee00deadbeef"),
                   fieldNames: [1: "name", 2: "message", 3: "trace_id"]),
        TestVector(name: "login-error-bad-credentials", summary: "LOGIN failed: status 1 bad-credentials", opcode: 0x20, flags: .response, status: 1, requestID: 5,
                   message: ErrorBody(name: "bad-credentials", message: "the username or password is wrong", traceID: "9f2c4e1a0b3d5f67"),
                   fieldNames: [1: "name", 2: "message", 3: "trace_id"]),
        TestVector(name: "verify-request", summary: "VERIFY a token", opcode: 0x21, flags: [], status: 0, requestID: 6,
                   message: TokenRequest(token: token), fieldNames: [1: "token"]),
        TestVector(name: "verify-response", summary: "VERIFY reply: user 1, session, expiry, role admin", opcode: 0x21, flags: .response, status: 0, requestID: 6,
                   message: VerifyResponse(userID: 1, sessionID: sessionID, expiresAt: 1_767_312_000_000, roles: ["admin"]),
                   fieldNames: [1: "user_id", 2: "session_id", 3: "expires_at", 4: "role"]),
        TestVector(name: "verify-with-user-request", summary: "VERIFY asking for the user too (resume)", opcode: 0x21, flags: [], status: 0, requestID: 18,
                   message: VerifyRequest(token: token, withUser: true), fieldNames: [1: "token", 2: "with_user"]),
        TestVector(name: "verify-with-user-response", summary: "VERIFY reply with the user", opcode: 0x21, flags: .response, status: 0, requestID: 18,
                   message: VerifyResponse(userID: 1, sessionID: sessionID, expiresAt: 1_767_312_000_000, roles: ["admin"], user: alice),
                   fieldNames: [1: "user_id", 2: "session_id", 3: "expires_at", 4: "role", 5: "user"]),
        TestVector(name: "verify-error-token-expired", summary: "VERIFY failed: status 5 token-expired", opcode: 0x21, flags: .response, status: 5, requestID: 6,
                   message: ErrorBody(name: "token-expired", message: "the token has expired; log in again", traceID: "0123456789abcdef"),
                   fieldNames: [1: "name", 2: "message", 3: "trace_id"]),
        TestVector(name: "logout-request", summary: "LOGOUT a token", opcode: 0x22, flags: [], status: 0, requestID: 7,
                   message: TokenRequest(token: token), fieldNames: [1: "token"]),
        TestVector(name: "logout-response", summary: "LOGOUT reply: empty body", opcode: 0x22, flags: .response, status: 0, requestID: 7,
                   message: EmptyMessage(), fieldNames: [:]),
        TestVector(name: "login-error-locked", summary: "LOGIN refused: status 4 locked, retry after 30 s", opcode: 0x20, flags: .response, status: 4, requestID: 5,
                   message: ErrorBody(name: "locked", message: "too many failed logins; retry in 30 s", traceID: "5e1f0c7a9b2d4e68", retryAfterSeconds: 30),
                   fieldNames: [1: "name", 2: "message", 3: "trace_id", 4: "retry_after_seconds"]),
        TestVector(name: "set-user-state-request", summary: "SET_USER_STATE alice to disabled (2)", opcode: 0x12, flags: [], status: 0, requestID: 8,
                   message: SetUserStateRequest(user: .username("alice"), state: 2), fieldNames: [2: "username", 4: "state"]),
        TestVector(name: "set-user-state-response", summary: "SET_USER_STATE reply: the user, state 2", opcode: 0x12, flags: .response, status: 0, requestID: 8,
                   message: UserResponse(user: UserInfo(id: 1, username: "alice", createdAt: 1_767_225_600_000, state: 2)), fieldNames: userFields),
        TestVector(name: "unlock-user-request", summary: "UNLOCK_USER by id", opcode: 0x13, flags: [], status: 0, requestID: 9,
                   message: GetUserRequest.id(1), fieldNames: [1: "id"]),
        TestVector(name: "list-sessions-request", summary: "LIST_SESSIONS of alice", opcode: 0x30, flags: [], status: 0, requestID: 10,
                   message: GetUserRequest.username("alice"), fieldNames: [2: "username"]),
        TestVector(name: "list-sessions-response", summary: "LIST_SESSIONS reply: one session", opcode: 0x30, flags: .response, status: 0, requestID: 10,
                   message: SessionListResponse(sessions: [SessionInfo(sessionID: sessionID, createdAt: 1_767_225_600_000, expiresAt: 1_767_312_000_000,
                                                                       clientIP: "203.0.113.7", userAgent: "Mozilla/5.0")]),
                   fieldNames: [1: "session"]),
        TestVector(name: "revoke-session-request", summary: "REVOKE_SESSION by session id", opcode: 0x31, flags: [], status: 0, requestID: 11,
                   message: SessionIDRequest(sessionID: sessionID), fieldNames: [1: "session_id"]),
        TestVector(name: "revoke-all-sessions-request", summary: "REVOKE_ALL_SESSIONS of alice except one", opcode: 0x32, flags: [], status: 0, requestID: 12,
                   message: RevokeAllSessionsRequest(user: .username("alice"), exceptSessionID: sessionID), fieldNames: [2: "username", 4: "except_session_id"]),
        TestVector(name: "revoke-all-sessions-response", summary: "REVOKE_ALL_SESSIONS reply: 2 sessions ended", opcode: 0x32, flags: .response, status: 0, requestID: 12,
                   message: CountResponse(count: 2), fieldNames: [1: "count"]),
        TestVector(name: "change-password-request", summary: "CHANGE_PASSWORD with the session token", opcode: 0x15, flags: [], status: 0, requestID: 14,
                   message: ChangePasswordRequest(token: token, currentPassword: Array("correct horse".utf8), newPassword: Array("battery staple".utf8)),
                   fieldNames: [1: "token", 2: "current_password", 3: "new_password"]),
        TestVector(name: "set-password-request", summary: "SET_PASSWORD of alice", opcode: 0x16, flags: [], status: 0, requestID: 15,
                   message: SetPasswordRequest(user: .username("alice"), password: Array("battery staple".utf8)), fieldNames: [2: "username", 4: "password"]),
        TestVector(name: "delete-user-request", summary: "DELETE_USER by email", opcode: 0x17, flags: [], status: 0, requestID: 16,
                   message: GetUserRequest.email("alice@example.com"), fieldNames: [3: "email"]),
        TestVector(name: "list-users-request", summary: "LIST_USERS after id 0, 2 per page", opcode: 0x18, flags: [], status: 0, requestID: 17,
                   message: ListUsersRequest(afterID: 0, limit: 2), fieldNames: [2: "limit"]),
        TestVector(name: "list-users-response", summary: "LIST_USERS reply: one user, no more pages", opcode: 0x18, flags: .response, status: 0, requestID: 17,
                   message: UserListResponse(users: [UserInfo(id: 1, username: "alice", createdAt: 1_767_225_600_000, state: 0)], nextAfterID: nil),
                   fieldNames: [1: "user", 2: "next_after_id"]),
        TestVector(name: "update-user-request", summary: "UPDATE_USER alice: new email, phone cleared, roles replaced", opcode: 0x14, flags: [], status: 0, requestID: 19,
                   message: UpdateUserRequest(user: .username("alice"), email: "alice@example.org", profile: ProfileFields(phone: ""), roles: ["admin", "billing"]),
                   fieldNames: [2: "username", 20: "email", 22: "phone", 27: "role", 28: "replace_roles"]),
        TestVector(name: "validate-request", summary: "VALIDATE with a code", opcode: 0x19, flags: [], status: 0, requestID: 20,
                   message: ValidateRequest(code: "q2Jq8x1v0Zb7Yw3Ck5Lm9Np4Rs6Tu0Vw2Xy4Za6Bc8D"), fieldNames: [1: "code"]),
        TestVector(name: "login-error-not-validated", summary: "LOGIN refused: status 2 account-not-validated, with a fresh code", opcode: 0x20,
                   flags: .response, status: 2, requestID: 5,
                   message: ErrorBody(name: "account-not-validated", message: "the account has not been validated yet", traceID: "1a2b3c4d5e6f7081",
                                      validationCode: "q2Jq8x1v0Zb7Yw3Ck5Lm9Np4Rs6Tu0Vw2Xy4Za6Bc8D"),
                   fieldNames: [1: "name", 2: "message", 3: "trace_id", 5: "validation_code"]),
        TestVector(name: "get-user-response-full", summary: "GET_USER reply with every profile field", opcode: 0x11, flags: .response, status: 0, requestID: 21,
                   message: UserResponse(user: {
                       var user = UserInfo(id: 2, username: "svc-billing", email: "billing@example.com", displayName: "Billing", createdAt: 1_767_225_600_000,
                                           roles: ["service"], state: 0)
                       user.phone = "+33612345678"
                       user.imageURL = "https://example.com/b.png"
                       user.accountType = 1
                       user.rootRole = "Viewer"
                       user.externalID = "scim-42"
                       user.updatedAt = 1_767_225_700_000
                       user.lastLoginAt = 1_767_225_800_000
                       user.failedLogins = 0
                       user.settings = ["theme": "dark"]
                       return user
                   }()), fieldNames: userFields),
        TestVector(name: "error-frame-too-large", summary: "connection-level error: frame-too-large, request id 0, closing", opcode: 0x00,
                   flags: [.response, .closing], status: 16, requestID: 0,
                   message: ErrorBody(name: "frame-too-large", message: "frame length 16385 exceeds the maximum of 16384 bytes", traceID: "00000000000000aa"),
                   fieldNames: [1: "name", 2: "message", 3: "trace_id"]),
    ]

    /// The whole frame.
    var bytes: [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeFrame(opcode: opcode, flags: flags, status: status, requestID: requestID) { message.encode(into: &$0) }
        return Array(buffer.readableBytesView)
    }

    /// Decodes `body` as this vector's message type.
    func decodeMessage(_ body: ByteBuffer) throws -> any WireMessage {
        try type(of: message).init(decoding: body)
    }

    /// The annotated hex file: header bytes, then one line per top-level field.
    var annotatedFile: String {
        let bytes = self.bytes
        func hex(_ slice: ArraySlice<UInt8>) -> String { slice.map { String(format: "%02x", $0) }.joined(separator: " ") }
        var lines = ["# \(name): \(summary)", "# \(bytes.count) bytes"]
        lines.append("\(hex(bytes[0..<4]))  # length = \(bytes.count - 4)")
        lines.append("\(hex(bytes[4..<5]))  # opcode 0x\(String(format: "%02x", opcode))")
        lines.append("\(hex(bytes[5..<6]))  # flags\(flags.contains(.response) ? " RESPONSE" : "")\(flags.contains(.closing) ? " CLOSING" : "")")
        lines.append("\(hex(bytes[6..<8]))  # status \(status)")
        lines.append("\(hex(bytes[8..<12]))  # request id \(requestID)")
        var offset = 12
        while offset < bytes.count {
            let tag = bytes[offset]
            let length = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            let end = offset + 3 + length
            lines.append("\(hex(bytes[offset..<offset + 3]))  # field \(tag) \(fieldNames[tag] ?? "?"), \(length) bytes")
            var chunk = offset + 3
            while chunk < end {
                let next = min(chunk + 16, end)
                lines.append("  \(hex(bytes[chunk..<next]))")
                chunk = next
            }
            offset = end
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses an annotated hex file: `#` starts a comment, whitespace separates bytes.
    static func parse(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let code = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for word in code.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
                out.append(UInt8(word, radix: 16)!)
            }
        }
        return out
    }
}
