/// One entry of a user's settings map: the SETTING message, nested in USER's `setting` field.
public struct Setting: SchemaMessage {
    public var key = ""
    public var value = ""

    public init() {}

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public static let schema = MessageSchema<Self>(
        "SETTING",
        [
            .string(1, "key", \.key),
            .string(2, "value", \.value),
        ])
}
