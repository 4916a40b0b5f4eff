import ArenaFrame
import ArenaLayout
import ArenaOverlay
import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit

/// One host's input, checked.
public struct InputPlan: Sendable {
    public let index: Int
    public let host: MixSpec.Host
    /// What discovery found, for URI inputs (a live RTP input is not probed).
    public let media: MediaInfo?
    public let hasAudio: Bool
}

/// A mix spec resolved against the templates and its inputs: everything the pipeline needs.
public struct MixPlan: Sendable {
    public let spec: MixSpec
    public let template: LayoutTemplate
    public let canvas: Canvas
    public let frameCount: Int
    public let inputs: [InputPlan]
    /// The session at every moment, and every notice the timeline produces.
    public let sessions: SessionSchedule
    /// The session at time 0: the hosts without a `hostJoined` in the timeline are in.
    public let initialSession: Session
    public let schedule: LayoutSchedule
    /// Where a render writes (nil for a live mix, which writes to `spec.outputs`).
    public let outputPath: String?
    public let container: MixSpec.Container
    /// A live mix runs on wall time until stopped (or for `spec.duration`, if given).
    public let isLive: Bool
    /// A live mix without a duration: runs until stopped.
    public var isOpenEnded: Bool { isLive && spec.duration == nil }
    /// Avatar images by user id, loaded up front.
    public let avatars: [String: OverlayImage]
    /// What could not be used but does not stop the mix (an avatar that failed to load).
    public let warnings: [String]

    /// Duration in nanoseconds: exactly `frameCount` frames.
    public var duration: UInt64 { UInt64(frameCount) * nanosecondsPerSecond / UInt64(canvas.framesPerSecond) }

    /// Resolves `spec`; `outputOverride` replaces `output.path`. Reads every input's header
    /// (but a live RTP input's, which may not have started). `live` plans `arena run`.
    public init(spec: MixSpec, templates: TemplateLibrary, outputOverride: String? = nil, live: Bool = false) throws(MixError) {
        self.spec = spec
        isLive = live
        do {
            template = try templates.template(spec.templateId)
        } catch {
            throw .spec(SpecError(field: "template", "is \(spec.templateId): \(error)"))
        }
        let size = spec.canvasSize ?? template.canvas
        canvas = Canvas(size: size, framesPerSecond: spec.framesPerSecond, background: spec.background)
        do {
            try template.validate(on: size)
        } catch {
            throw .spec(SpecError(field: "canvas", "does not suit the template: \(error)"))
        }
        guard spec.hosts.count <= template.maxHosts else {
            throw .spec(SpecError(field: "hosts", "lists \(spec.hosts.count) hosts, but template \(template.id) seats at most \(template.maxHosts)"))
        }

        if !live, let index = spec.hosts.firstIndex(where: { if case .rtp = $0.input { true } else { false } }) {
            throw .spec(SpecError(field: "hosts[\(index)].input", "is a live RTP input; live inputs are mixed by `arena run`"))
        }
        inputs = try Self.inspect(spec.hosts)
        (avatars, warnings) = AvatarLoader.load(spec.hosts, allowPrivateHosts: spec.allowPrivateAvatarHosts)
        // A live mix without a duration is checked up to its last timed event.
        let lastEvent = Double(spec.timeline.map(\.at).max() ?? 0) / 1e9 + 1
        let seconds = spec.duration ?? (live ? lastEvent : inputs.compactMap { $0.media?.duration }.max())
        guard let seconds, seconds > 0 else {
            throw .spec(SpecError(field: "duration", "is required: no input has a known duration"))
        }
        frameCount = max(1, Int((seconds * Double(spec.framesPerSecond)).rounded()))
        let end = UInt64(frameCount) * nanosecondsPerSecond / UInt64(spec.framesPerSecond)
        if let late = spec.timeline.firstIndex(where: { $0.at >= end }) {
            throw .spec(SpecError(field: "timeline[\(late)].at", "is \(Double(spec.timeline[late].at) / 1e9) s, not before the mix's end (\(Double(end) / 1e9) s)"))
        }

        // Hosts with a hostJoined in the timeline join then; the others are there from the start.
        let joinsLater = Set(spec.timeline.compactMap { timed -> String? in
            if case .hostJoined(let user) = timed.event { return user }
            return nil
        })
        var initial = Session(owner: spec.hosts[0].userId, knownUsers: Set(spec.hosts.map(\.userId)), maxHosts: template.maxHosts)
        for host in spec.hosts where !joinsLater.contains(host.userId) {
            _ = try? initial.apply(.hostJoined(userId: host.userId))  // cannot fail: known, new, within maxHosts
        }
        initialSession = initial
        do {
            sessions = try SessionSchedule(initial: initial, events: spec.timeline, until: end)
        } catch {
            throw .timeline(error)
        }
        do {
            schedule = try LayoutSchedule(sessions: sessions, template: template, canvas: size)
        } catch {
            throw .layout(error)
        }

        if live {
            outputPath = nil
            container = spec.output.container ?? .mp4
            guard !spec.outputs.isEmpty else { throw .spec(SpecError(field: "outputs", "is required: list where the live mix goes")) }
            for target in spec.outputs {
                switch target {
                case .recording(let path, _): try Self.checkFolder(of: path)
                case .hls(let folder, _, _): try Self.checkFolder(of: folder + "/playlist.m3u8")
                case .rtmp, .rtp, .srt: break
                }
            }
            return
        }
        guard let path = outputOverride ?? spec.output.path else {
            throw .spec(SpecError(field: "output.path", "is required (or pass --output)"))
        }
        let outputPath = URL(fileURLWithPath: path).standardized.path
        self.outputPath = outputPath
        container = spec.output.container ?? (outputPath.lowercased().hasSuffix(".mkv") ? .mkv : .mp4)
        try Self.checkFolder(of: outputPath)
    }

    private static func checkFolder(of path: String) throws(MixError) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw .output(path: path, reason: "its folder \(folder) does not exist")
        }
    }

    /// Reads every input's streams in parallel; the first unusable one is reported.
    private static func inspect(_ hosts: [MixSpec.Host]) throws(MixError) -> [InputPlan] {
        var results = [Result<MediaInfo?, MixError>?](repeating: nil, count: hosts.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let result = inspect(hosts[index], field: "hosts[\(index)].input")
            lock.lock()
            results[index] = result
            lock.unlock()
        }
        return try hosts.indices.map { index throws(MixError) in
            switch results[index]! {
            case .success(let media):
                let hasAudio: Bool
                switch hosts[index].input {
                case .uri: hasAudio = !(media?.audio.isEmpty ?? true)
                case .rtp(let rtp): hasAudio = rtp.audio != nil
                }
                return InputPlan(index: index, host: hosts[index], media: media, hasAudio: hasAudio)
            case .failure(let error): throw error
            }
        }
    }

    private static func inspect(_ host: MixSpec.Host, field: String) -> Result<MediaInfo?, MixError> {
        guard case .uri(let uri) = host.input else { return .success(nil) }
        if let url = URL(string: uri), url.isFileURL, !FileManager.default.fileExists(atPath: url.path) {
            return .failure(.input(field: field, uri: url.path, reason: "file not found"))
        }
        let media: MediaInfo
        do {
            media = try MediaInfo.discover(uri: uri)
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
