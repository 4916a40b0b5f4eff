import ArenaLayout
import ArenaOverlay
import ArenaSession
import Foundation
import GStreamerKit

/// Where every host is, and whose camera and microphone are off, from one moment of the mix on.
public struct FrameLayout: Equatable, Sendable {
    public let placements: [Placement]
    public let cameraOff: Set<String>
    public let micOff: Set<String>

    public func placement(of userId: String) -> Placement? {
        placements.first { $0.userId == userId }
    }
}

/// The layout at every moment of a render, computed up front from the timeline.
public struct LayoutSchedule: Sendable {
    public let changes: [(at: UInt64, layout: FrameLayout)]

    init(sessions: SessionSchedule, template: LayoutTemplate, canvas: Size) throws(MixError) {
        var seats = SeatMap(template: template)
        var changes: [(at: UInt64, layout: FrameLayout)] = []
        for (at, session) in sessions.changes {
            do {
                try seats.update(connected: session.connected, owner: session.owner)
            } catch {
                throw .layout(error)
            }
            let layout = FrameLayout(placements: template.placements(seats, on: canvas), cameraOff: session.cameraOff,
                                     micOff: session.micOff)
            if changes.last?.layout != layout { changes.append((at, layout)) }
        }
        self.changes = changes
    }

    /// The layout in force at `time` (nanoseconds of mix time). Called per frame and per
    /// buffer, so a binary search.
    public func layout(at time: UInt64) -> FrameLayout {
        changes[changes.lastIndex(atOrBefore: time) { $0.at } ?? 0].layout
    }
}

/// One host's input, checked.
public struct InputPlan: Sendable {
    public let index: Int
    public let host: MixSpec.Host
    public let media: MediaInfo
    public var hasAudio: Bool { !media.audio.isEmpty }
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
    public let schedule: LayoutSchedule
    public let outputPath: String
    public let container: MixSpec.Container
    /// Avatar images by user id, loaded up front.
    public let avatars: [String: OverlayImage]
    /// What could not be used but does not stop the mix (an avatar that failed to load).
    public let warnings: [String]

    /// Duration in nanoseconds: exactly `frameCount` frames.
    public var duration: UInt64 { UInt64(frameCount) * nanosecondsPerSecond / UInt64(canvas.framesPerSecond) }

    /// Resolves `spec`; `outputOverride` replaces `output.path`. Reads every input's header.
    public init(spec: MixSpec, templates: TemplateLibrary, outputOverride: String? = nil) throws(MixError) {
        self.spec = spec
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

        inputs = try Self.inspect(spec.hosts)
        (avatars, warnings) = AvatarLoader.load(spec.hosts, allowPrivateHosts: spec.allowPrivateAvatarHosts)
        let seconds = spec.duration ?? inputs.compactMap(\.media.duration).max()
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
        do {
            sessions = try SessionSchedule(initial: initial, events: spec.timeline, until: end)
        } catch {
            throw .timeline(error)
        }
        schedule = try LayoutSchedule(sessions: sessions, template: template, canvas: size)

        guard let path = outputOverride ?? spec.output.path else {
            throw .spec(SpecError(field: "output.path", "is required (or pass --output)"))
        }
        outputPath = URL(fileURLWithPath: path).standardized.path
        container = spec.output.container ?? (outputPath.lowercased().hasSuffix(".mkv") ? .mkv : .mp4)
        let folder = URL(fileURLWithPath: outputPath).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw .output(path: outputPath, reason: "its folder \(folder) does not exist")
        }
    }

    /// Reads every input's streams in parallel; the first unusable one is reported.
    private static func inspect(_ hosts: [MixSpec.Host]) throws(MixError) -> [InputPlan] {
        var results = [Result<MediaInfo, MixError>?](repeating: nil, count: hosts.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let result = inspect(hosts[index], field: "hosts[\(index)].input")
            lock.lock()
            results[index] = result
            lock.unlock()
        }
        return try hosts.indices.map { index throws(MixError) in
            switch results[index]! {
            case .success(let media): return InputPlan(index: index, host: hosts[index], media: media)
            case .failure(let error): throw error
            }
        }
    }

    private static func inspect(_ host: MixSpec.Host, field: String) -> Result<MediaInfo, MixError> {
        let uri = host.inputURI
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
