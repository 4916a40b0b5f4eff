import Foundation

/// Where a host's media comes from.
public enum InputSource: Sendable, Equatable {
    /// A GStreamer URI (`file:///...`, `http://...`, `rtsp://...`), read by uridecodebin.
    case uri(String)
    /// RTP over UDP, received on local ports.
    case rtp(RTPInput)
    /// MPEG-TS over SRT (`srt://host:port?mode=caller|listener...`), as an encoder pushes it.
    case srt(StreamInput)
    /// FLV over RTMP, pulled from a server (`rtmp://host/app/stream`).
    case rtmp(StreamInput)

    /// Whether the input is live (received as it comes, never probed before the mix starts).
    public var isLive: Bool {
        if case .uri = self { false } else { true }
    }
}

/// An SRT or RTMP input: where it is, and whether it carries audio the mix should wait for.
public struct StreamInput: Sendable, Equatable {
    /// The `srt://` URI (its passphrase in the query) or the `rtmp(s)://` URL (its stream
    /// key in the path): never shown whole in a message (`Redaction.url`).
    public var location: String
    /// How long SRT waits for a lost packet to come again, in milliseconds.
    public var latencyMilliseconds: Int
    public var hasAudio: Bool
}

extension InputSource {
    /// The UDP ports it listens on (an RTP input's, an SRT listener's).
    var listeningPorts: [Int] {
        switch self {
        case .rtp(let rtp): return rtp.ports
        case .srt(let srt): return srtListenerPort(srt.location).map { [$0] } ?? []
        case .rtmp, .uri: return []
        }
    }

    /// A UDP port that `other`, a different input, listens on too (two inputs cannot).
    public func sharedPort(with other: InputSource) -> Int? {
        guard self != other else { return nil }
        return listeningPorts.first(where: other.listeningPorts.contains)
    }
}

/// The UDP port an `srt://` URI in listener mode listens on.
public func srtListenerPort(_ uri: String) -> Int? {
    guard let parts = URLComponents(string: uri), parts.queryItems?.first(where: { $0.name == "mode" })?.value == "listener" else { return nil }
    return parts.port
}

/// How a live mix treats inputs that go quiet.
public struct LiveSettings: Sendable, Equatable {
    /// After this long without a new frame, a host's cell shows the placeholder instead of
    /// repeating the last frame.
    public var staleAfter: UInt64 = 500_000_000
    /// After this long without a frame, the host is taken as having left (`hostLeft`); when
    /// the stream comes back the host joins again.
    public var disconnectTimeout: UInt64 = 5_000_000_000
}

/// One destination of a live mix; all share one encode.
public enum OutputTarget: Sendable, Equatable {
    /// Files of `segmentSeconds` each (`name-00001.mp4` ...), each complete when closed.
    case recording(path: String, segmentSeconds: Int)
    /// An HLS playlist and keyframe-aligned MPEG-TS segments in `folder`.
    case hls(folder: String, segmentSeconds: Int, playlistLength: Int)
    /// FLV over RTMP to a server (`rtmp://host/app/stream`).
    case rtmp(url: String)
    /// RTP over UDP: H.264 to `videoPort`, the audio to `audioPort`.
    case rtp(host: String, videoPort: Int, audioPort: Int)
    /// MPEG-TS over SRT (`srt://host:port?mode=caller` or `mode=listener`).
    case srt(uri: String)

    /// Where the output writes or sends: equal for two outputs that would collide.
    var destination: String {
        switch self {
        case .recording(let path, _): return "file " + URL(fileURLWithPath: path).standardized.path
        case .hls(let folder, _, _): return "folder " + URL(fileURLWithPath: folder).standardized.path
        case .rtmp(let url): return url
        case .rtp(let host, let videoPort, _): return "rtp \(host):\(videoPort)"
        case .srt(let uri): return uri
        }
    }

    /// How the output is named in messages, answers and logs: without secrets (an RTMP URL
    /// shows its host and application, not its stream key, credentials or query; an SRT URI
    /// its host and port, not its passphrase).
    public var label: String {
        switch self {
        case .recording(let path, _): return "recording \(path)"
        case .hls(let folder, _, _): return "HLS \(folder)"
        case .rtmp(let url):
            let parts = URLComponents(string: url)
            let app = parts?.path.split(separator: "/").first.map { "/\($0)/…" } ?? ""
            return "RTMP \(parts?.scheme ?? "rtmp")://\(parts?.host ?? "?")\(parts?.port.map { ":\($0)" } ?? "")\(app)"
        case .rtp(let host, let videoPort, _): return "RTP \(host):\(videoPort)"
        case .srt(let uri):
            let parts = URLComponents(string: uri)
            return "SRT \(parts?.host ?? ""):\(parts?.port.map(String.init) ?? "?")"
        }
    }
}

