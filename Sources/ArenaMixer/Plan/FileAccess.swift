import CArenaFiles
import Foundation

/// Where a mix may open files: anywhere (`arena run`: the operator's own spec), or only
/// inside one folder (`arena serve`'s data folder). Inside a folder, every open resolves the
/// path again, symbolic links included, and fails if that would leave the folder (Linux's
/// `openat2` with `RESOLVE_BENEATH`), so a link planted after a spec was accepted cannot lead
/// a read or a write out of it.
public struct FileAccess: Sendable, Equatable {
    /// The folder every file must be in; nil: anywhere.
    public let folder: String?

    public static let anywhere = FileAccess(folder: nil)

    public static func inside(_ folder: URL) -> FileAccess { FileAccess(folder: folder.standardized.path) }

    /// Opens `path` with `flags` (`O_CLOEXEC` is added). Inside a folder, no component may
    /// lead out of it (a symbolic link in the folder must be relative and stay inside).
    func open(_ path: String, flags: Int32) throws(FileRefusal) -> Int32 {
        let path = URL(fileURLWithPath: path).standardized.path
        guard let folder else {
            let descriptor = Glibc.open(path, flags | O_CLOEXEC)
            guard descriptor >= 0 else { throw FileRefusal(path: path, code: errno) }
            return descriptor
        }
        let prefix = folder == "/" ? "/" : folder + "/"
        guard path == folder || path.hasPrefix(prefix) else { throw FileRefusal(path: path, code: EXDEV) }
        let relative = path == folder ? "." : String(path.dropFirst(prefix.count))
        let descriptor = arena_open_beneath(folder, relative, flags | O_CLOEXEC)
        // No openat2: an old kernel (ENOSYS), or a container whose seccomp profile refuses it (EPERM).
        if descriptor < 0, errno == ENOSYS || errno == EPERM { return try openChecked(path, flags: flags) }
        guard descriptor >= 0 else { throw FileRefusal(path: path, code: errno) }
        return descriptor
    }

    /// A URI GStreamer may read: a `file://` URI's file is opened here, and GStreamer gets
    /// `file:///proc/self/fd/N` (keep the `OpenFile` while it reads); other URIs only anywhere.
    func reading(_ uri: String) throws(FileRefusal) -> (uri: String, file: OpenFile?) {
        guard let url = URL(string: uri), url.isFileURL else {
            guard folder == nil else { throw FileRefusal(path: uri, code: EXDEV) }
            return (uri, nil)
        }
        let file = OpenFile(try open(url.path, flags: O_RDONLY))
        return ("file://" + file.path, file)
    }

    /// Whether `path` resolves, symbolic links followed, to something in the folder now (not
    /// the folder itself): the path when it exists, else its folder (a file about to be
    /// written), else the path as written. Anywhere: always.
    public func contains(_ path: String) -> Bool {
        folder == nil || resolvedInside(path, orFolderItself: false) != nil
    }

    /// `path` with every symbolic link resolved, if that is in the folder (or is the folder).
    private func resolvedInside(_ path: String, orFolderItself: Bool) -> String? {
        func resolved(_ path: String) -> String? {
            guard let result = realpath(path, nil) else { return nil }
            defer { free(result) }
            return String(cString: result)
        }
        let url = URL(fileURLWithPath: path).standardized
        // Neither the path nor its folder exists: it is judged as written (nothing is there to open).
        let target = resolved(url.path) ?? resolved(url.deletingLastPathComponent().path).map { $0 + "/" + url.lastPathComponent } ?? url.path
        guard let folder, let root = resolved(folder) else { return nil }
        let isInside = [root, folder].contains { target.hasPrefix($0 + "/") } || (orFolderItself && target == root)
        return isInside ? target : nil
    }

    /// Without `openat2` (Linux before 5.6, or refused by seccomp): the resolved path must be
    /// in the resolved folder, and is opened without following a link at its end.
    private func openChecked(_ path: String, flags: Int32) throws(FileRefusal) -> Int32 {
        guard let target = resolvedInside(path, orFolderItself: true) else { throw FileRefusal(path: path, code: EXDEV) }
        let descriptor = Glibc.open(target, flags | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileRefusal(path: path, code: errno) }
        return descriptor
    }
}

/// A file or folder that could not be opened, and why, in a few words.
struct FileRefusal: Error, CustomStringConvertible {
    let path: String
    let code: Int32

    var description: String { "'\(path)' \(reason)" }

    /// Why, without the path.
    var reason: String {
        switch code {
        case EXDEV: return "leads out of the data folder"
        case ELOOP: return "is a symbolic link"
        case ENOENT: return "file not found"
        case ENOTDIR: return "is not a folder"
        default: return "cannot be opened (\(String(cString: strerror(code))))"
        }
    }
}

/// A descriptor closed when the last reference goes: a file opened for a pipeline that reads
/// it through `/proc/self/fd/N` (the file that was checked, whatever its path now leads to).
final class OpenFile: Sendable {
    let descriptor: Int32
    /// The path GStreamer opens: the same file as the descriptor.
    var path: String { "/proc/self/fd/\(descriptor)" }

    init(_ descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }
}
