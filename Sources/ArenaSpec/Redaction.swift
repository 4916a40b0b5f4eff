import Foundation

/// How values that may hold secrets are shown in messages, answers and logs.
public enum Redaction {
    /// A URL without its credentials, query or fragment (`https://cdn.example/a.png?…`);
    /// text that is not a URL with a host is shown as it is (a file path), unless it has a
    /// scheme: then only the scheme is shown, since what follows may hold credentials.
    public static func url(_ text: String) -> String {
        guard let parts = URLComponents(string: text), let scheme = parts.scheme, let host = parts.host, !host.isEmpty else {
            if let separator = text.range(of: "://") { return text[..<separator.upperBound] + "…" }
            return text
        }
        let port = parts.port.map { ":\($0)" } ?? ""
        let rest = parts.query != nil || parts.fragment != nil ? "?…" : ""
        return "\(scheme)://\(host)\(port)\(parts.percentEncodedPath)\(rest)"
    }
}

extension Redaction {
    /// A value from a request as an error message repeats it: on one line and at most 64
    /// characters, so that no value can forge lines in a log or bury the message.
    public static func value(_ text: String) -> String {
        let escaped = oneLine(text)
        return escaped.count > 64 ? escaped.prefix(63) + "…" : escaped
    }

    /// `text` with its control and format characters (line breaks, direction overrides) escaped as `\u{X}`.
    public static func oneLine(_ text: String) -> String {
        let category = { (scalar: Unicode.Scalar) in scalar.properties.generalCategory }
        guard text.unicodeScalars.contains(where: { category($0) == .control || category($0) == .format }) else { return text }
        return text.unicodeScalars.map { scalar in
            category(scalar) == .control || category(scalar) == .format ? String(format: "\\u{%X}", scalar.value) : String(scalar)
        }.joined()
    }
}
