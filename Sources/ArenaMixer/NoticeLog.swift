import ArenaSession
import Foundation

/// Outbound events as JSON lines, one notice a line, times in seconds.
public enum NoticeLog {
    /// Writes `notices` to `path` in one step (a temporary file renamed into place).
    public static func write(_ notices: [Notice], to path: String) throws(MixError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var lines = Data()
        do {
            for notice in notices {
                lines.append(try encoder.encode(notice))
                lines.append(UInt8(ascii: "\n"))
            }
            try lines.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .output(path: path, reason: "cannot be written: \((error as NSError).localizedDescription)")
        }
    }
}
