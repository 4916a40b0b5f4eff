import Foundation
import Logging
import Synchronization

/// The service's log: JSON lines on standard error when it is not a terminal (what log
/// collectors read), text lines on a terminal; `LOG_LEVEL` (trace ... critical) for every
/// logger, `info` by default.
public enum LogLines {
    /// Sets up logging for the process; call once, before the first logger is made.
    public static func bootstrap(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let level = environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        let json = isatty(STDERR_FILENO) == 0
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// One JSON object a line: `time` (UTC, milliseconds), `level`, `logger`, `message`, and the
/// metadata's fields (`mix`, `battle`, `request` for Hummingbird's request id, ...).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// Lines are written whole, one at a time, whatever thread logs.
    private static let output = Mutex(())

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let (level, message, explicit) = (event.level, event.message, event.metadata)
        var fields = self.metadata.merging(metadataProvider?.get() ?? [:]) { $1 }.merging(explicit ?? [:]) { $1 }
        if let id = fields.removeValue(forKey: "hb.request.id") { fields["request"] = id }
        var object: [String: String] = fields.mapValues { "\($0)" }
        object["time"] = Self.timestamp(Date())
        object["level"] = level.rawValue
        object["logger"] = label
        object["message"] = message.description
        if let error = event.error { object["error"] = "\(error)" }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        // A full disk or a closed pipe loses the line, never the process.
        Self.output.withLock { _ in try? FileHandle.standardError.write(contentsOf: data + Data("\n".utf8)) }
    }

    /// ISO 8601 in UTC with milliseconds: `2026-11-29T23:41:27.123Z`.
    static func timestamp(_ date: Date) -> String {
        var time = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let milliseconds = Int((date.timeIntervalSince1970 - Double(time)) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), milliseconds)
    }
}
