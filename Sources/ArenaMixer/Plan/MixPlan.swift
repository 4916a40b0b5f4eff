import ArenaFrame
import ArenaLayout
import ArenaOverlay
import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit

/// A mix spec resolved against the templates and its probed inputs: everything the graph,
/// the outputs and the overlays need. Nothing after the plan reads the spec.
public struct MixPlan: Sendable {
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
    public let isOpenEnded: Bool
    /// Avatar images by user id, loaded up front.
    public let avatars: [String: OverlayImage]
    /// What could not be used but does not stop the mix (an avatar that failed to load).
    public let warnings: [String]
    /// The timeline's events (a live mix applies them as its output reaches their times).
    public let timeline: [TimedEvent]
    public let video: MixSpec.VideoEncoding
    public let audio: MixSpec.AudioEncoding
    /// Where a live mix sends its encode.
    public let outputs: [OutputTarget]
    /// How a live mix treats inputs that go quiet.
    public let live: LiveSettings
    /// The overlays' skin, with the spec's switches, colours and font applied.
    public let skin: Skin
    /// The spec's `images` that loaded, by name.
    public let images: [String: OverlayImage]
    /// The decorations the mix starts with.
    public let decorations: Decorations
    /// Where the mix may open files.
    public let access: FileAccess

    /// One output frame's duration in nanoseconds.
    public var frameDuration: UInt64 { nanosecondsPerSecond / UInt64(canvas.framesPerSecond) }

    /// Duration in nanoseconds: exactly `frameCount` frames.
    public var duration: UInt64 { UInt64(frameCount) * nanosecondsPerSecond / UInt64(canvas.framesPerSecond) }

    /// Probes `spec`'s inputs and avatars (see ``InputProbe``), then plans with them. Every
    /// file the mix opens, then and while it runs, is opened under `access`.
    public init(spec: MixSpec, templates: TemplateLibrary, outputOverride: String? = nil, live: Bool = false,
                access: FileAccess = .anywhere) throws(MixError) {
        try self.init(spec: spec, probed: try InputProbe.probe(spec, live: live, access: access), templates: templates,
                      outputOverride: outputOverride, live: live, access: access)
    }

    /// Resolves `spec` with what the probe found; `outputOverride` replaces `output.path`.
    /// `live` plans `arena run`. Reads no file and no network.
    public init(spec: MixSpec, probed: ProbedInputs, templates: TemplateLibrary, outputOverride: String? = nil,
                live: Bool = false, access: FileAccess = .anywhere) throws(MixError) {
        self.access = access
        isLive = live
        isOpenEnded = live && spec.duration == nil
        timeline = spec.timeline
        video = spec.output.video
        audio = spec.output.audio
        outputs = spec.outputs
        self.live = spec.live
        do throws(SpecError) {
            skin = try SkinLibrary.resolve(spec.overlays)
            if let unknown = SkinLibrary.imageSources(skin).first(where: { spec.images[$0] == nil }) {
                throw SpecError(field: "overlays.skin", "shows the image \"\(Redaction.value(unknown))\", which images does not name")
            }
        } catch {
            throw .spec(error)
        }
        images = probed.images
        decorations = spec.decorations
        inputs = probed.inputs
        avatars = probed.avatars
        warnings = probed.warnings
        do {
            template = try spec.customLayout ?? templates.template(spec.templateId)
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
}
