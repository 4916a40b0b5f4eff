import ArenaMixer
import ArenaSpec
import Foundation

/// Files a spec reads or writes must be in the data folder: a caller of the API cannot make
/// the service read or overwrite files elsewhere.
extension MixRegistry {
    func confine(_ spec: MixSpec) throws {
        for (index, host) in spec.hosts.enumerated() {
            // An input the service would connect out to could reach its own network: only
            // inputs that come to it (RTP, SRT in listener mode) are taken.
            if case .srt(let srt) = host.input, srtListenerPort(srt.location) == nil {
                throw APIError(.unprocessableContent, "hosts[\(index)].input: the service takes SRT in listener mode only (srt://:port?mode=listener)")
            }
            if case .rtmp = host.input {
                throw APIError(.unprocessableContent, "hosts[\(index)].input: RTMP inputs are pulled from a server, which the service does not do; push SRT or RTP to it, or use `arena run`")
            }
            if case .uri(let uri) = host.input {
                guard let url = URL(string: uri), url.isFileURL, (url.host ?? "").isEmpty || url.host == "localhost", access.contains(url.path) else {
                    throw APIError(.unprocessableContent, "hosts[\(index)].input must be an RTP input or a file in the data folder")
                }
            }
            try confineAvatar(of: host, field: "hosts[\(index)]")
        }
        for (name, location) in spec.images.sorted(by: { $0.key < $1.key })
        where !location.hasPrefix("http://") && !location.hasPrefix("https://") && !access.contains(location) {
            throw APIError(.unprocessableContent, "images.\(name) must be an http(s) URL or a file in the data folder")
        }
        try confine(spec.outputs)
    }

    func confineAvatar(of host: MixSpec.Host, field: String) throws {
        if let avatar = host.avatarUrl, !avatar.hasPrefix("http://"), !avatar.hasPrefix("https://"), !access.contains(avatar) {
            throw APIError(.unprocessableContent, "\(field).avatarUrl must be an http(s) URL or a file in the data folder")
        }
    }

    func confine(_ outputs: [OutputTarget]) throws {
        for (index, output) in outputs.enumerated() {
            switch output {
            case .recording(let path, _) where !access.contains(path), .hls(let path, _, _) where !access.contains(path + "/playlist.m3u8"):
                throw APIError(.unprocessableContent, "outputs[\(index)] must write inside the data folder")
            case .recording(let path, _) where !Self.isFolder(URL(fileURLWithPath: path).deletingLastPathComponent().path),
                 .hls(let path, _, _) where !Self.isFolder(path):
                // Else the output would fail and be retried for as long as the mix runs.
                throw APIError(.unprocessableContent, "outputs[\(index)] writes to a folder that does not exist in the data folder")
            default:
                break
            }
        }
    }

    static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
