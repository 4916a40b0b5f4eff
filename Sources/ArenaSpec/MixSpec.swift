import ArenaLayout
import ArenaSession
import Foundation

/// A mix as the user describes it in JSON; every field is documented in the README.
public struct MixSpec: Sendable {
    public struct Host: Sendable {
        public var userId: String
        public var userName: String
        public var avatarUrl: String?
        public var input: InputSource
        /// Loudness in the audio mix (1 as sent, 0 silent).
        public var volume = 1.0
    }

    public enum Container: String, Sendable, CaseIterable { case mp4, mkv }
    public enum AudioCodec: String, Sendable, CaseIterable { case aac, opus }

    public struct VideoEncoding: Sendable {
        public var bitrateKbps = 3000
        /// x264 speed preset.
        public var preset = "veryfast"
        public var keyframeIntervalSeconds = 2.0
        /// Which frames carry the layout and scores as an SEI message.
        public var layoutSEI = LayoutSEI.keyframes
    }

    /// When the H.264 output carries the layout and scores (an SEI user-data-unregistered message).
    public enum LayoutSEI: String, CaseIterable, Sendable {
        /// Every keyframe, and every frame whose cells or battle changed.
        case keyframes
        case everyFrame
        case off
    }

    public struct AudioEncoding: Sendable {
        public var codec = AudioCodec.aac
        public var bitrateKbps = 128
    }

    public struct Output: Sendable {
        public var path: String?
        /// Nil takes it from the path's extension (`.mkv`, else MP4).
        public var container: Container?
        public var video = VideoEncoding()
        public var audio = AudioEncoding()
    }

    public var templateId = 600
    /// Cells given one by one (`layout`), in place of the template.
    public var customLayout: LayoutTemplate?
    /// Longest user id or name, in characters.
    public static let maximumNameLength = 128
    /// The canvas of a custom layout when the spec gives none (the SDK's fallback).
    public static let defaultCanvas = Size(width: 720, height: 1280)
    /// Canvas size; nil takes the template's.
    public var canvasSize: Size?
    public var framesPerSecond = 30
    public var background = RGBColour.black
    /// Seconds; nil runs to the end of the longest input.
    public var duration: Double?
    public var hosts: [Host]
    public var timeline: [TimedEvent]
    public var output: Output
    /// Where a live mix (`arena run`) sends its encode; empty for a render.
    public var outputs: [OutputTarget] = []
    public var live = LiveSettings()
    /// Pictures the skin and the decorations may show, by name: files or http(s) URLs.
    public var images: [String: String] = [:]
    /// Background picture, watermarks and captions.
    public var decorations = Decorations()
    /// Which overlays show and how they look.
    public var overlays = OverlayTheme()
    /// Whether avatar URLs may point at loopback or private addresses.
    public var allowPrivateAvatarHosts = false

    static let x264Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
    static let eventNames = [
        "coHostRequest", "coHostCancel", "coHostAccept", "coHostReject", "hostJoined", "hostLeft", "coHostExit",
        "cameraOn", "cameraOff", "micOn", "micOff",
        "battleRequest", "battleCancel", "battleAccept", "battleReject", "battleExit", "battleEnd", "score",
    ]

