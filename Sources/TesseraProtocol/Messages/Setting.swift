/// One entry of a user's settings map: the SETTING message, nested in USER's `setting` field.
public struct Setting: SchemaMessage {
    public var key: String
    public var value: String

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "SETTING",
        [
            .string(1, "key", \.key),
            .string(2, "value", \.value),
        ])
}
