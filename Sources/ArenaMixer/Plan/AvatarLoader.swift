import ArenaFetch
import ArenaOverlay
import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// Loads the hosts' avatar images (and the mix's named images) before a mix starts, so that nothing fetched can stall the
/// frame clock. Each is bounded in time and size, fetched through `GuardedFetch` (an http(s)
/// URL may not reach a loopback or private address unless the operator allows it, nor be
/// redirected there), and its header is read before it is decoded: at most 4096 x 4096
/// pixels, PNG or JPEG. Whatever fails falls back to the default avatar with one warning,
/// which shows the URL without credentials or query.
enum AvatarLoader {
    static let timeLimit = 3
    static let sizeLimit = 5 * 1024 * 1024
    static let maximumSide = 4096
    /// Kept at most this large once decoded (16 images and 9 avatars stay in memory for the mix).
    static let keptSide = 1280

    /// One picture to load: its key among the results, where it is, the field that names it
    /// and what shows instead if it fails (for the warning).
    struct Picture {
        let key: String
        let location: String
        let field: String
        let instead: String
    }

    /// The hosts' avatars by user id, and the mix's `images` by name, with a warning for each
    /// that could not be used.
    static func load(_ spec: MixSpec, access: FileAccess) -> (avatars: [String: OverlayImage], images: [String: OverlayImage], warnings: [String]) {
        let avatars = spec.hosts.enumerated().compactMap { index, host in
            host.avatarUrl.map { Picture(key: host.userId, location: $0, field: "hosts[\(index)].avatarUrl", instead: "using the default avatar") }
        }
        let images = spec.images.keys.sorted().map { name in
            Picture(key: name, location: spec.images[name]!, field: "images.\(name)", instead: "not shown")
        }
        let results = load(avatars + images, allowPrivateHosts: spec.allowPrivateAvatarHosts, access: access)
        var warnings: [String] = []
        func collect(_ pictures: [Picture], _ results: ArraySlice<Result<OverlayImage, AvatarError>>) -> [String: OverlayImage] {
            var loaded: [String: OverlayImage] = [:]
            for (picture, result) in zip(pictures, results) {
                switch result {
                case .success(let image): loaded[picture.key] = image
                case .failure(let error): warnings.append("\(picture.field) (\(Redaction.url(picture.location))): \(error.reason); \(picture.instead)")
                }
            }
            return loaded
        }
        return (collect(avatars, results.prefix(avatars.count)), collect(images, results.dropFirst(avatars.count)), warnings)
    }

    /// `pictures` loaded in parallel, in their order.
    private static func load(_ pictures: [Picture], allowPrivateHosts: Bool, access: FileAccess) -> [Result<OverlayImage, AvatarError>] {
        let fetch = GuardedFetch(allowInternalAddresses: allowPrivateHosts, timeLimit: .seconds(Int64(timeLimit)), sizeLimit: sizeLimit)
        let loaded = Mutex([Result<OverlayImage, AvatarError>](repeating: .failure(AvatarError(reason: "not loaded")), count: pictures.count))
        DispatchQueue.concurrentPerform(iterations: pictures.count) { index in
            let result = load(pictures[index].location, fetch: fetch, access: access)
            loaded.withLock { $0[index] = result }
        }
        return loaded.withLock { $0 }
    }

    struct AvatarError: Error {
        let reason: String
    }

    private static func load(_ location: String, fetch: GuardedFetch, access: FileAccess) -> Result<OverlayImage, AvatarError> {
        let bytes: [UInt8]
        if let url = URL(string: location), let scheme = url.scheme?.lowercased(), scheme != "file" {
            guard scheme == "http" || scheme == "https" else { return .failure(AvatarError(reason: "only files and http(s) URLs are read")) }
            switch fetch.get(url) {
            case .success(let body): bytes = body
            case .failure(let failure): return .failure(AvatarError(reason: failure.description))
            }
        } else {
            let path = URL(string: location).flatMap { $0.isFileURL ? $0.path : nil } ?? location
            switch read(path, access: access) {
            case .success(let body): bytes = body
            case .failure(let error): return .failure(error)
            }
        }
        guard let size = ImageHeader.size(of: bytes) else { return .failure(AvatarError(reason: "not a PNG or JPEG picture")) }
        guard (1...maximumSide).contains(size.width), (1...maximumSide).contains(size.height) else {
            return .failure(AvatarError(reason: "\(size.width) x \(size.height) pixels (at most \(maximumSide) x \(maximumSide))"))
        }
        return decode(bytes)
    }

    /// The file's bytes, at most `sizeLimit` of them, opened under `access`.
    private static func read(_ path: String, access: FileAccess) -> Result<[UInt8], AvatarError> {
        let descriptor: Int32
        do {
            descriptor = try access.open(path, flags: O_RDONLY)
        } catch {
            return .failure(AvatarError(reason: error.reason))
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        guard let data = try? handle.read(upToCount: sizeLimit + 1) else { return .failure(AvatarError(reason: "cannot be read")) }
        guard data.count <= sizeLimit else { return .failure(AvatarError(reason: "larger than \(sizeLimit / 1024 / 1024) MB")) }
        return .success(Array(data))
    }

    /// Decodes through a private temporary file (GStreamer reads files).
    private static func decode(_ bytes: [UInt8]) -> Result<OverlayImage, AvatarError> {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("arena-avatar-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            try Data(bytes).write(to: file)
            let decoded = try StillImage.decode(path: file.path, maxSide: maximumSide)
            return .success(OverlayImage(x: 0, y: 0, width: decoded.width, height: decoded.height, pixels: decoded.pixels).fitted(within: keptSide))
        } catch {
            return .failure(AvatarError(reason: "not an image GStreamer can read"))
        }
    }
}