    /// Reads a spec file; relative input and output paths are taken from the file's folder.
    public static func load(file: URL) throws(SpecError) -> MixSpec {
        let file = file.absoluteURL
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw SpecError(field: file.path, "cannot be read: \((error as NSError).localizedDescription)")
        }
        return try parse(data, source: file.path, baseDirectory: file.deletingLastPathComponent())
    }

    /// Parses spec JSON; `source` names it in errors.
    public static func parse(_ data: Data, source: String, baseDirectory: URL) throws(SpecError) -> MixSpec {
        var fields = try JSONFields.decode(data, source: source)
        var spec = MixSpec(hosts: [], timeline: [], output: Output())

        spec.templateId = try fields.integer("template", in: 0...99_999) ?? spec.templateId
        if var canvas = try fields.object("canvas") {
            let width = try canvas.integer("width", in: 2...7680)
            let height = try canvas.integer("height", in: 2...7680)
            for (key, value) in [("width", width), ("height", height)] where value.map({ $0 % 2 != 0 }) == true {
                throw SpecError(field: canvas.name(key), "is \(value!); it must be even (4:2:0 video has half-size chroma)")
            }
            if width != nil || height != nil {
                guard let width, let height else {
                    throw SpecError(field: canvas.name(width == nil ? "width" : "height"), "is required when the other side is given")
                }
                spec.canvasSize = Size(width: width, height: height)
            }
            spec.framesPerSecond = try canvas.integer("fps", in: 1...120) ?? spec.framesPerSecond
            if let hex = try canvas.string("background") {
                guard let colour = RGBColour(hex: hex) else {
                    throw SpecError(field: canvas.name("background"), "is \"\(Redaction.value(hex))\"; it must be a colour like \"#1F2024\"")
                }
                spec.background = colour
            }
            try canvas.finish()
        }
        if var layout = try fields.object("layout") {
            guard !fields.contains("template") else { throw SpecError(field: "layout", "is given with template; give one of them") }
            spec.customLayout = try CustomLayout.parse(&layout, canvas: spec.canvasSize ?? MixSpec.defaultCanvas)
            try layout.finish()
        }
        spec.duration = try fields.number("duration", in: 0.1...86_400)

        guard let hosts = try fields.array("hosts"), !hosts.isEmpty else {
            throw SpecError(field: "hosts", "is required: list at least one host (the first is the mix's owner)")
        }
        for (index, item) in hosts.enumerated() {
            let host = try self.host(item, path: "hosts[\(index)]", relativeTo: baseDirectory)
            if let earlier = spec.hosts.firstIndex(where: { $0.userId == host.userId }) {
                throw SpecError(field: "hosts[\(index)].userId", "\"\(host.userId)\" is already used by hosts[\(earlier)]")
            }
            spec.hosts.append(host)
        }

        for (index, item) in (try fields.array("timeline") ?? []).enumerated() {
            var entry = try JSONFields(item, path: "timeline[\(index)]")
            guard let at = try entry.number("at", in: 0...86_400) else { throw SpecError(field: entry.name("at"), "is required") }
            spec.timeline.append(TimedEvent(at: nanoseconds(at), event: try event(&entry)))
            try entry.finish()
        }

        if var images = try fields.object("images") {
            spec.images = try Decorations.images(&images).mapValues { $0.contains("://") ? $0 : resolve($0, relativeTo: baseDirectory) }
            try images.finish()
        }
        if var decorations = try fields.object("decorations") {
            spec.decorations = try Decorations.parse(&decorations, images: Set(spec.images.keys))
            try decorations.finish()
        }
        if var overlays = try fields.object("overlays") {
            spec.allowPrivateAvatarHosts = try overlays.bool("allowPrivateAvatarHosts") ?? false
            spec.overlays = try OverlayTheme.parse(&overlays)
            try overlays.finish()
        }

        if var output = try fields.object("output") {
            spec.output.path = try output.string("path").map { resolve($0, relativeTo: baseDirectory) }
            if let container = try output.choice("container", Container.allCases.map(\.rawValue)) {
                spec.output.container = Container(rawValue: container)!
            }
            if var video = try output.object("video") {
                _ = try video.choice("codec", ["h264"])
                spec.output.video.bitrateKbps = try video.integer("bitrateKbps", in: 100...100_000) ?? spec.output.video.bitrateKbps
                spec.output.video.preset = try video.choice("preset", x264Presets) ?? spec.output.video.preset
                spec.output.video.keyframeIntervalSeconds = try video.number("keyframeIntervalSeconds", in: 0.1...60)
                    ?? spec.output.video.keyframeIntervalSeconds
                if let sei = try video.choice("layoutSEI", LayoutSEI.allCases.map(\.rawValue)) { spec.output.video.layoutSEI = LayoutSEI(rawValue: sei)! }
                try video.finish()
            }
            if var audio = try output.object("audio") {
                if let codec = try audio.choice("codec", AudioCodec.allCases.map(\.rawValue)) {
                    spec.output.audio.codec = AudioCodec(rawValue: codec)!
                }
                spec.output.audio.bitrateKbps = try audio.integer("bitrateKbps", in: 16...512) ?? spec.output.audio.bitrateKbps
                try audio.finish()
            }
            try output.finish()
        }
        if var live = try fields.object("live") {
            spec.live = try liveSettings(&live)
            try live.finish()
        }
        spec.outputs = try outputTargets(try fields.array("outputs") ?? [], audio: spec.output.audio.codec, relativeTo: baseDirectory)
        // An SRT output in listener mode binds a UDP port: not one an input of the mix listens on.
        for (index, output) in spec.outputs.enumerated() {
            guard case .srt(let uri) = output, let port = srtListenerPort(uri),
                  let host = spec.hosts.firstIndex(where: { $0.input.listeningPorts.contains(port) }) else { continue }
            throw SpecError(field: "outputs[\(index)].uri", "listens on port \(port), where hosts[\(host)]'s input listens; each needs a port of its own")
        }
        try fields.finish()
        return spec
    }

    /// One entry of `hosts`, named `path` in errors; relative paths are taken from `base`.
    public static func host(_ item: JSONValue, path: String, relativeTo base: URL) throws(SpecError) -> Host {
        var host = try JSONFields(item, path: path)
        let userId = try host.requiredString("userId")
        let userName = try host.string("userName") ?? userId
        // Names go into every overlay image and every layout message the stream carries.
        for (key, value) in [("userId", userId), ("userName", userName)] where value.unicodeScalars.count > maximumNameLength {
            throw SpecError(field: host.name(key), "is \(value.unicodeScalars.count) characters long; at most \(maximumNameLength)")
        }
        let parsed = Host(
            userId: userId,
            userName: userName,
            avatarUrl: try host.string("avatarUrl").map { $0.contains("://") ? $0 : resolve($0, relativeTo: base) },
            input: try inputSource(&host, relativeTo: base),
            volume: try host.number("volume", in: 0...10) ?? 1)
        try host.finish()
        return parsed
    }

    /// One event as a timeline entry writes it, without `at` (the HTTP API posts these);
    /// `source` names the body in errors.
    public static func event(json data: Data, source: String) throws(SpecError) -> SessionEvent {
        var fields = try JSONFields.decode(data, source: source)
        let event = try event(&fields)
        try fields.finish()
        return event
    }

    /// One timeline entry's event; the README lists each event's fields.
    private static func event(_ entry: inout JSONFields) throws(SpecError) -> SessionEvent {
        guard let name = try entry.choice("event", eventNames) else { throw SpecError(field: entry.name("event"), "is required") }
        func seconds(_ key: String, upTo limit: Double) throws(SpecError) -> UInt64? {
            try entry.number(key, in: 0.001...limit).map(nanoseconds)
        }
        switch name {
        case "coHostRequest":
            return .coHostRequest(inviter: try entry.requiredString("inviter"), invitee: try entry.requiredString("invitee"),
                                  timeout: try seconds("timeout", upTo: 30), extensionInfo: try entry.string("extensionInfo"))
        case "coHostCancel":
            return .coHostCancel(inviter: try entry.requiredString("inviter"), invitee: try entry.requiredString("invitee"))
        case "coHostAccept":
            return .coHostAccept(invitee: try entry.requiredString("invitee"), inviter: try entry.string("inviter"))
        case "coHostReject":
            return .coHostReject(invitee: try entry.requiredString("invitee"), inviter: try entry.string("inviter"))
        case "hostJoined": return .hostJoined(userId: try entry.requiredString("userId"))
        case "hostLeft", "coHostExit": return .hostLeft(userId: try entry.requiredString("userId"))
        case "cameraOn": return .cameraOn(userId: try entry.requiredString("userId"))
        case "cameraOff": return .cameraOff(userId: try entry.requiredString("userId"))
        case "micOn": return .micOn(userId: try entry.requiredString("userId"))
        case "micOff": return .micOff(userId: try entry.requiredString("userId"))
        case "battleRequest":
            let config = BattleConfig(duration: try seconds("duration", upTo: 86_400) ?? 30 * second,
                                      needResponse: try entry.bool("needResponse") ?? true,
                                      extensionInfo: try entry.string("extensionInfo"))
            guard let invitees = try entry.strings("invitees") else { throw SpecError(field: entry.name("invitees"), "is required") }
            return .battleRequest(battleId: try entry.requiredString("battleId"), inviter: try entry.requiredString("inviter"),
                                  invitees: invitees, config: config, timeout: try seconds("timeout", upTo: 30))
        case "battleCancel": return .battleCancel(battleId: try entry.requiredString("battleId"))
        case "battleEnd": return .battleEnd(battleId: try entry.requiredString("battleId"))
        case "battleAccept":
            return .battleAccept(battleId: try entry.requiredString("battleId"), userId: try entry.requiredString("userId"))
        case "battleReject":
            return .battleReject(battleId: try entry.requiredString("battleId"), userId: try entry.requiredString("userId"))
        case "battleExit":
            return .battleExit(battleId: try entry.requiredString("battleId"), userId: try entry.requiredString("userId"))
        default:
            guard let value = try entry.integer("score", in: 0...Int(Int32.max)) else {
                throw SpecError(field: entry.name("score"), "is required")
            }
            let op = try entry.choice("op", ["add", "set"]).flatMap(ScoreOperation.init(rawValue:)) ?? .add
            return .score(battleId: try entry.requiredString("battleId"), userId: try entry.requiredString("userId"),
                          value: Int64(value), op: op)
        }
    }

    private static func nanoseconds(_ seconds: Double) -> UInt64 {
        UInt64((seconds * 1e9).rounded())
    }

    /// A URI stays as it is; a path becomes a `file://` URI, relative to `base`.
    static func uri(for input: String, relativeTo base: URL) -> String {
        if input.contains("://") { return input }
        return URL(fileURLWithPath: resolve(input, relativeTo: base)).absoluteString
    }

    static func resolve(_ path: String, relativeTo base: URL) -> String {
        path.hasPrefix("/") ? path : base.appendingPathComponent(path).standardized.path
    }
}
