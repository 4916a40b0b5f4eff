import ArenaSpec
import Foundation
import Synchronization

/// The files and folders the mixes here write, by mix: no two mixes write one. Two recordings
/// under one name would overwrite each other's segments, and two HLS outputs in one folder
/// delete each other's; a spec must not be able to do that to another mix's output. Each
/// mix's places are its entry's: a change that ends after the mix was dropped changes nothing.
final class OutputFiles: Sendable {
    /// By mix id: the entry whose places they are, and the places.
    private typealias Taken = [String: (entry: ObjectIdentifier, places: Set<String>)]
    private let taken = Mutex<Taken>([:])

    /// Gives `entry` the `places` (from `places(of:)`) its outputs write; throws 409 naming the
    /// first output whose place another mix has (`checked`; else they are given anyway).
    func register(_ entry: MixEntry, places: [String?], checked: Bool) throws {
        try taken.withLock { taken in
            if checked { try Self.refuseTaken(places, by: entry.id, in: taken) }
            taken[entry.id] = (ObjectIdentifier(entry), Set(places.compactMap { $0 }))
        }
    }

    /// Adds the places `outputs` write to those `entry` has, until `settle`; throws 409 naming
    /// the first output whose place another mix has. Nothing if `entry` was dropped.
    func add(_ outputs: [OutputTarget], for entry: MixEntry) throws {
        let places = Self.places(of: outputs)
        try taken.withLock { taken in
            guard let mine = taken[entry.id], mine.entry == ObjectIdentifier(entry) else { return }
            try Self.refuseTaken(places, by: entry.id, in: taken)
            taken[entry.id] = (mine.entry, mine.places.union(places.compactMap { $0 }))
        }
    }

    /// What `entry` writes once a change applied (or not): `outputs`, whose places it had.
    func settle(_ entry: MixEntry, to outputs: [OutputTarget]) {
        let places = Set(Self.places(of: outputs).compactMap { $0 })
        taken.withLock { taken in
            guard taken[entry.id]?.entry == ObjectIdentifier(entry) else { return }
            taken[entry.id] = (ObjectIdentifier(entry), places)
        }
    }

    func release(_ entry: MixEntry) {
        taken.withLock { taken in
            if taken[entry.id]?.entry == ObjectIdentifier(entry) { taken[entry.id] = nil }
        }
    }

    private static func refuseTaken(_ places: [String?], by id: String, in taken: Taken) throws {
        for (index, place) in places.enumerated() {
            guard let place, let other = taken.first(where: { $0.key != id && $0.value.places.contains(place) })?.key else { continue }
            throw APIError(.conflict, "outputs[\(index)] writes where mix '\(other)' writes; a file or folder is one mix's")
        }
    }

    /// Where each file output writes, every link resolved (as far as the path exists); nil for
    /// a network output. It touches the file system: call it before taking a lock.
    static func places(of outputs: [OutputTarget]) -> [String?] {
        func resolved(_ url: URL) -> String {
            guard let real = realpath(url.path, nil) else { return url.path }
            defer { free(real) }
            return String(cString: real)
        }
        return outputs.map { output in
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
}
