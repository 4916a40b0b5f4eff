import ArenaOverlay
import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// One host's input, checked.
public struct InputPlan: Sendable {
    public let index: Int
    public let host: MixSpec.Host
    /// What discovery found, for URI inputs (a live RTP input is not probed).
    public let media: MediaInfo?
    public let hasAudio: Bool
}

/// What a mix's inputs and avatars turned out to be, read before it is planned.
public struct ProbedInputs: Sendable {
    public let inputs: [InputPlan]
    /// Avatar images by user id.
    public let avatars: [String: OverlayImage]
    /// The spec's `images` that loaded, by name.
    public let images: [String: OverlayImage]
    /// Avatars that could not be used (the default one shows instead).
    public let warnings: [String]
}

/// The step before planning that touches files and the network: every file or URI input's
/// header is read (in parallel) and every avatar loaded, each within its limits.
public enum InputProbe {
    /// Probes `spec`'s inputs (a live RTP input is not probed: it may not have started) and
    /// avatars; the first unusable input is the error. A render refuses RTP inputs. Files are
    /// opened under `access`.
    public static func probe(_ spec: MixSpec, live: Bool, access: FileAccess = .anywhere) throws(MixError) -> ProbedInputs {
        if !live, let index = spec.hosts.firstIndex(where: { $0.input.isLive }) {
            let kind = switch spec.hosts[index].input { case .srt: "SRT"; case .rtmp: "RTMP"; case .rtp, .uri: "RTP" }
            throw .spec(SpecError(field: "hosts[\(index)].input", "is a live \(kind) input; live inputs are mixed by `arena run`"))
        }
        let inputs = try inspect(spec.hosts, access: access)
        let (avatars, images, warnings) = AvatarLoader.load(spec, access: access)
        return ProbedInputs(inputs: inputs, avatars: avatars, images: images, warnings: warnings)
    }

    /// Reads every input's streams in parallel; the first unusable one is reported.
    private static func inspect(_ hosts: [MixSpec.Host], access: FileAccess) throws(MixError) -> [InputPlan] {
        let results = Mutex([Result<MediaInfo?, MixError>?](repeating: nil, count: hosts.count))
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let result = inspect(hosts[index], field: "hosts[\(index)].input", access: access)
            results.withLock { $0[index] = result }
        }
        let found = results.withLock { $0 }
        return try hosts.indices.map { index throws(MixError) in
            switch found[index]! {
            case .success(let media):
                let hasAudio: Bool
                switch hosts[index].input {
                case .uri: hasAudio = !(media?.audio.isEmpty ?? true)
                case .rtp(let rtp): hasAudio = rtp.audio != nil
                case .srt(let stream), .rtmp(let stream): hasAudio = stream.hasAudio
                }
                return InputPlan(index: index, host: hosts[index], media: media, hasAudio: hasAudio)
            case .failure(let error): throw error
            }
        }
    }

    private static func inspect(_ host: MixSpec.Host, field: String, access: FileAccess) -> Result<MediaInfo?, MixError> {
        guard case .uri(let uri) = host.input else { return .success(nil) }
        let readable: (uri: String, file: OpenFile?)
        do {
            readable = try access.reading(uri)
        } catch {
            return .failure(.input(field: field, uri: URL(string: uri)?.path ?? uri, reason: error.reason))
        }
        let media: MediaInfo
        do {
            media = try withExtendedLifetime(readable.file) { try MediaInfo.discover(uri: readable.uri) }
        } catch {
            return .failure(.input(field: field, uri: uri, reason: "cannot be decoded: \((error as? GStreamerError)?.message ?? "\(error)")"))
        }
        guard let video = media.video.first else {
            return .failure(.input(field: field, uri: uri, reason: "has no video stream"))
        }
        guard video.width > 0, video.height > 0 else {
            return .failure(.input(field: field, uri: uri, reason: "its video has no picture size"))
        }
        return .success(media)
    }
}
