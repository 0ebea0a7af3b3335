#if canImport(Glibc)
import Glibc
#endif

/// `tesserad --config FILE`: the daemon's options in a file, one `name = value` per line, in
/// the TOML subset that options need. A name is an option's long name without the dashes; a
/// value is a string in double quotes (`\"` and `\\` escaped), an integer, or an array of
/// either (`app-uid = [33, 1001]`, a repeated option). `#` starts a comment. Options given on
/// the command line win over the file's.
package enum ConfigurationFile {
    /// A line the parser could not read.
    package struct SyntaxError: Error, CustomStringConvertible, Equatable {
        package var line: Int
        package var reason: String
        /// The file, once known.
        package var path: String?
        package var description: String { (path.map { "\($0), " } ?? "") + "line \(line): \(reason)" }

        init(line: Int, reason: String, path: String? = nil) {
            self.line = line
            self.reason = reason
            self.path = path
        }
    }

    /// The command-line arguments `text` stands for, in order (`--name value` per value).
    package static func arguments(from text: String) throws(SyntaxError) -> [String] {
        var arguments: [String] = []
        var seen: Set<String> = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = stripComment(Substring(rawLine)).trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            guard let equals = line.firstIndex(of: "=") else { throw SyntaxError(line: number, reason: "expected 'name = value'") }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }), name.first != "-" else {
                throw SyntaxError(line: number, reason: "'\(name)' is not an option name (a long option without its dashes)")
            }
            guard seen.insert(name).inserted else { throw SyntaxError(line: number, reason: "'\(name)' is set twice") }
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            for item in try values(value, line: number) { arguments += ["--" + name, item] }
        }
        return arguments
    }

    /// `arguments` with `--config FILE` (or `--config=FILE`) replaced by the file's options,
    /// placed first so that the command line's own options come after and win.
    package static func expand(_ arguments: [String], read: (String) throws -> String) throws -> [String] {
        var rest: [String] = []
        var path: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--config", index + 1 < arguments.count {
                path = arguments[index + 1]
                index += 2
                continue
            }
            if argument.hasPrefix("--config=") {
                path = String(argument.dropFirst("--config=".count))
                index += 1
                continue
            }
            rest.append(argument)
            index += 1
        }
        guard let path else { return arguments }
        let text = try read(path)
        do {
            return try Self.arguments(from: text) + ["--config", path] + rest
        } catch {
            throw SyntaxError(line: error.line, reason: error.reason, path: path)
        }
    }

    /// The text of the file at `path`, or `nil` (with `errno` set) when it cannot be read. At
    /// most 1 MiB: a configuration file is small.
    package static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count <= 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes += chunk[0..<count]
        }
        errno = EFBIG
        return nil
    }

    private static func values(_ text: String, line: Int) throws(SyntaxError) -> [String] {
        guard text.hasPrefix("[") else { return [try scalar(text, line: line)] }
        guard text.hasSuffix("]") else { throw SyntaxError(line: line, reason: "an array ends with ']'") }
        let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        guard !inner.isEmpty else { return [] }
        var items: [String] = []
        var current = ""
        var inString = false
        var escaped = false
        for character in inner {
            if inString {
                current.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
            } else if character == "," {
                items.append(try scalar(current.trimmingCharacters(in: .whitespaces), line: line))
                current = ""
            } else {
                if character == "\"" { inString = true }
                current.append(character)
            }
        }
        let last = current.trimmingCharacters(in: .whitespaces)
        if !last.isEmpty { items.append(try scalar(last, line: line)) }
        return items
    }

    private static func scalar(_ text: String, line: Int) throws(SyntaxError) -> String {
        if text.hasPrefix("\"") {
            guard text.count >= 2, text.hasSuffix("\"") else { throw SyntaxError(line: line, reason: "a string ends with '\"'") }
            var value = ""
            var escaped = false
            for character in text.dropFirst().dropLast() {
                if escaped {
                    guard character == "\"" || character == "\\" else {
                        throw SyntaxError(line: line, reason: "only \\\" and \\\\ are escapes in a string")
                    }
                    value.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    throw SyntaxError(line: line, reason: "a quote inside a string must be escaped")
                } else {
                    value.append(character)
                }
            }
            guard !escaped else { throw SyntaxError(line: line, reason: "a string ends with '\"'") }
            return value
        }
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            throw SyntaxError(line: line, reason: "'\(text)' is neither a quoted string, an integer nor an array")
        }
        return text
    }

    /// The line up to a `#` that is not inside a string.
    private static func stripComment(_ line: Substring) -> Substring {
        var inString = false
        var escaped = false
        for index in line.indices {
            let character = line[index]
            if escaped {
                escaped = false
            } else if inString && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inString.toggle()
            } else if character == "#" && !inString {
                return line[..<index]
            }
        }
        return line
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: CharacterSetLike) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// Spaces and tabs (no Foundation needed).
private struct CharacterSetLike {
    static let whitespaces = CharacterSetLike()
    func contains(_ character: Character) -> Bool { character == " " || character == "\t" || character == "\r" }
}
