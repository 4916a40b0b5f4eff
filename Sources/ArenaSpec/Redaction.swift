import Foundation

/// How values that may hold secrets are shown in messages, answers and logs.
public enum Redaction {
    /// A URL without its credentials, query or fragment (`https://cdn.example/a.png?…`);
    /// text that is not a URL with a host (a file path) is shown as it is.
    public static func url(_ text: String) -> String {
        guard let parts = URLComponents(string: text), let scheme = parts.scheme, let host = parts.host, !host.isEmpty else { return text }
        let port = parts.port.map { ":\($0)" } ?? ""
        let rest = parts.query != nil || parts.fragment != nil ? "?…" : ""
        return "\(scheme)://\(host)\(port)\(parts.percentEncodedPath)\(rest)"
    }
}
