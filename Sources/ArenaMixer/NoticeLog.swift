import ArenaSession
import Foundation

/// Outbound events as JSON lines, one notice a line, times in seconds.
public enum NoticeLog {
    /// Writes `notices` to `path` in one step (a temporary file renamed into place).
    public static func write(_ notices: [Notice], to path: String) throws(MixError) {
        do {
            try lines(notices).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .output(path: path, reason: "cannot be written: \((error as NSError).localizedDescription)")
        }
    }

    /// The JSON lines of `notices`.
    public static func lines(_ notices: [Notice]) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = Data()
        for notice in notices {
            guard let line = try? encoder.encode(notice) else { continue }  // plain strings and numbers: cannot fail
            lines.append(line)
            lines.append(UInt8(ascii: "\n"))
        }
        return lines
    }
}
