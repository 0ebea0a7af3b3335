/// The body of every error frame (a non-zero status).
public struct ErrorBody: SchemaMessage {
    /// The status's stable name, e.g. `bad-credentials`.
    public var name: String
    /// A human-readable reason, safe to show to an operator.
    public var message: String
    /// The id under which the server logged this failure.
    public var traceID: String?
    /// Seconds after which retrying may succeed (`busy`, `locked`).
    public var retryAfterSeconds: UInt32?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "ERROR",
        [
            .string(1, "name", \.name),
            .string(2, "message", \.message),
            .string(3, "trace_id", \.traceID),
            .integer(4, "retry_after_seconds", \.retryAfterSeconds),
            // Tag 5 (a validation code with `account-not-validated`) is retired: codes come only
            // from NEW_VALIDATION_CODE. It is never reused.
        ])
}
