import Foundation

/// An output folder held open from the moment its output starts: segments and playlists are
/// written through `/proc/self/fd/N`, which is the folder that was opened, so that replacing
/// the folder or one of its parents with a symbolic link later cannot send the writes
/// elsewhere. The folder itself must not be a symbolic link when it is opened.
final class PinnedFolder: Sendable {
    /// The path GStreamer and file operations use: `/proc/self/fd/N`.
    let path: String
    private let descriptor: Int32

    /// Opens `folder`; throws when it is missing, not a folder, or a symbolic link.
    init(_ folder: String) throws {
        descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw OutputFolderError(message: errno == ELOOP || errno == ENOTDIR
                ? "the folder '\(folder)' is a symbolic link or not a folder" : "the folder '\(folder)' cannot be opened")
        }
        path = "/proc/self/fd/\(descriptor)"
    }

    deinit { close(descriptor) }

    /// `name` in this folder, made free for a new file: a symbolic link planted under that
    /// name is removed, so the file is created in the folder rather than where the link points.
    func freshFile(_ name: String) -> String {
        var status = stat()
        if fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_mode & S_IFMT == S_IFLNK {
            unlinkat(descriptor, name, 0)
        }
        return path + "/" + name
    }

    /// Renames `from` to `to`, both names in this folder (a link at `to` is replaced, not followed).
    func rename(_ from: String, to: String) {
        renameat(descriptor, from, descriptor, to)
    }
}

struct OutputFolderError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
