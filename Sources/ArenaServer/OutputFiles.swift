import ArenaSpec
import Foundation
import Synchronization

/// The files and folders the mixes here write, by mix: no two mixes write one. Two recordings
/// under one name would overwrite each other's segments, and two HLS outputs in one folder
/// delete each other's; a spec must not be able to do that to another mix's output.
final class OutputFiles: Sendable {
    private let taken = Mutex<[String: Set<String>]>([:])

    /// Takes the files `outputs` write for mix `id`: in place of those it had, or (`adding`)
    /// besides them, until a change settles what it writes. Throws 409 naming the first output
    /// that another mix writes already.
    func take(_ outputs: [OutputTarget], for id: String, adding: Bool) throws {
        let places = outputs.map(Self.place)
        try taken.withLock { taken in
            for (index, place) in places.enumerated() {
                guard let place, let other = taken.first(where: { $0.key != id && $0.value.contains(place) })?.key else { continue }
                throw APIError(.conflict, "outputs[\(index)] writes where mix '\(other)' writes; a file or folder is one mix's")
            }
            taken[id] = (adding ? taken[id] ?? [] : []).union(places.compactMap { $0 })
        }
    }

    /// What mix `id` writes now that a change applied (or not): `outputs`, taken before.
    func settle(_ id: String, to outputs: [OutputTarget]) {
        let places = Set(outputs.compactMap(Self.place))
        taken.withLock { $0[id] = places }
    }

    func release(_ id: String) {
        taken.withLock { $0[id] = nil }
    }

    /// Where a file output writes, every link resolved (as far as the path exists); nil for a
    /// network output.
    static func place(_ output: OutputTarget) -> String? {
        func resolved(_ url: URL) -> String {
            guard let real = realpath(url.path, nil) else { return url.path }
            defer { free(real) }
            return String(cString: real)
        }
        switch output {
        case .recording(let path, _):
            let url = URL(fileURLWithPath: path).standardized
            return "recording " + resolved(url.deletingLastPathComponent()) + "/" + url.lastPathComponent
        case .hls(let folder, _, _):
            return "hls " + resolved(URL(fileURLWithPath: folder).standardized)
        case .rtmp, .rtp, .srt:
            return nil
        }
    }
}
