import Foundation

/// A JSON value as written, so that validation can name the field and the expected type.
public enum JSONValue: Decodable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Reads the fields of one JSON object, naming each by its path in errors (`output.video.bitrateKbps`),
/// and refuses fields it was not asked for (most often a typo).
public struct JSONFields {
    public let path: String
    private let values: [String: JSONValue]
    private var read: Set<String> = []

    public init(_ value: JSONValue, path: String) throws(SpecError) {
        guard case .object(let values) = value else {
            throw SpecError(field: path.isEmpty ? "(top level)" : path, "must be an object, not \(value.typeName)")
        }
        self.path = path
        self.values = values
    }

    /// The field's path in messages (a key from the request shown as ``Redaction/value(_:)`` shows it).
    public func name(_ key: String) -> String { path.isEmpty ? Redaction.value(key) : "\(path).\(Redaction.value(key))" }

    private mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = values[key], case .null = value else { return values[key] }
        return nil
    }

    /// The value of `key` as written, whatever its type (the field counts as read).
    public mutating func raw(_ key: String) -> JSONValue? {
        value(key)
    }

    public mutating func string(_ key: String) throws(SpecError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw SpecError(field: name(key), "must be a string, not \(value.typeName)") }
        return text
    }

    public mutating func requiredString(_ key: String) throws(SpecError) -> String {
        guard let text = try string(key) else { throw SpecError(field: name(key), "is required") }
        guard !text.isEmpty else { throw SpecError(field: name(key), "must not be empty") }
        return text
    }

    public mutating func number(_ key: String, in range: ClosedRange<Double>) throws(SpecError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value else { throw SpecError(field: name(key), "must be a number, not \(value.typeName)") }
        guard range.contains(number) else {
            throw SpecError(field: name(key), "is \(format(number)); it must be from \(format(range.lowerBound)) to \(format(range.upperBound))")
        }
        return number
    }

    public mutating func integer(_ key: String, in range: ClosedRange<Int>) throws(SpecError) -> Int? {
        guard let number = try number(key, in: Double(range.lowerBound)...Double(range.upperBound)) else { return nil }
        guard number.rounded() == number else { throw SpecError(field: name(key), "must be a whole number, not \(number)") }
        return Int(number)
    }

    public mutating func bool(_ key: String) throws(SpecError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw SpecError(field: name(key), "must be true or false, not \(value.typeName)") }
        return flag
    }

    /// A non-empty array of non-empty strings.
    public mutating func strings(_ key: String) throws(SpecError) -> [String]? {
        guard let items = try array(key) else { return nil }
        guard !items.isEmpty else { throw SpecError(field: name(key), "must not be empty") }
        return try items.enumerated().map { index, item throws(SpecError) in
            guard case .string(let text) = item, !text.isEmpty else {
                throw SpecError(field: "\(name(key))[\(index)]", "must be a non-empty string")
            }
            return text
        }
    }

    /// A string that must be one of `choices`.
    public mutating func choice(_ key: String, _ choices: [String]) throws(SpecError) -> String? {
        guard let text = try string(key) else { return nil }
        guard choices.contains(text) else {
            throw SpecError(field: name(key), "is \"\(Redaction.value(text))\"; it must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return text
    }

    public mutating func object(_ key: String) throws(SpecError) -> JSONFields? {
        guard let value = value(key) else { return nil }
        return try JSONFields(value, path: name(key))
    }

    /// The object's keys, sorted (without reading them).
    public var keys: [String] { values.keys.sorted() }

    /// Whether the object has `key` at all (without reading it).
    public func contains(_ key: String) -> Bool { values[key] != nil }

    /// Whether `key` holds an object (without reading it).
    public func holdsObject(_ key: String) -> Bool {
        if case .object = values[key] { return true }
        return false
    }

    public mutating func array(_ key: String) throws(SpecError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw SpecError(field: name(key), "must be an array, not \(value.typeName)") }
        return items
    }

    /// Throws if the object has a field nobody read.
    public func finish() throws(SpecError) {
        if let unknown = values.keys.sorted().first(where: { !read.contains($0) }) {
            throw SpecError(field: name(unknown), "is not a known field")
        }
    }

    private func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}

/// A mix spec that cannot be used, naming the field (or file) at fault.
public struct SpecError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let message: String

    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field) \(message)" }
}

extension JSONFields {
    /// The top-level object of `data`; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws(SpecError) -> JSONFields {
        if let problem = JSONBounds.problem(in: [UInt8](data)) { throw SpecError(field: source, problem) }
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw SpecError(field: source, "is not valid JSON: \(jsonProblem(data))")
        }
        if let repeated = DuplicateKeys.first(in: data) { throw SpecError(field: Redaction.value(repeated), "is written twice; write each field once") }
        return try JSONFields(root, path: "")
    }

    /// What is wrong with `data` as JSON, with the line and column where that is known.
    private static func jsonProblem(_ data: Data) -> String {
        let reason: String
        do {
            _ = try JSONSerialization.jsonObject(with: data)
            return "it is JSON, but not of the expected shape"
        } catch {
            reason = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        }
        guard let range = reason.range(of: #"character (\d+)"#, options: .regularExpression),
              let offset = Int(reason[range].dropFirst("character ".count)) else { return reason }
        let before = data.prefix(offset)
        let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
        let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return reason.replacingOccurrences(of: #" around character \d+\."#, with: "", options: .regularExpression)
            + " at line \(line), column \(column)"
    }
}
