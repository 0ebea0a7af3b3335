import TesseraModel
import TesseraProtocol

extension TestVector {
    static func request(_ name: String, _ summary: String, _ opcode: Opcode, id: UInt32, _ message: any SchemaMessage) -> TestVector {
        TestVector(name: name, summary: summary, opcode: opcode.rawValue, flags: [], status: 0, requestID: id, message: message)
    }

    static func reply(_ name: String, _ summary: String, _ opcode: Opcode, id: UInt32, _ message: any SchemaMessage) -> TestVector {
        TestVector(name: name, summary: summary, opcode: opcode.rawValue, flags: .response, status: 0, requestID: id, message: message)
    }

    static func error(
        _ name: String, _ summary: String, opcode: UInt8, id: UInt32, _ status: Status, _ message: String, trace: String,
        retryAfter: UInt32? = nil, closing: Bool = false
    ) -> TestVector {
        TestVector(
            name: name, summary: summary, opcode: opcode, flags: closing ? [.response, .closing] : .response, status: status.rawValue,
            requestID: id,
            message: ErrorBody(name: status.name, message: message, traceID: trace, retryAfterSeconds: retryAfter))
    }

    static let code = "q2Jq8x1v0Zb7Yw3Ck5Lm9Np4Rs6Tu0Vw2Xy4Za6Bc8D"
    static let twoFactorSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    static let apiKey = "tsk_AwABAZt22qgAaj8MjiHZS35fA-5F_Xg9amecB7PGgIAAZENp1e8eAqvW2Le7indKYTvR"
    static let apiKeyID: [UInt8] = [0x01, 0x9b, 0x76, 0xda, 0xa8, 0x00, 0x6a, 0x3f, 0x0c, 0x8e, 0x21, 0xd9, 0x4b, 0x7e, 0x5f, 0x03]
    static let apiKeyInfo = APIKeyInfo(
        keyID: apiKeyID, name: "ci deploy", prefix: "tsk_AwABAZt2", createdAt: 1_767_225_600_000, expiresAt: 1_769_817_600_000,
        permissions: ["admin"])
    static let recoveryCodes = [
        "k4mq-7tzp-a2xe", "b6wn-3rvd-q7ks", "m2ht-x5ca-7dfe", "z7qp-4ngw-e3rb", "c5vk-6ysm-t2ha",
        "r3dj-6wqx-n5pz", "f3eb-2kta-w4mc", "h4sx-7pzr-b6qn", "u2ym-5dcv-k6tf", "w6ga-3hqe-s7xj",
    ]
    static let newToken = "AQABAZt3EZaASx4HyT-i1lGODAAB3kX9eD1qZ5wHs8aAgABkQ2nV7x4Cq9bYt3uKd0mE"
    static let newRefreshToken = "AgABAZt3EZaAnSxvgOFbN6TC0QAC1sW5oPz8LhJ6fRgA2cN4iU7yT0vB3kX9eD1qZ5wH"
    static let newSessionID: [UInt8] = [0x01, 0x9b, 0x77, 0x11, 0x96, 0x80, 0x4b, 0x1e, 0x07, 0xc9, 0x3f, 0xa2, 0xd6, 0x51, 0x8e, 0x0c]

