import Foundation

/// A JSON value as written, so that validation can name the field and the expected type.
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    var typeName: String {
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
struct JSONFields {
    let path: String
    private let values: [String: JSONValue]
    private var read: Set<String> = []

    init(_ value: JSONValue, path: String) throws(SpecError) {
        guard case .object(let values) = value else {
            throw SpecError(field: path.isEmpty ? "(top level)" : path, "must be an object, not \(value.typeName)")
        }
        self.path = path
        self.values = values
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private mutating func value(_ key: String) -> JSONValue? {
        read.insert(key)
        guard let value = values[key], case .null = value else { return values[key] }
        return nil
    }

    mutating func string(_ key: String) throws(SpecError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw SpecError(field: name(key), "must be a string, not \(value.typeName)") }
        return text
    }

    mutating func requiredString(_ key: String) throws(SpecError) -> String {
        guard let text = try string(key) else { throw SpecError(field: name(key), "is required") }
        guard !text.isEmpty else { throw SpecError(field: name(key), "must not be empty") }
        return text
    }

    mutating func number(_ key: String, in range: ClosedRange<Double>) throws(SpecError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value else { throw SpecError(field: name(key), "must be a number, not \(value.typeName)") }
        guard range.contains(number) else {
            throw SpecError(field: name(key), "is \(format(number)); it must be from \(format(range.lowerBound)) to \(format(range.upperBound))")
        }
        return number
    }

    mutating func integer(_ key: String, in range: ClosedRange<Int>) throws(SpecError) -> Int? {
        guard let number = try number(key, in: Double(range.lowerBound)...Double(range.upperBound)) else { return nil }
        guard number.rounded() == number else { throw SpecError(field: name(key), "must be a whole number, not \(number)") }
        return Int(number)
    }

    mutating func bool(_ key: String) throws(SpecError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw SpecError(field: name(key), "must be true or false, not \(value.typeName)") }
        return flag
    }

    /// A non-empty array of non-empty strings.
    mutating func strings(_ key: String) throws(SpecError) -> [String]? {
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
    mutating func choice(_ key: String, _ choices: [String]) throws(SpecError) -> String? {
        guard let text = try string(key) else { return nil }
        guard choices.contains(text) else {
            throw SpecError(field: name(key), "is \"\(text)\"; it must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return text
    }

    mutating func object(_ key: String) throws(SpecError) -> JSONFields? {
        guard let value = value(key) else { return nil }
        return try JSONFields(value, path: name(key))
    }

    /// Whether `key` holds an object (without reading it).
    func holdsObject(_ key: String) -> Bool {
        if case .object = values[key] { return true }
        return false
    }

    mutating func array(_ key: String) throws(SpecError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw SpecError(field: name(key), "must be an array, not \(value.typeName)") }
        return items
    }

    /// Throws if the object has a field nobody read.
    func finish() throws(SpecError) {
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

    init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field) \(message)" }
}
