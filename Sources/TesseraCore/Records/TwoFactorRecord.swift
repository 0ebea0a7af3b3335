import SodiumKit

/// A user's TOTP second factor, in the `two_factor` database keyed by user id (u64 BE).
///
/// The secret and the recovery-code digests are sealed under a secret-sealing key of the ring
/// (``TwoFactorSecrets``); the rest is in clear, since it says nothing an attacker could use:
///
/// Layout, version 1:
/// ```
/// u8 version=1 | u8 state | u8 algorithm | u8 digits | u8 period | i64 created_at
/// | i64 confirmed_at | i64 last_used_step | u8 recovery codes left | u16 sealing key id
/// | u16 len + sealed secrets (nonce ‖ ciphertext ‖ tag)
/// ```
struct TwoFactorRecord: Sendable, Equatable {
    var state: TwoFactorState
    var algorithm: HMAC.Algorithm
    var digits: UInt8
    var period: UInt8
    var createdAt: Timestamp
    /// When the first code confirmed the enrolment (0 while pending).
    var confirmedAt: Timestamp = 0
    /// The TOTP step of the last code accepted (a code is accepted once); `Int64.min` when none.
    var lastUsedStep = Int64.min
    var recoveryCodesLeft: UInt8 = 0
    /// The secret-sealing key ``sealed`` was made with.
    var keyID: UInt16
    var sealed: [UInt8]

    init(
        state: TwoFactorState, algorithm: HMAC.Algorithm, digits: UInt8, period: UInt8, createdAt: Timestamp, keyID: UInt16, sealed: [UInt8]
    ) {
        self.state = state
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
        self.createdAt = createdAt
        self.keyID = keyID
        self.sealed = sealed
    }

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: 1, capacity: 40 + sealed.count)
        writer.write(state.rawValue)
        writer.write(algorithm.wireValue)
        writer.write(digits)
        writer.write(period)
        writer.write(createdAt)
        writer.write(confirmedAt)
        writer.write(lastUsedStep)
        writer.write(recoveryCodesLeft)
        writer.write(keyID)
        writer.write(UInt16(sealed.count))
        writer.write(raw: sealed)
        return writer.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        let version = try reader.read(UInt8.self)
        guard version == 1 else { throw RecordError.unknownVersion(version) }
        state = TwoFactorState(rawValue: try reader.read()) ?? .pending
        algorithm = HMAC.Algorithm(wireValue: try reader.read()) ?? .sha1
        digits = try reader.read()
        period = try reader.read()
        createdAt = try reader.read()
        confirmedAt = try reader.read()
        lastUsedStep = try reader.read()
        recoveryCodesLeft = try reader.read()
        keyID = try reader.read()
        sealed = Array(try reader.read(raw: Int(try reader.read(UInt16.self))))
    }
}

/// Where a user's second factor is.
package enum TwoFactorState: UInt8, Sendable {
    /// A secret was issued; logins do not ask for a code until one confirms it.
    case pending = 1
    /// Logins ask for a code.
    case enrolled = 2
}

extension HMAC.Algorithm {
    /// The number the wire and the records use: 1 SHA-1, 2 SHA-256, 3 SHA-512.
    package var wireValue: UInt8 {
        switch self {
        case .sha1: 1
        case .sha256: 2
        case .sha512: 3
        }
    }

    package init?(wireValue: UInt8) {
        switch wireValue {
        case 1: self = .sha1
        case 2: self = .sha256
        case 3: self = .sha512
        default: return nil
        }
    }
}
