/// How much structure a JSON document may have: decoding costs time for every object and
/// array, so a 1 MB body of nested brackets must be refused before it is decoded, not after.
enum JSONBounds {
    /// Objects and arrays in one document (a spec with 9 hosts and a long timeline has a few hundred).
    static let maximumContainers = 10_000
    /// Objects and arrays inside each other (a spec needs 5).
    static let maximumDepth = 32

    /// What is wrong with the document's size or depth, if anything (one linear pass over the bytes).
    static func problem(in bytes: [UInt8]) -> String? {
        var depth = 0
        var containers = 0
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") { index += 1 } else if byte == UInt8(ascii: "\"") { inString = false }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
                containers += 1
                if depth > maximumDepth { return "nests objects and arrays more than \(maximumDepth) deep" }
                if containers > maximumContainers { return "holds more than \(maximumContainers) objects and arrays" }
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
            }
            index += 1
        }
        return nil
    }
}
