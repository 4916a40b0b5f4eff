import Foundation

/// A small, fast random number generator with a seed (SplitMix64), so that a fuzz run is
/// repeated exactly from its seed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// Mutations of a JSON document, as a careless or hostile client would send it: values of
/// the wrong type or out of range, keys removed, added or written twice, hostile strings,
/// deep or huge nesting, and broken text.
enum JSONMutator {
    /// `document` with one to three mutations.
    static func mutate(_ document: String, using random: inout SeededGenerator) -> String {
        var text = document
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            if Int.random(in: 0..<5, using: &random) == 0 {
                text = mutateText(text, using: &random)
            } else if let tree = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed) {
                let mutated = mutateTree(tree, using: &random)
                text = (try? JSONSerialization.data(withJSONObject: mutated, options: [.fragmentsAllowed]))
                    .map { String(decoding: $0, as: UTF8.self) } ?? text
            } else {
                text = mutateText(text, using: &random)
            }
        }
        return text
    }

    /// Values that have broken parsers, pipelines or paths somewhere.
    /// (Immutable Foundation values.)
    nonisolated(unsafe) static let hostileValues: [Any] = [
        NSNull(), true, false, 0, -1, 2_147_483_647, 2_147_483_648, -2_147_483_649, Int64.max, 1e308, -1e308, 0.5, 1e-300,
        "", " ", "a", String(repeating: "x", count: 10_000), "../../../../etc/passwd", "/etc/shadow", "file:///etc/passwd",
        "file://evil.example/etc/passwd", "%s%n%x%p", "\u{0}", "a\"b", "a\\b", "line\nbreak", "😀🇯🇵", "\u{202E}reversed",
        "rtmp://127.0.0.1/live/key\" ! filesink location=/tmp/arena-fuzz-pwned \"", "srt://127.0.0.1:9?passphrase=x&mode=listener",
        "127.0.0.1 ! fakesrc ! filesink location=/tmp/arena-fuzz-pwned", "http://127.0.0.1:1/a.png", "http://[::1]/a.png",
        "javascript:alert(1)", "${HOME}", "$(id)", "`id`", "NaN", "Infinity", "-0", "1e999",
        [Any](), [String: Any](), [1, "two", NSNull()], ["userId": "alice"], ["rtp": ["video": ["port": 0]]],
    ]

    private static func mutateTree(_ node: Any, using random: inout SeededGenerator) -> Any {
        // Walks down to a random node (stopping on the way with some chance) and changes it.
        if var object = node as? [String: Any], !object.isEmpty, Int.random(in: 0..<4, using: &random) != 0 {
            let key = object.keys.sorted().randomElement(using: &random)!
            switch Int.random(in: 0..<8, using: &random) {
            case 0: object[key] = nil
            case 1: object["unexpected\(Int.random(in: 0..<3, using: &random))"] = hostileValues.randomElement(using: &random)!
            default: object[key] = mutateTree(object[key]!, using: &random)
            }
            return object
        }
        if var array = node as? [Any], !array.isEmpty, Int.random(in: 0..<4, using: &random) != 0 {
            let index = Int.random(in: 0..<array.count, using: &random)
            switch Int.random(in: 0..<6, using: &random) {
            case 0: array.remove(at: index)
            case 1: array.append(array[index])
            case 2: array = Array(repeating: array[index], count: Int.random(in: 10...300, using: &random))
            default: array[index] = mutateTree(array[index], using: &random)
            }
            return array
        }
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return deeplyNested(depth: Int.random(in: 50...600, using: &random))
        case 1: return (node as? NSNumber).map { NSNumber(value: $0.doubleValue * -1 - 1) } ?? node
        case 2: return (node as? String).map { $0 + $0 } ?? node
        default: return hostileValues.randomElement(using: &random)!
        }
    }

    private static func deeplyNested(depth: Int) -> Any {
        (0..<depth).reduce(1 as Any) { inner, _ in [inner] }
    }

    private static func mutateText(_ text: String, using random: inout SeededGenerator) -> String {
        var bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return "{" }
        let at = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<5, using: &random) {
        case 0: bytes = Array(bytes[..<at])  // cut short
        case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: at)  // a stray byte (maybe not UTF-8)
        case 2: bytes[at] = Array("{}[],:\"\\ 0-e".utf8).randomElement(using: &random)!
        case 3:
            // A key written twice: the first key of the document, repeated right after the opening brace.
            if let open = bytes.firstIndex(of: UInt8(ascii: "{")), let end = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: ",")) {
                bytes.insert(contentsOf: bytes[(open + 1)...end], at: open + 1)
            }
        default: bytes = Array("[".utf8) + bytes + Array("]".utf8)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
