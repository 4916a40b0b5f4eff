import Foundation

/// A recording's segment files: `talk.mp4` is written as `talk-00001.mp4`, `talk-00002.mp4` ...,
/// each under a hidden partial name (`.talk-00001.mp4.partial`) until it is closed, all in the
/// recording's folder held open (``PinnedFolder``).
struct RecordingFiles: Sendable {
    let folder: PinnedFolder
    let stem: String
    let suffix: String

    /// Opens the folder of `path`; throws when it cannot be.
    init(path: String, access: FileAccess) throws {
        let url = URL(fileURLWithPath: path)
        folder = try PinnedFolder(url.deletingLastPathComponent().path, access: access)
        suffix = url.pathExtension.isEmpty ? "mp4" : url.pathExtension
        stem = url.deletingPathExtension().lastPathComponent
    }

    func finalName(_ index: Int) -> String { String(format: "%@-%05d.%@", stem, index, suffix) }
    func partialName(_ index: Int) -> String { String(format: ".%@-%05d.%@.partial", stem, index, suffix) }

    /// Where segment `index` is written while open.
    func partialPath(_ index: Int) -> String { folder.freshFile(partialName(index)) }

    func index(ofPartial path: String) -> Int? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let prefix = ".\(stem)-"
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count).prefix(5))
    }

    /// Renames a closed segment to its final name.
    func publish(partial path: String) {
        guard let index = index(ofPartial: path) else { return }
        folder.rename(partialName(index), to: finalName(index))
    }

    /// Publishes the segments a killed run left open: a Matroska segment's blocks are written as
    /// they come, so the file plays up to its last frame; an empty one is removed. An MP4 segment
    /// is unplayable without the index written at its close, and stays hidden.
    func salvageLeftovers() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names {
            guard let index = index(ofPartial: name), name == partialName(index) else { continue }
            let size = (try? FileManager.default.attributesOfItem(atPath: folder.path + "/" + name)[.size] as? Int) ?? 0
            if size == 0 {
                folder.remove(name)
            } else if suffix.lowercased() == "mkv", !names.contains(finalName(index)) {
                folder.rename(name, to: finalName(index))
            }
        }
    }

    /// The first index after every segment already in the folder, so a new run never
    /// overwrites an earlier one's.
    func firstFreeIndex() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let taken = names.compactMap { name -> Int? in
            let prefix = "\(stem)-", dotted = ".\(stem)-"
            let rest = name.hasPrefix(prefix) ? name.dropFirst(prefix.count) : name.hasPrefix(dotted) ? name.dropFirst(dotted.count) : nil
            return rest.flatMap { Int($0.prefix(5)) }
        }
        return (taken.max() ?? 0) + 1
    }
}
