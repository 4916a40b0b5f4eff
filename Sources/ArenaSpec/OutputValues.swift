import Foundation

/// Checks of the values an output is given (hosts, URLs, folders): each is passed to
/// GStreamer as one property, never as pipeline text, and is refused here unless it is
/// exactly what its field says.
enum OutputValues {
    /// An IPv4 or IPv6 address, or a DNS name (letters, digits and hyphens in dot-separated
    /// labels of at most 63 characters, 253 in all).
    static func isHost(_ text: String) -> Bool {
        if isIPAddress(text) { return true }
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
        }
    }

    static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// Refuses control characters (a newline or NUL has no place in a path or URL).
    static func checkPrintable(_ text: String, field: String) throws(SpecError) {
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw SpecError(field: field, "holds a control character")
        }
    }

    /// The characters a URI may hold as written (RFC 3986: unreserved, reserved and `%`):
    /// no spaces, quotes, backslashes or angle brackets.
    static let uriCharacters = CharacterSet(charactersIn:
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=%")

    static func checkURICharacters(_ uri: String, field: String) throws(SpecError) {
        try checkPrintable(uri, field: field)
        if !uri.unicodeScalars.allSatisfy(uriCharacters.contains) {
            throw SpecError(field: field, "holds a character a URL cannot have unencoded (a space, quote or backslash)")
        }
    }

    /// An `rtmp://` or `rtmps://` URL with a valid host and no spaces or quotes.
    static func checkRTMP(_ url: String, field: String) throws(SpecError) {
        try checkURICharacters(url, field: field)
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), ["rtmp", "rtmps"].contains(scheme) else {
            throw SpecError(field: field, "must be a URL starting with rtmp:// or rtmps://")
        }
        guard let host = parts.host, isHost(host) else { throw SpecError(field: field, "has no valid host") }
        guard parts.path.split(separator: "/").count >= 2 else {
            throw SpecError(field: field, "needs an application and a stream key (rtmp://host/app/key)")
        }
    }

    /// The query keys of an SRT URI that srtsink reads; anything else is refused.
    static let srtOptions: Set<String> = ["mode", "passphrase", "pbkeylen", "latency", "streamid"]

    /// An `srt://host:port` URI (the host may be empty for a listener) with known options only.
    static func checkSRT(_ uri: String, field: String) throws(SpecError) {
        try checkURICharacters(uri, field: field)
        // GStreamer reads only a lowercase scheme, and the last of a repeated option: each is
        // taken as GStreamer will read it, or refused.
        guard uri.hasPrefix("srt://"), let parts = URLComponents(string: uri) else {
            throw SpecError(field: field, "must be a URI starting with srt://")
        }
        let names = (parts.queryItems ?? []).map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw SpecError(field: field, "gives option '\(Redaction.value(repeated))' more than once")
        }
        if let host = parts.host, !host.isEmpty, !isHost(host) { throw SpecError(field: field, "has no valid host") }
        guard let port = parts.port, (1...65_535).contains(port) else { throw SpecError(field: field, "needs a port (srt://host:port)") }
        guard parts.path.isEmpty else { throw SpecError(field: field, "must have no path, only srt://host:port?options") }
        for item in parts.queryItems ?? [] where !srtOptions.contains(item.name) {
            throw SpecError(field: field, "has an unknown option '\(Redaction.value(item.name))'; known: \(srtOptions.sorted().joined(separator: ", "))")
        }
        if let mode = parts.queryItems?.first(where: { $0.name == "mode" })?.value, !["caller", "listener", "rendezvous"].contains(mode) {
            throw SpecError(field: field, "has mode '\(Redaction.value(mode))'; it must be caller, listener or rendezvous")
        }
    }

    /// A folder for HLS segments: hlssink2 takes the segment location as a printf pattern,
    /// so a `%` in the folder would be read as a conversion.
    static func checkHLSFolder(_ folder: String, field: String) throws(SpecError) {
        try checkPrintable(folder, field: field)
        if folder.contains("%") { throw SpecError(field: field, "holds '%', which HLS segment names cannot have") }
    }
}
