import ArenaOverlay
import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Loads the hosts' avatar images before a mix starts, so that nothing fetched can stall the
/// frame clock. Each is bounded in time and size; an http(s) URL may not point at a
/// loopback or private address unless allowed (a mix spec is not trusted to reach inside
/// the network). Whatever fails falls back to the default avatar with one warning.
enum AvatarLoader {
    static let timeLimit: TimeInterval = 3
    static let sizeLimit = 5 * 1024 * 1024

    /// Images by user id, and a warning for each avatar that could not be used.
    static func load(_ hosts: [MixSpec.Host], allowPrivateHosts: Bool) -> (images: [String: OverlayImage], warnings: [String]) {
        let loaded = Mutex([Result<OverlayImage, AvatarError>?](repeating: nil, count: hosts.count))
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            guard let url = hosts[index].avatarUrl else { return }
            let result = load(url, allowPrivateHosts: allowPrivateHosts)
            loaded.withLock { $0[index] = result }
        }
        let results = loaded.withLock { $0 }
        var images: [String: OverlayImage] = [:]
        var warnings: [String] = []
        for (index, result) in results.enumerated() {
            switch result {
            case .success(let image): images[hosts[index].userId] = image
            case .failure(let error):
                warnings.append("hosts[\(index)].avatarUrl (\(hosts[index].avatarUrl!)): \(error.reason); using the default avatar")
            case nil: break
            }
        }
        return (images, warnings)
    }

    struct AvatarError: Error {
        let reason: String
    }

    private static func load(_ location: String, allowPrivateHosts: Bool) -> Result<OverlayImage, AvatarError> {
        let file: URL
        var downloaded: URL?
        defer { if let downloaded { try? FileManager.default.removeItem(at: downloaded) } }
        if let url = URL(string: location), let scheme = url.scheme?.lowercased(), scheme != "file" {
            guard scheme == "http" || scheme == "https", let host = url.host else {
                return .failure(AvatarError(reason: "only files and http(s) URLs are read"))
            }
            if !allowPrivateHosts, let address = privateAddress(of: host) {
                return .failure(AvatarError(reason: "refers to a loopback or private address (\(address))"))
            }
            switch download(url) {
            case .success(let path): file = path; downloaded = path
            case .failure(let error): return .failure(error)
            }
        } else {
            file = URL(string: location).flatMap { $0.isFileURL ? $0 : nil } ?? URL(fileURLWithPath: location)
            guard let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int else {
                return .failure(AvatarError(reason: "file not found"))
            }
            guard size <= sizeLimit else { return .failure(AvatarError(reason: "larger than \(sizeLimit / 1024 / 1024) MB")) }
        }
        do {
            let decoded = try StillImage.decode(path: file.path)
            return .success(OverlayImage(x: 0, y: 0, width: decoded.width, height: decoded.height, pixels: decoded.pixels))
        } catch {
            return .failure(AvatarError(reason: "not an image GStreamer can read"))
        }
    }

    /// Fetches `url` into a temporary file within the time and size limits.
    private static func download(_ url: URL) -> Result<URL, AvatarError> {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeLimit
        configuration.timeoutIntervalForResource = timeLimit
        let session = URLSession(configuration: configuration)
        defer { session.invalidateAndCancel() }
        let done = DispatchSemaphore(value: 0)
        let answer = Mutex<Result<Data, AvatarError>>(.failure(AvatarError(reason: "no answer within \(Int(timeLimit)) s")))
        session.dataTask(with: url) { data, response, error in
            let outcome: Result<Data, AvatarError>
            if let error {
                outcome = .failure(AvatarError(reason: "cannot be fetched: \(error.localizedDescription)"))
            } else if let status = (response as? HTTPURLResponse)?.statusCode, status != 200 {
                outcome = .failure(AvatarError(reason: "the server answered \(status)"))
            } else if let data, data.count > sizeLimit {
                outcome = .failure(AvatarError(reason: "larger than \(sizeLimit / 1024 / 1024) MB"))
            } else {
                outcome = .success(data ?? Data())
            }
            answer.withLock { $0 = outcome }
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + timeLimit + 1) == .success else {
            return .failure(AvatarError(reason: "no answer within \(Int(timeLimit)) s"))
        }
        return answer.withLock { $0 }.flatMap { data in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("arena-avatar-\(UUID().uuidString)")
            do {
                try data.write(to: file)
                return .success(file)
            } catch {
                return .failure(AvatarError(reason: "cannot be stored: \(error.localizedDescription)"))
            }
        }
    }

    /// The first address `host` resolves to that is loopback, private, link-local or
    /// unspecified, if any.
    static func privateAddress(of host: String) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let entry = node {
            defer { node = entry.pointee.ai_next }
            guard let address = entry.pointee.ai_addr else { continue }
            if entry.pointee.ai_family == AF_INET {
                let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
                let isPrivate = bytes[0] == 127 || bytes[0] == 10 || bytes[0] == 0 || (bytes[0] == 169 && bytes[1] == 254)
                    || (bytes[0] == 172 && (16...31).contains(bytes[1])) || (bytes[0] == 192 && bytes[1] == 168)
                    || (bytes[0] == 100 && (64...127).contains(bytes[1]))
                if isPrivate { return bytes.map(String.init).joined(separator: ".") }
            } else if entry.pointee.ai_family == AF_INET6 {
                let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
                let loopback = bytes.dropLast().allSatisfy { $0 == 0 } && (bytes.last == 1 || bytes.last == 0)
                let local = bytes[0] & 0xFE == 0xFC || (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80)
                let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
                if loopback || local || mapped { return "IPv6 \(bytes.map { String($0, radix: 16) }.joined(separator: ":"))" }
            }
        }
        return nil
    }
}
