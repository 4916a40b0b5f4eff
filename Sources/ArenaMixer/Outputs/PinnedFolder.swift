import Foundation

/// An output folder held open from the moment its output starts: segments and playlists are
/// written through `/proc/self/fd/N`, which is the folder that was opened, so that replacing
/// the folder or one of its parents with a symbolic link later cannot send the writes
/// elsewhere. The folder is opened under the mix's `FileAccess`: in the service, through
/// nothing that leads out of the data folder.
final class PinnedFolder: Sendable {
    /// The path GStreamer and file operations use: `/proc/self/fd/N`.
    let path: String
    private let descriptor: Int32

    /// Opens `folder`; throws when it is missing, not a folder, or out of `access`' reach.
    init(_ folder: String, access: FileAccess) throws {
        do {
            descriptor = try access.open(folder, flags: O_RDONLY | O_DIRECTORY)
        } catch {
            throw OutputFolderError(message: error.code == ENOENT ? "the folder '\(folder)' does not exist" : "the folder \(error)")
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

    /// Removes file `name` from this folder.
    func remove(_ name: String) {
        unlinkat(descriptor, name, 0)
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
