import Foundation

/// A recording's segment files: `talk.mp4` is written as `talk-00001.mp4`, `talk-00002.mp4` ...,
/// each under a hidden partial name (`.talk-00001.mp4.partial`) until it is closed.
struct RecordingFiles {
    let folder: URL
    let stem: String
    let suffix: String

    init(path: String) {
        let url = URL(fileURLWithPath: path)
        folder = url.deletingLastPathComponent()
        suffix = url.pathExtension.isEmpty ? "mp4" : url.pathExtension
        stem = url.deletingPathExtension().lastPathComponent
    }

    func finalPath(_ index: Int) -> String { folder.appendingPathComponent(String(format: "%@-%05d.%@", stem, index, suffix)).path }
    func partialPath(_ index: Int) -> String {
        folder.appendingPathComponent(String(format: ".%@-%05d.%@.partial", stem, index, suffix)).path
    }

    func index(ofPartial path: String) -> Int? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let prefix = ".\(stem)-"
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count).prefix(5))
    }

    /// Renames a closed segment to its final name.
    func publish(partial path: String) {
        guard let index = index(ofPartial: path) else { return }
        _ = try? FileManager.default.removeItem(atPath: finalPath(index))
        try? FileManager.default.moveItem(atPath: path, toPath: finalPath(index))
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