    /// Every vector, in the order of `Protocol/PROTOCOL.md`.
    public static let all: [TestVector] = [
        // HELLO, PING
        request("hello-request", "HELLO, client speaks version 1, names itself", .hello, id: 1, HelloRequest(protocolVersion: 1, clientName: "web")),
        reply(
            "hello-response", "HELLO reply: version 1, limits", .hello, id: 1,
            HelloResponse(protocolVersion: 1, serverName: "tesserad/0.1.0", maximumFrameLength: 16384, maximumInFlight: 256, maximumQueuedHashes: 64)),
        error(
            "hello-error-unsupported-version", "HELLO refused: status 18 unsupported-version (client speaks version 0)", opcode: 0x01, id: 1,
            .unsupportedVersion, "this server speaks protocol version 1", trace: "77aa00bb11cc22dd"),
        request("ping-request", "PING with a 2-byte payload", .ping, id: 2, PingMessage(payload: [0x68, 0x69])),
        reply("ping-response", "PING reply echoing the payload", .ping, id: 2, PingMessage(payload: [0x68, 0x69])),
        reply("ping-response-empty", "PING reply to a PING without payload: empty body", .ping, id: 2, PingMessage()),
        // Users
        request(
            "create-user-request", "CREATE_USER alice with email, name and one role", .createUser, id: 3,
            CreateUserRequest(
                username: "alice", password: Array("correct horse".utf8), email: "alice@example.com", displayName: "Alice",
                roles: ["admin"])),
        reply("create-user-response", "CREATE_USER reply: the user", .createUser, id: 3, UserResponse(user: alice)),
        request(
            "create-user-unvalidated-request", "CREATE_USER bob, unvalidated", .createUser, id: 22,
            CreateUserRequest(username: "bob", password: Array("correct horse".utf8), unvalidated: true)),
        reply(
            "create-user-unvalidated-response", "CREATE_USER reply: the user (state 1), its validation code and the code's expiry",
            .createUser, id: 22,
            UserResponse(
                user: UserInfo(id: 3, username: "bob", createdAt: 1_767_225_600_000, state: 1), validationCode: code,
                validationExpiresAt: 1_767_312_000_000)),
        error(
            "create-user-error-already-registered",
            "CREATE_USER from an application refused: status 22 already-registered (the email is another account's; nothing created)",
            opcode: 0x10, id: 24, .alreadyRegistered, "the email or phone is already registered; tell its owner, not the sign-up",
            trace: "a1e0000000000022"),
        request("get-user-request", "GET_USER by username", .getUser, id: 4, UserSelector.username("alice")),
        request(
            "get-user-self-request", "GET_USER of the user of a session token (self-service)", .getUser, id: 24,
            UserSelector.sessionToken(token)),
        reply("get-user-response", "GET_USER reply: the user", .getUser, id: 4, UserResponse(user: alice)),
        reply(
            "get-user-response-full", "GET_USER reply with every profile field", .getUser, id: 21,
            UserResponse(
                user: {
                    var user = UserInfo(
                        id: 2, username: "svc-billing", email: "billing@example.com", displayName: "Billing", createdAt: 1_767_225_600_000,
                        roles: ["service"], state: 0, updatedAt: 1_767_225_700_000)
                    user.phone = "+33612345678"
                    user.imageURL = "https://example.com/b.png"
                    user.accountType = 1
                    user.rootRole = "Viewer"
                    user.externalID = "scim-42"
                    user.lastLoginAt = 1_767_225_800_000
                    user.failedLogins = 0
                    user.settings = ["theme": "dark"]
                    user.attributes = [
                        "birthDate": .date(milliseconds: 641_520_000_000), "newsletter": .bool(true), "rank": .number(3.5), "title": .string("Dr"),
                    ]
                    return user
                }())),
        error(
            "get-user-error-not-found", "GET_USER failed: status 9 not-found", opcode: 0x11, id: 4, .notFound, "no such user",
            trace: "4d3c2b1a00ff00ee"),
        request(
            "set-user-state-request", "SET_USER_STATE alice to disabled (2)", .setUserState, id: 8,
            SetUserStateRequest(user: .username("alice"), state: 2)),
        reply(
            "set-user-state-response", "SET_USER_STATE reply: the user, state 2", .setUserState, id: 8,
            UserResponse(user: UserInfo(id: 1, username: "alice", createdAt: 1_767_225_600_000, state: 2, updatedAt: 1_767_225_900_000))),
        request("unlock-user-request", "UNLOCK_USER by id", .unlockUser, id: 9, UserSelector.id(1)),
        reply("unlock-user-response", "UNLOCK_USER reply: empty body", .unlockUser, id: 9, EmptyMessage()),
        request(
            "update-user-request", "UPDATE_USER alice: new email, phone cleared, roles replaced", .updateUser, id: 19,
            UpdateUserRequest(user: .username("alice"), changes: ProfileFields(email: "alice@example.org", phone: ""), roles: ["admin", "billing"])),
        reply(
            "update-user-response", "UPDATE_USER reply: the changed user", .updateUser, id: 19,
            UserResponse(
                user: UserInfo(
                    id: 1, username: "alice", email: "alice@example.org", displayName: "Alice", createdAt: 1_767_225_600_000,
                    roles: ["admin", "billing"], updatedAt: 1_767_226_000_000))),
        request(
            "update-user-attributes-request",
            "UPDATE_USER alice: title set to \"Dr\", birthDate to 1990-05-01 (641520000000), notes removed", .updateUser, id: 45,
            UpdateUserRequest(
                user: .username("alice"),
                changes: ProfileFields(attributes: ["birthDate": .date(milliseconds: 641_520_000_000), "title": .string("Dr")]),
                removingAttributes: ["notes"])),
        reply(
            "update-user-attributes-response", "UPDATE_USER reply: the user with its attributes, in name order", .updateUser, id: 45,
            UserResponse(
                user: {
                    var user = UserInfo(id: 1, username: "alice", createdAt: 1_767_225_600_000, updatedAt: 1_767_226_100_000)
                    user.attributes = ["birthDate": .date(milliseconds: 641_520_000_000), "rank": .number(3), "title": .string("Dr")]
                    return user
                }())),
        request(
            "change-password-request", "CHANGE_PASSWORD with the session token", .changePassword, id: 14,
            ChangePasswordRequest(token: token, currentPassword: Array("correct horse".utf8), newPassword: Array("battery staple".utf8))),
        reply("change-password-response", "CHANGE_PASSWORD reply: empty body", .changePassword, id: 14, EmptyMessage()),
        request(
            "set-password-request", "SET_PASSWORD of alice", .setPassword, id: 15,
            SetPasswordRequest(user: .username("alice"), password: Array("battery staple".utf8))),
        reply(
            "set-password-response", "SET_PASSWORD reply: 3 sessions and 1 API key ended", .setPassword, id: 15,
            SetPasswordResponse(sessions: 3, apiKeys: 1)),
        request("delete-user-request", "DELETE_USER by email", .deleteUser, id: 16, UserSelector.email("alice@example.com")),
        reply("delete-user-response", "DELETE_USER reply: empty body", .deleteUser, id: 16, EmptyMessage()),
        request("list-users-request", "LIST_USERS after id 0, 2 per page", .listUsers, id: 17, ListUsersRequest(afterID: 0, limit: 2)),
        reply(
            "list-users-response", "LIST_USERS reply: one user, no more pages", .listUsers, id: 17,
            UserListResponse(users: [UserInfo(id: 1, username: "alice", createdAt: 1_767_225_600_000)], nextAfterID: nil)),
        request(
            "import-users-request",
            "IMPORT_USERS: one user with a bcrypt hash (of \"ada pass\"), its external id and role, at position 1 of a source",
            .importUsers, id: 24,
            ImportUsersRequest(
                users: [
                    ImportedUserMessage(
                        username: "ada", profile: ProfileFields(email: "ada@example.com", roles: ["admin"], externalID: "42"),
                        createdAt: 1_672_628_645_000, passwordHash: "$2b$10$abcdefghijklmnopqrstuu42Ae1vUP7OpJk.vV7mDBxzxoyRJ2PtG")
                ], source: "users:1f00:120", position: 1)),
        request(
            "import-users-request-tokens",
            "IMPORT_USERS: one user with a login token (SHA-256 of \"kJ3bq9Zr0xWcPmE5vTnY7uLs2AaDfGhQ1iOoRtUyV8w\"), a personal access token (of \"pat-4cE2r9XbN6mQ0zLk8YwT3vJs5HdGf7Ua1ZpRqWx\") and a TOTP secret with one backup code (of \"a1b2c3d4\")",
            .importUsers, id: 27,
            ImportUsersRequest(users: [
                ImportedUserMessage(
                    username: "ada", profile: ProfileFields(externalID: "aXb3Kq"), createdAt: 1_672_628_645_000,
                    totpSecret: Array("12345678901234567890".utf8),
                    sessions: [
                        ImportedSessionMessage(
                            tokenSHA256: [
                                0x49, 0xf0, 0xe2, 0xbb, 0xc6, 0x59, 0xb8, 0x20, 0x7d, 0x13, 0xfa, 0xd5, 0x92, 0xec, 0x6e, 0xde, 0x5f, 0xb5, 0xdc,
                                0x41, 0xbb, 0xe9, 0xc3, 0x8b, 0x02, 0x57, 0x76, 0xdd, 0x38, 0x77, 0x54, 0xee,
                            ],
                            createdAt: 1_767_225_600_000, expiresAt: 1_774_998_000_000)
                    ],
                    apiKeys: [
                        ImportedAPIKeyMessage(
                            tokenSHA256: [
                                0x9e, 0x4b, 0xd6, 0x29, 0x7e, 0xb9, 0x31, 0xbc, 0x5a, 0x85, 0xb9, 0xea, 0x49, 0x56, 0xb3, 0x13, 0xd7, 0xd4, 0x6f,
                                0xec, 0x5b, 0x36, 0x4c, 0xbd, 0x0a, 0xf9, 0x98, 0xad, 0xdd, 0xc4, 0xca, 0x3a,
                            ],
                            name: "ci", createdAt: 1_767_225_600_000)
                    ],
                    recoveryCodeSHA256: [
                        0x7d, 0xcf, 0x40, 0x7f, 0xa8, 0x4a, 0x0e, 0x05, 0x19, 0xc7, 0x99, 0x11, 0x54, 0xc4, 0x14, 0x8d, 0xe0, 0x24, 0x4d, 0x75, 0x89,
                        0x02, 0x0c, 0x0d, 0x98, 0x42, 0xdb, 0x9e, 0xfa, 0xd8, 0x20, 0x94,
                    ])
            ])),
        reply(
            "import-users-response-tokens", "IMPORT_USERS reply: one created, with one session and one API key", .importUsers, id: 27,
            ImportUsersResponse(created: 1, unchanged: 0, rejected: [], position: 0, sessions: 1, apiKeys: 1)),
        reply(
            "import-users-response", "IMPORT_USERS reply: one created, none unchanged, none rejected, position 1 kept", .importUsers, id: 24,
            ImportUsersResponse(created: 1, unchanged: 0, rejected: [], position: 1)),
        reply(
            "import-users-response-rejected", "IMPORT_USERS reply: record 0 rejected (a hash of no known scheme)", .importUsers, id: 25,
            ImportUsersResponse(
                created: 0, unchanged: 0,
                rejected: [ImportRejection(index: 0, reason: "password_hash is of no scheme Tessera checks (method \"$1$\")")], position: 0)),
        request(
            "export-users-request", "EXPORT_USERS: the first 2 users, without two-factor secrets", .exportUsers, id: 26,
            ExportUsersRequest(afterID: 0, limit: 2)),
        reply(
            "export-users-response", "EXPORT_USERS reply: one user with its argon2id hash (of \"ada pass\"), no more pages", .exportUsers, id: 26,
            ExportUsersResponse(
                users: [
                    ImportedUserMessage(
                        username: "ada", profile: ProfileFields(externalID: "42"), createdAt: 1_672_628_645_000,
                        passwordHash: "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$AumWFuIDQ71Coeru5WJShwJkIf576zsEgGG17MvJSFs")
                ], nextAfterID: nil)),
        request("validate-request", "VALIDATE with a code", .validate, id: 20, ValidateRequest(code: code)),
        reply(
            "validate-response", "VALIDATE reply: the user, now active", .validate, id: 20,
            UserResponse(user: UserInfo(id: 3, username: "bob", createdAt: 1_767_225_600_000, state: 0, updatedAt: 1_767_226_100_000))),
        error(
            "validate-error-token-expired", "VALIDATE failed: status 5 token-expired (the code is past its expiry)", opcode: 0x19, id: 20,
            .tokenExpired, "the token has expired; log in again", trace: "5e6f70811a2b3c4d"),
        request(
            "new-validation-code-request", "NEW_VALIDATION_CODE for bob", .newValidationCode, id: 23,
            UserSelector.username("bob")),
        reply(
            "new-validation-code-response", "NEW_VALIDATION_CODE reply: the user, a fresh code and its expiry", .newValidationCode, id: 23,
            UserResponse(
                user: UserInfo(id: 3, username: "bob", createdAt: 1_767_225_600_000, state: 1, updatedAt: 1_767_300_000_000),
                validationCode: code, validationExpiresAt: 1_767_386_400_000)),
        // Sessions
        request(
            "login-request", "LOGIN by username with client IP and user agent", .login, id: 5,
            LoginRequest(identifier: "alice", password: Array("correct horse".utf8), clientIP: "203.0.113.7", userAgent: "Mozilla/5.0")),
        reply(
            "login-response", "LOGIN reply: token, session id, expiry, user, refresh token", .login, id: 5,
            LoginResponse(
                token: token, sessionID: sessionID, expiresAt: 1_767_312_000_000, user: alice, refreshToken: refreshToken,
                refreshExpiresAt: 1_769_817_600_000)),
        error(
            "login-error-bad-credentials", "LOGIN failed: status 1 bad-credentials", opcode: 0x20, id: 5, .badCredentials,
            "the username or password is wrong", trace: "9f2c4e1a0b3d5f67"),
        error(
            "login-error-locked", "LOGIN refused: status 4 locked, retry after 30 s", opcode: 0x20, id: 5, .locked,
            "too many failed logins; retry in 30 s", trace: "5e1f0c7a9b2d4e68", retryAfter: 30),
        error(
            "login-error-not-validated", "LOGIN refused: status 2 account-not-validated (the password was right)", opcode: 0x20, id: 5,
            .accountNotValidated, "the account has not been validated yet", trace: "1a2b3c4d5e6f7081"),
        error(
            "login-error-busy", "LOGIN refused: status 12 busy, retry after 1 s", opcode: 0x20, id: 5, .busy,
            "too many requests in flight on this connection", trace: "0badc0de0badc0de", retryAfter: 1),
        error(
            "login-error-2fa-required", "LOGIN refused: status 20 2fa-required (the password was right; the user has two-factor login)",
            opcode: 0x20, id: 5, .twoFactorRequired, "a two-factor code is required", trace: "2fa0000000000001"),
        request(
            "login-digest-request", "LOGIN with the password's SHA-256 hex (of \"correct horse\"), flag password_sha256_hex", .login, id: 5,
            {
                var login = LoginRequest(
                    identifier: "alice", password: Array("4104d36f8da2c254349f85836793ebe029e0c957063a34c91c2e9203187b5631".utf8))
                login.passwordIsSHA256Hex = true
                return login
            }()),
        request(
            "login-code-request", "LOGIN with a TOTP code", .login, id: 5,
            {
                var login = LoginRequest(identifier: "alice", password: Array("correct horse".utf8))
                login.code = "492039"
                return login
            }()),
        request(
            "login-recovery-code-request", "LOGIN with a recovery code", .login, id: 5,
            {
                var login = LoginRequest(identifier: "alice", password: Array("correct horse".utf8))
                login.recoveryCode = "k4mq-7tzp-a2xe"
                return login
            }()),
        reply(
            "login-recovery-code-response", "LOGIN reply after a recovery code: 9 codes left", .login, id: 5,
            {
                var reply = LoginResponse(
                    token: token, sessionID: sessionID, expiresAt: 1_767_312_000_000, user: alice, refreshToken: refreshToken,
                    refreshExpiresAt: 1_769_817_600_000)
                reply.recoveryCodesLeft = 9
                return reply
            }()),
        error(
            "login-error-2fa-invalid", "LOGIN refused: status 21 2fa-invalid (a wrong or used code; counted as a failed login)",
            opcode: 0x20, id: 5, .twoFactorInvalid, "the two-factor code is not valid", trace: "2fa0000000000002"),
        request("verify-request", "VERIFY a token", .verify, id: 6, VerifyRequest(token: token)),
        reply(
            "verify-response", "VERIFY reply: user 1, session, expiry, role admin", .verify, id: 6,
            VerifyResponse(userID: 1, sessionID: sessionID, expiresAt: 1_767_312_000_000, roles: ["admin"])),
        request("verify-with-user-request", "VERIFY asking for the user too (resume)", .verify, id: 18, VerifyRequest(token: token, withUser: true)),
        reply(
            "verify-with-user-response", "VERIFY reply with the user", .verify, id: 18,
            VerifyResponse(userID: 1, sessionID: sessionID, expiresAt: 1_767_312_000_000, roles: ["admin"], user: alice)),
        request(
            "verify-with-api-keys-request", "VERIFY asking for the user and the user's API keys (GET /v1/auth/user)", .verify, id: 19,
            VerifyRequest(token: token, withUser: true, withAPIKeys: true)),
        reply(
            "verify-with-api-keys-response", "VERIFY reply with the user and the user's one API key", .verify, id: 19,
            VerifyResponse(
                userID: 1, sessionID: sessionID, expiresAt: 1_767_312_000_000, roles: ["admin"], user: alice, apiKeys: [apiKeyInfo])),
        error(
            "verify-error-token-expired", "VERIFY failed: status 5 token-expired", opcode: 0x21, id: 6, .tokenExpired,
            "the token has expired; log in again", trace: "0123456789abcdef"),
        error(
            "verify-error-invalid-argument", "VERIFY failed: status 11 invalid-argument (no token field)", opcode: 0x21, id: 6,
            .invalidArgument, "required field token is missing", trace: "fedcba9876543210"),
        request("logout-request", "LOGOUT a token", .logout, id: 7, TokenRequest(token: token)),
        reply("logout-response", "LOGOUT reply: empty body", .logout, id: 7, EmptyMessage()),
        request("refresh-request", "REFRESH with a refresh token", .refresh, id: 13, RefreshRequest(refreshToken: refreshToken)),
        reply(
            "refresh-response", "REFRESH reply: a new token pair; the refresh expiry is the family's, unchanged", .refresh, id: 13,
            LoginResponse(
                token: newToken, sessionID: newSessionID, expiresAt: 1_767_315_600_000, user: alice, refreshToken: newRefreshToken,
                refreshExpiresAt: 1_769_817_600_000)),
        error(
            "refresh-error-reused", "REFRESH refused: status 8 refresh-reused", opcode: 0x23, id: 13, .refreshReused,
            "this refresh token was already used; every session it led to has been revoked", trace: "c0ffee00deadbeef"),
        request(
            "list-sessions-request", "LIST_SESSIONS of alice, the first page (100)", .listSessions, id: 10,
            ListSessionsRequest(user: .username("alice"))),
        request(
            "list-sessions-page-request", "LIST_SESSIONS of alice after a session id, 2 per page", .listSessions, id: 26,
            ListSessionsRequest(user: .username("alice"), afterSessionID: sessionID, limit: 2)),
        reply(
            "list-sessions-response", "LIST_SESSIONS reply: one session", .listSessions, id: 10,
            SessionListResponse(sessions: [
                SessionInfo(
                    sessionID: sessionID, createdAt: 1_767_225_600_000, expiresAt: 1_767_312_000_000,
                    clientIP: "203.0.113.7", userAgent: "Mozilla/5.0")
            ])),
        reply(
            "list-sessions-page-response", "LIST_SESSIONS reply: a full page of one (limit 1), more may follow", .listSessions,
            id: 26,
            SessionListResponse(
                sessions: [SessionInfo(sessionID: newSessionID, createdAt: 1_767_229_200_000, expiresAt: 1_767_315_600_000)],
                nextAfterSessionID: newSessionID)),
        request("revoke-session-request", "REVOKE_SESSION by session id", .revokeSession, id: 11, SessionIDRequest(sessionID: sessionID)),
        request(
            "revoke-session-self-request", "REVOKE_SESSION of another session of the token's user (self-service)", .revokeSession,
            id: 25, SessionIDRequest(sessionID: newSessionID, sessionToken: token)),
        reply("revoke-session-response", "REVOKE_SESSION reply: empty body", .revokeSession, id: 11, EmptyMessage()),
        request(
            "revoke-all-sessions-request", "REVOKE_ALL_SESSIONS of alice except one", .revokeAllSessions, id: 12,
            RevokeAllSessionsRequest(user: .username("alice"), exceptSessionID: sessionID)),
        reply(
            "revoke-all-sessions-response", "REVOKE_ALL_SESSIONS reply: 2 sessions and 1 API key ended", .revokeAllSessions, id: 12,
            RevokeAllSessionsResponse(count: 2, apiKeys: 1)),
        // Keys
        request("list-keys-request", "LIST_KEYS: an empty body", .listKeys, id: 30, EmptyMessage()),
        reply(
            "list-keys-response", "LIST_KEYS reply: key 1 verify-only until its retirement, key 2 active", .listKeys, id: 30,
            KeyListResponse(keys: [
                KeyInfo(
                    id: 1, state: 2, createdAt: 1_767_225_600_000, activatedAt: 1_767_225_600_000, verifyOnlySince: 1_769_817_600_000,
                    retiresAt: 1_772_409_600_000),
                KeyInfo(id: 2, state: 1, createdAt: 1_769_817_600_000, activatedAt: 1_769_817_600_000),
            ])),
        request(
            "rotate-key-request", "ROTATE_KEY of the token-digest key (purpose 1, the default: an empty body)", .rotateKey, id: 31, RotateKeyRequest()
        ),
        reply(
            "rotate-key-response", "ROTATE_KEY reply: the new active key", .rotateKey, id: 31,
            KeyResponse(key: KeyInfo(id: 2, state: 1, createdAt: 1_769_817_600_000, activatedAt: 1_769_817_600_000))),
        request("retire-key-request", "RETIRE_KEY 1", .retireKey, id: 32, RetireKeyRequest(keyID: 1)),
        reply(
            "retire-key-response", "RETIRE_KEY reply: key 1 retired, 3 live sessions ended", .retireKey, id: 32,
            RetireKeyResponse(
                key: KeyInfo(
                    id: 1, state: 3, createdAt: 1_767_225_600_000, activatedAt: 1_767_225_600_000, verifyOnlySince: 1_769_817_600_000,
                    retiresAt: 1_769_900_000_000),
                sessionsEnded: 3)),
        request(
            "rotate-master-key-request", "ROTATE_MASTER_KEY to a new file", .rotateMasterKey, id: 33,
            RotateMasterKeyRequest(path: "/etc/tessera/master-2.key")),
        reply(
            "rotate-master-key-response", "ROTATE_MASTER_KEY reply: 2 keys sealed", .rotateMasterKey, id: 33, RotateMasterKeyResponse(keysSealed: 2)),
        request("jwks-request", "JWKS: an empty body", .jwks, id: 34, EmptyMessage()),
        reply(
            "jwks-response", "JWKS reply: one Ed25519 signing key", .jwks, id: 34,
            JWKSResponse(
                jwks:
                    #"{"keys":[{"alg":"EdDSA","crv":"Ed25519","kid":"2","kty":"OKP","use":"sig","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#
            )),
        // Two-factor login
        request("two-factor-status-request", "TWO_FACTOR_STATUS of alice", .twoFactorStatus, id: 35, UserSelector.username("alice")),
        reply(
            "two-factor-status-response", "TWO_FACTOR_STATUS reply: enrolled, SHA-1, 6 digits, 30 s, 9 recovery codes left",
            .twoFactorStatus, id: 35,
            TwoFactorStatusResponse(
                state: 2, algorithm: 1, digits: 6, periodSeconds: 30, createdAt: 1_767_225_600_000, confirmedAt: 1_767_225_660_000,
                recoveryCodesLeft: 9)),
        reply("two-factor-status-none-response", "TWO_FACTOR_STATUS reply: none", .twoFactorStatus, id: 35, TwoFactorStatusResponse(state: 0)),
        request(
            "enrol-two-factor-request", "ENROL_TWO_FACTOR by the user of a session token, re-authenticated by the password; the defaults",
            .enrolTwoFactor, id: 36, EnrolTwoFactorRequest(user: .sessionToken(token), password: Array("correct horse".utf8))),
        reply(
            "enrol-two-factor-response", "ENROL_TWO_FACTOR reply: the secret and its otpauth URI", .enrolTwoFactor, id: 36,
            EnrolTwoFactorResponse(
                secret: twoFactorSecret,
                uri: "otpauth://totp/Tessera:alice%40example.com?secret=\(twoFactorSecret)&issuer=Tessera&algorithm=SHA1&digits=6&period=30",
                algorithm: 1, digits: 6, periodSeconds: 30)),
        request(
            "enrol-two-factor-sha256-request", "ENROL_TWO_FACTOR of alice: SHA-256, 8 digits, another issuer", .enrolTwoFactor, id: 36,
            EnrolTwoFactorRequest(user: .username("alice"), algorithm: 2, digits: 8, issuer: "Example Corp")),
        request(
            "confirm-two-factor-request", "CONFIRM_TWO_FACTOR by the user: a code from the new secret and the password", .confirmTwoFactor,
            id: 37, ConfirmTwoFactorRequest(user: .sessionToken(token), code: "492039", password: Array("correct horse".utf8))),
        reply(
            "confirm-two-factor-response", "CONFIRM_TWO_FACTOR reply: ten recovery codes", .confirmTwoFactor, id: 37,
            RecoveryCodesResponse(recoveryCodes: recoveryCodes)),
        error(
            "confirm-two-factor-error-2fa-invalid", "CONFIRM_TWO_FACTOR failed: status 21 2fa-invalid", opcode: 0x52, id: 37,
            .twoFactorInvalid, "the two-factor code is not valid", trace: "2fa0000000000003"),
        request(
            "disable-two-factor-request", "DISABLE_TWO_FACTOR by the user: password and a current code", .disableTwoFactor, id: 38,
            DisableTwoFactorRequest(user: .sessionToken(token), password: Array("correct horse".utf8), code: "492039")),
        request(
            "disable-two-factor-admin-request", "DISABLE_TWO_FACTOR of alice by an administrator", .disableTwoFactor, id: 38,
            DisableTwoFactorRequest(user: .username("alice"))),
        reply("disable-two-factor-response", "DISABLE_TWO_FACTOR reply: empty body", .disableTwoFactor, id: 38, EmptyMessage()),
        request(
            "regenerate-recovery-codes-request", "REGENERATE_RECOVERY_CODES by the user, with a current code", .regenerateRecoveryCodes,
            id: 39, RegenerateRecoveryCodesRequest(user: .sessionToken(token), code: "492039")),
        reply(
            "regenerate-recovery-codes-response", "REGENERATE_RECOVERY_CODES reply: ten new codes", .regenerateRecoveryCodes, id: 39,
            RecoveryCodesResponse(recoveryCodes: recoveryCodes)),
        // API keys
        request(
            "create-api-key-request", "CREATE_API_KEY for alice: a name, 30 days, one permission", .createAPIKey, id: 40,
            CreateAPIKeyRequest(user: .username("alice"), name: "ci deploy", lifetimeSeconds: 2_592_000, permissions: ["admin"])),
        request(
            "create-api-key-self-request", "CREATE_API_KEY by the user of a session token: the password and a current code",
            .createAPIKey, id: 40,
            CreateAPIKeyRequest(user: .sessionToken(token), name: "laptop", password: Array("correct horse".utf8), code: "492039")),
        reply(
            "create-api-key-response", "CREATE_API_KEY reply: the key, shown once, and the key as listed", .createAPIKey, id: 40,
            CreateAPIKeyResponse(key: apiKey, apiKey: apiKeyInfo)),
        error(
            "create-api-key-error-permission", "CREATE_API_KEY refused: status 11 invalid-argument (a permission that is not a role)",
            opcode: 0x60, id: 40, .invalidArgument,
            "permission 'billing' is not a role of the user: an API key's permissions are among its user's roles", trace: "a91e0000000000c1"),
        request("list-api-keys-request", "LIST_API_KEYS of alice", .listAPIKeys, id: 41, UserSelector.username("alice")),
        reply(
            "list-api-keys-response", "LIST_API_KEYS reply: one key, used once", .listAPIKeys, id: 41,
            APIKeyListResponse(apiKeys: [
                {
                    var used = apiKeyInfo
                    used.lastUsedAt = 1_767_229_200_000
                    return used
                }()
            ])),
        request("revoke-api-key-request", "REVOKE_API_KEY by its id", .revokeAPIKey, id: 42, RevokeAPIKeyRequest(keyID: apiKeyID)),
        request(
            "revoke-api-key-self-request", "REVOKE_API_KEY of a key of the session token's user (self-service)", .revokeAPIKey, id: 42,
            RevokeAPIKeyRequest(keyID: apiKeyID, sessionToken: token)),
        reply("revoke-api-key-response", "REVOKE_API_KEY reply: empty body", .revokeAPIKey, id: 42, EmptyMessage()),
        request("revoke-all-api-keys-request", "REVOKE_ALL_API_KEYS of alice", .revokeAllAPIKeys, id: 43, UserSelector.username("alice")),
        reply("revoke-all-api-keys-response", "REVOKE_ALL_API_KEYS reply: 2 live keys revoked", .revokeAllAPIKeys, id: 43, CountResponse(count: 2)),
        request("verify-api-key-request", "VERIFY_API_KEY", .verifyAPIKey, id: 44, VerifyAPIKeyRequest(key: apiKey)),
        reply(
            "verify-api-key-response", "VERIFY_API_KEY reply: user 1, the key's id, name and permission, its expiry", .verifyAPIKey, id: 44,
            VerifyAPIKeyResponse(userID: 1, keyID: apiKeyID, name: "ci deploy", permissions: ["admin"], expiresAt: 1_769_817_600_000)),
        error(
            "verify-api-key-error-revoked", "VERIFY_API_KEY refused: status 7 token-revoked (the key was revoked)", opcode: 0x64, id: 44,
            .tokenRevoked, "the session was revoked; log in again", trace: "a91e0000000000c2"),
        request("verify-with-api-key-request", "VERIFY with an API key", .verify, id: 6, VerifyRequest(token: apiKey)),
        reply(
            "verify-with-api-key-response", "VERIFY reply for an API key: its id as session_id, its permission as role, its name", .verify,
            id: 6,
            VerifyResponse(userID: 1, sessionID: apiKeyID, expiresAt: 1_769_817_600_000, roles: ["admin"], apiKeyName: "ci deploy")),
        // Connection-level and protocol errors
        error(
            "error-unknown-opcode", "an unknown opcode 0x7f: status 15 unknown-opcode; the connection stays open", opcode: 0x7f, id: 23,
            .unknownOpcode, "opcode 0x7f is not part of protocol version 1", trace: "00000000000000bb"),
        error(
            "error-frame-too-large", "connection-level error: frame-too-large, request id 0, closing", opcode: 0x00, id: 0,
            .frameTooLarge, "frame length 16385 exceeds the maximum of 16384 bytes", trace: "00000000000000aa", closing: true),
        error(
            "error-malformed-frame", "connection-level error: malformed-frame (length field 4), request id 0, closing", opcode: 0x00, id: 0,
            .malformedFrame, "frame length 4 is shorter than the 8-byte header", trace: "00000000000000cc", closing: true),
    ]
}
