import Foundation

/// Finds a key written twice in one JSON object. JSON decoders keep one of the two silently,
/// so `{"template": 600, "template": 601}` would mean whichever they kept; a spec or a body
/// with a repeated key is refused instead. Runs over valid JSON only (after decoding).
enum DuplicateKeys {
    /// The path of the first repeated key (`outputs[1].url`), or nil.
    static func first(in data: Data) -> String? {
        let bytes = [UInt8](data)
        var frames: [Frame] = []
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"): frames.append(Frame(isObject: true))
            case UInt8(ascii: "["): frames.append(Frame(isObject: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                frames.removeLast()
            case UInt8(ascii: ","):
                if frames.last?.isObject == true { frames[frames.count - 1].expectsKey = true } else if !frames.isEmpty { frames[frames.count - 1].count += 1 }
            case UInt8(ascii: "\""):
                let end = stringEnd(bytes, from: index)
                if frames.last?.isObject == true, frames[frames.count - 1].expectsKey {
                    let key = (try? JSONDecoder().decode(String.self, from: Data(bytes[index...end]))) ?? ""
                    frames[frames.count - 1].expectsKey = false
                    frames[frames.count - 1].key = key
                    if !frames[frames.count - 1].keys.insert(key).inserted { return path(frames) }
                }
                index = end
            default:
                break
            }
            index += 1
        }
        return nil
    }

    private struct Frame {
        let isObject: Bool
        var expectsKey: Bool
        var keys: Set<String> = []
        /// The latest key (objects), or the index of the current element (arrays).
        var key = ""
        var count = 0

        init(isObject: Bool) {
            self.isObject = isObject
            expectsKey = isObject
        }
    }

    /// The index of the quote that closes the string opening at `start`.
    private static func stringEnd(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start + 1
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        return min(index, bytes.count - 1)
    }

    private static func path(_ frames: [Frame]) -> String {
        frames.reduce("") { path, frame in
            frame.isObject ? (path.isEmpty ? frame.key : "\(path).\(frame.key)") : "\(path)[\(frame.count)]"
        }
    }
}
