/// The examples `Protocol/PROTOCOL.md` quotes: each is a fenced block right after a line
/// `<!-- vector: NAME -->`, holding the text of `vectors/NAME.hex`.
public enum SpecQuotes {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    static let marker = "<!-- vector: "

    /// The quoted examples, by vector name, in order of appearance.
    public static func quotes(in spec: String) throws -> [(name: String, text: String)] {
        var quotes: [(String, String)] = []
        _ = try walk(spec) { name, text in
            quotes.append((name, text))
            return text
        }
        return quotes
    }

    /// `spec` with each quoted example replaced by `text(name)`.
    public static func refresh(_ spec: String, text: (String) -> String?) throws -> String {
        try walk(spec) { name, _ in
            guard let fresh = text(name) else { throw Failure(description: "no vector named \(name)") }
            return fresh
        }
    }

    private static func walk(_ spec: String, _ replace: (String, String) throws -> String) throws -> String {
        var lines = spec.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var index = 0
        while index < lines.count {
            let line = lines[index]
            guard line.hasPrefix(marker), line.hasSuffix(" -->") else {
                index += 1
                continue
            }
            let name = String(line.dropFirst(marker.count).dropLast(4))
            guard index + 1 < lines.count, lines[index + 1] == "```",
                let close = lines[(index + 2)...].firstIndex(of: "```")
            else {
                throw Failure(description: "the vector \(name) is not followed by a fenced block")
            }
            let body = lines[(index + 2)..<close].map { $0 + "\n" }.joined()
            let fresh = try replace(name, body)
            var freshLines = fresh.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if freshLines.last == "" { freshLines.removeLast() }
            lines.replaceSubrange((index + 2)..<close, with: freshLines)
            index += 2 + freshLines.count + 1
        }
        return lines.joined(separator: "\n")
    }
}
