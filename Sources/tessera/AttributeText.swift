import ArgumentParser
import Foundation
import TesseraClient

/// A user's attributes as the CLI reads and writes them: `NAME=VALUE` (a string) or
/// `NAME:KIND=VALUE` on the command line, and in JSON (`tessera user show --json`, the
/// import and export format) a string, a number, `true`/`false`, or `{"date": "RFC 3339"}`.
enum AttributeText {
    /// `title=Dr`, `rank:number=3`, `vip:bool=true`, `born:date=1990-05-01`.
    static func assignment(_ text: String) throws(ValidationError) -> (String, AttributeValue) {
        guard let equals = text.firstIndex(of: "=") else {
            throw ValidationError("--attribute takes NAME=VALUE or NAME:KIND=VALUE (KIND string, number, bool or date), not \"\(text)\"")
        }
        var name = String(text[..<equals])
        var kind = AttributeKind.string
        if let colon = name.lastIndex(of: ":"), let named = AttributeKind(rawValue: String(name[name.index(after: colon)...])) {
            kind = named
            name = String(name[..<colon])
        }
        do {
            return (name, try AttributeValue(parsing: String(text[text.index(after: equals)...]), as: kind))
        } catch {
            throw ValidationError("attribute \(name): \(error)")
        }
    }

    /// Every `--attribute` given, or a message naming the one given twice.
    static func assignments(_ texts: [String]) throws(ValidationError) -> [String: AttributeValue] {
        var attributes: [String: AttributeValue] = [:]
        for text in texts {
            let (name, value) = try assignment(text)
            guard attributes.updateValue(value, forKey: name) == nil else { throw ValidationError("attribute \(name) is given twice") }
        }
        return attributes
    }

    /// The attributes as a JSON object for `JSONSerialization`.
    static func json(_ attributes: [String: AttributeValue]) -> [String: Any] {
        attributes.mapValues { value -> Any in
            switch value {
            case .string(let text): text
            case .number(let number): AttributeValue.wholeNumber(number).map { $0 as Any } ?? number
            case .bool(let flag): flag
            case .date: ["date": value.text]
            }
        }
    }

    /// The attributes of a JSON object read strictly, or why they are refused.
    static func parse(_ value: JSONValue) throws(RecordError) -> [String: AttributeValue] {
        guard let members = value.object else { throw RecordError("attributes must be an object") }
        var attributes: [String: AttributeValue] = [:]
        for (name, member) in members {
            switch member {
            case .string(let text): attributes[name] = .string(text)
            case .integer(let number): attributes[name] = .number(Double(number))
            case .double(let number): attributes[name] = .number(number)
            case .bool(let flag): attributes[name] = .bool(flag)
            case .object(let object):
                guard object.count == 1, let text = object["date"]?.string else {
                    throw RecordError("attributes.\(name) must be a string, a number, true, false or {\"date\": \"RFC 3339\"}")
                }
                do {
                    attributes[name] = try AttributeValue(parsing: text, as: .date)
                } catch {
                    throw RecordError("attributes.\(name): \(error)")
                }
            default:
                throw RecordError("attributes.\(name) must be a string, a number, true, false or {\"date\": \"RFC 3339\"}")
            }
        }
        return attributes
    }
}