extension MixSpec {
    /// A host's `input`: a path or URI, or `{"rtp": {...}}`, `{"sdp": "v=0..."}`, `{"sdpFile": "alice.sdp"}`, `{"srt": {...}}` or `{"rtmp": {...}}`.
    static func inputSource(_ host: inout JSONFields, relativeTo base: URL) throws(SpecError) -> InputSource {
        guard host.holdsObject("input") else { return .uri(uri(for: try host.requiredString("input"), relativeTo: base)) }
        var input = try host.object("input")!
        if var srt = try input.object("srt") {
            try input.finish()
            let uri = try srt.requiredString("uri")
            try OutputValues.checkSRT(uri, field: srt.name("uri"))
            let latency = try srt.integer("latencyMs", in: 20...8_000) ?? 120
            let audio = try srt.bool("audio") ?? true
            try srt.finish()
            return .srt(StreamInput(location: uri, latencyMilliseconds: latency, hasAudio: audio))
        }
        if var rtmp = try input.object("rtmp") {
            try input.finish()
            let url = try rtmp.requiredString("url")
            try OutputValues.checkRTMP(url, field: rtmp.name("url"))
            let audio = try rtmp.bool("audio") ?? true
            try rtmp.finish()
            return .rtmp(StreamInput(location: url, latencyMilliseconds: 0, hasAudio: audio))
        }
        if let sdp = try input.string("sdp") {
            return .rtp(try rtpInput(sdp: sdp, &input))
        }
        if let file = try input.string("sdpFile") {
            return .rtp(try rtpInput(sdp: try SDPInput.read(file, relativeTo: base, field: input.name("sdpFile")), &input))
        }
        guard var rtp = try input.object("rtp") else { throw SpecError(field: input.name("rtp"), "is required (or sdp, sdpFile, srt, or rtmp)") }
        try input.finish()
        return .rtp(try rtpInput(&rtp))
    }

    /// The `live` object.
    static func liveSettings(_ fields: inout JSONFields) throws(SpecError) -> LiveSettings {
        var settings = LiveSettings()
        if let stale = try fields.integer("staleAfterMs", in: 40...10_000) { settings.staleAfter = UInt64(stale) * 1_000_000 }
        if let timeout = try fields.integer("disconnectTimeoutMs", in: 100...600_000) {
            settings.disconnectTimeout = UInt64(timeout) * 1_000_000
        }
        guard settings.disconnectTimeout > settings.staleAfter else {
            throw SpecError(field: fields.name("disconnectTimeoutMs"), "must be longer than staleAfterMs")
        }
        return settings
    }

    /// Outputs one mix may have: each is a pipeline of its own.
    public static let maximumOutputs = 8

    /// The `outputs` array of a live mix.
    public static func outputTargets(_ items: [JSONValue], audio: AudioCodec, relativeTo base: URL) throws(SpecError) -> [OutputTarget] {
        guard items.count <= maximumOutputs else {
            throw SpecError(field: "outputs", "lists \(items.count) outputs; a mix has at most \(maximumOutputs)")
        }
        var targets: [OutputTarget] = []
        for (index, item) in items.enumerated() {
            var fields = try JSONFields(item, path: "outputs[\(index)]")
            guard let type = try fields.choice("type", ["recording", "hls", "rtmp", "rtp", "srt"]) else {
                throw SpecError(field: fields.name("type"), "is required")
            }
            let target: OutputTarget
            switch type {
            case "recording":
                let path = try fields.requiredString("path")
                try OutputValues.checkPrintable(path, field: fields.name("path"))
                target = .recording(path: resolve(path, relativeTo: base),
                                    segmentSeconds: try fields.integer("segmentSeconds", in: 1...86_400) ?? 60)
            case "hls":
                let folder = try fields.requiredString("folder")
                try OutputValues.checkHLSFolder(folder, field: fields.name("folder"))
                target = .hls(folder: resolve(folder, relativeTo: base),
                              segmentSeconds: try fields.integer("segmentSeconds", in: 1...60) ?? 2,
                              playlistLength: try fields.integer("playlistLength", in: 0...1_000) ?? 6)
                if audio != .aac { throw SpecError(field: fields.name("type"), "is \"hls\", which needs output.audio.codec \"aac\"") }
            case "rtmp":
                let url = try fields.requiredString("url")
                try OutputValues.checkRTMP(url, field: fields.name("url"))
                if audio != .aac { throw SpecError(field: fields.name("type"), "is \"rtmp\", which needs output.audio.codec \"aac\"") }
                target = .rtmp(url: url)
            case "rtp":
                guard let videoPort = try fields.integer("videoPort", in: 1...65_535) else {
                    throw SpecError(field: fields.name("videoPort"), "is required")
                }
                let audioPort = try fields.integer("audioPort", in: 1...65_535) ?? videoPort + 2
                guard audioPort <= 65_535 else {
                    throw SpecError(field: fields.name("audioPort"), "is required when videoPort is \(videoPort) (it defaults to videoPort + 2)")
                }
                let host = try fields.string("host") ?? "127.0.0.1"
                guard OutputValues.isHost(host) else { throw SpecError(field: fields.name("host"), "must be an IP address or a DNS name") }
                target = .rtp(host: host, videoPort: videoPort, audioPort: audioPort)
            default:
                let uri = try fields.requiredString("uri")
                try OutputValues.checkSRT(uri, field: fields.name("uri"))
                target = .srt(uri: uri)
            }
            try fields.finish()
            // Two outputs to one place would overwrite (or delete) each other's files.
            if let earlier = targets.firstIndex(where: { $0.destination == target.destination }) {
                throw SpecError(field: "outputs[\(index)]", "goes where outputs[\(earlier)] goes; list each destination once")
            }
            targets.append(target)
        }
        return targets
    }
}
