import CArenaFiles
import Foundation

/// An RTP input described by a session description (RFC 8866), as a sender or an SFU prints
/// it for its receiver: `ffmpeg -f rtp` (`-sdp_file`), a Janus RTP forwarder, the SDP written
/// for a mediasoup PlainTransport consumer. Per media section (one video, one audio at most):
/// the port to listen on, the first payload type of a codec Arena decodes, its RFC 4588
/// retransmission payload type (`rtx`, `apt=`), RTCP's port (`a=rtcp`, `a=rtcp-mux`), the SRTP
/// keys (`a=crypto`) and the sender's SSRCs (`a=ssrc`, which then filter).
/// The text is hostile like any spec field: bounded, checked line by line, and a message
/// names a line by its number, never repeating a key.
enum SDPInput {
    static let maximumLength = 65_536
    static let maximumLines = 2_000

    /// One `m=` section as read.
    private struct Media {
        var kind: String
        var line: Int
        var port: Int
        var profile: String
        var formats: [Int]
        var rtpmap: [Int: (name: String, clockRate: Int)] = [:]
        var fmtp: [Int: [String: String]] = [:]
        var rtcpPort: Int?
        var rtcpMux = false
        var crypto: [(line: Int, suite: String, key: String)] = []
        var ssrcs: [UInt32] = []
        /// Whether `a=ssrc-group:FID` pairs the media's SSRC with its retransmissions'.
        var pairsRetransmissions = false
    }

    static func parse(_ text: String, field: String) throws(SpecError) -> RTPInput {
        guard text.utf8.count <= maximumLength else { throw SpecError(field: field, "is \(text.utf8.count) bytes; at most \(maximumLength)") }
        // "\r\n" is one Character to Swift: both line ends are separators.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        guard lines.count <= maximumLines else { throw SpecError(field: field, "has \(lines.count) lines; at most \(maximumLines)") }
        guard lines.first == "v=0" else { throw SpecError(field: field, "must start with v=0 (a session description)") }
        var sections: [Media] = []
        for (index, line) in lines.enumerated() where !line.isEmpty {
            let number = index + 1
            let bytes = Array(line.utf8)
            guard bytes.count >= 2, bytes[1] == UInt8(ascii: "="), (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[0]),
                  bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
                throw SpecError(field: field, "line \(number) is not <letter>=<value> in printable characters")
            }
            let value = String(line.dropFirst(2))
            switch bytes[0] {
            case UInt8(ascii: "m"): sections.append(try media(value, line: number, field: field))
            case UInt8(ascii: "a") where !sections.isEmpty: try attribute(value, line: number, into: &sections[sections.count - 1], field: field)
            default: break  // o=, s=, c=, t=, b=, session attributes: nothing a receiver needs
            }
        }
        let video = sections.filter { $0.kind == "video" && $0.port != 0 }, audio = sections.filter { $0.kind == "audio" && $0.port != 0 }
        guard video.count == 1 else { throw SpecError(field: field, "has \(video.count) video sections with a port; a host sends one") }
        guard audio.count <= 1 else { throw SpecError(field: field, "has \(audio.count) audio sections with a port; a host sends one at most") }
        let (videoStream, codec) = try chooseVideo(video[0], field: field)
        var input = RTPInput(video: videoStream, videoCodec: codec, audio: nil, latencyMilliseconds: 200)
        if let section = audio.first { (input.audio, input.audioCodec) = try chooseAudio(section, field: field) }
        return input
    }

    /// The text of `path`, an SDP file inside `base` (the spec's folder; the service's data
    /// folder), symbolic links included: a regular file of at most `maximumLength` bytes. It is
    /// opened beneath the folder (Linux's `openat2`), so a folder on its path swapped for a link
    /// while it is read cannot lead out.
    static func read(_ path: String, relativeTo base: URL, field: String) throws(SpecError) -> String {
        let outside = SpecError(field: field, "must name a readable .sdp file of at most \(maximumLength) bytes inside the spec's folder")
        let folder = base.standardized.path, file = URL(fileURLWithPath: MixSpec.resolve(path, relativeTo: base)).standardized.path
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        guard path.hasSuffix(".sdp"), !path.contains("\u{0}"), file.hasPrefix(prefix) else { throw outside }
        let flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK
        var descriptor = arena_open_beneath(folder, String(file.dropFirst(prefix.count)), flags)
        if descriptor < 0, errno == ENOSYS || errno == EPERM { descriptor = openResolved(file, inside: folder, flags: flags) }
        guard descriptor >= 0 else { throw outside }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_size <= maximumLength else { throw outside }
        var bytes = [UInt8](repeating: 0, count: maximumLength + 1)
        let count = Glibc.read(descriptor, &bytes, bytes.count)
        guard count >= 0, count <= maximumLength else { throw outside }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }

    /// Without `openat2` (Linux before 5.6, or refused by seccomp): `file` once every link is
    /// resolved, if that is in `folder` resolved, opened without following a link at its end.
    private static func openResolved(_ file: String, inside folder: String, flags: Int32) -> Int32 {
        guard let root = realpath(folder, nil) else { return -1 }
        defer { free(root) }
        guard let real = realpath(file, nil) else { return -1 }
        defer { free(real) }
        let (inside, target) = (String(cString: root), String(cString: real))
        guard target.hasPrefix(inside.hasSuffix("/") ? inside : inside + "/") else { return -1 }
        return open(real, flags | O_NOFOLLOW)
    }

    private static func media(_ value: String, line: Int, field: String) throws(SpecError) -> Media {
        let parts = value.split(separator: " ")
        guard parts.count >= 4, let port = Int(parts[1].split(separator: "/").first ?? ""), (0...65_535).contains(port) else {
            throw SpecError(field: field, "line \(line): m= must be <media> <port> <profile> <payload types>")
        }
        let formats = parts.dropFirst(3).compactMap { Int($0) }.filter { (0...127).contains($0) }
        return Media(kind: String(parts[0]), line: line, port: port, profile: String(parts[2]), formats: formats)
    }

    private static func attribute(_ value: String, line: Int, into media: inout Media, field: String) throws(SpecError) {
        let (name, rest) = value.firstIndex(of: ":").map { (String(value[..<$0]), String(value[value.index(after: $0)...])) } ?? (value, "")
        let words = rest.split(separator: " ", omittingEmptySubsequences: true)
        func bad(_ what: String) -> SpecError { SpecError(field: field, "line \(line): \(what)") }
        switch name {
        case "rtpmap":
            let encoding = words.count > 1 ? words[1].split(separator: "/") : []
            guard words.count == 2, let type = Int(words[0]), (0...127).contains(type), encoding.count >= 2,
                  let rate = Int(encoding[1]), (1_000...1_000_000).contains(rate) else { throw bad("a=rtpmap must be <payload type> <encoding>/<clock rate>") }
            media.rtpmap[type] = (encoding[0].uppercased(), rate)
        case "fmtp":
            guard let first = words.first, let type = Int(first) else { throw bad("a=fmtp must start with a payload type") }
            var parameters: [String: String] = [:]
            let afterType = rest.drop { $0 == " " }.drop { $0 != " " }
            for item in afterType.split(separator: ";") {
                let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 { parameters[pair[0].lowercased()] = pair[1] }
            }
            media.fmtp[type] = parameters
        case "rtcp":
            guard let port = words.first.flatMap({ Int($0) }), (1...65_535).contains(port) else { throw bad("a=rtcp must give a port from 1 to 65535") }
            media.rtcpPort = port
        case "rtcp-mux":
            media.rtcpMux = true
        case "crypto":
            // a=crypto:<tag> <suite> inline:<key and salt, base64>[|<lifetime>][|<MKI>:<length>]
            guard words.count >= 3, words[2].hasPrefix("inline:") else { throw bad("a=crypto must be <tag> <suite> inline:<key> (the value is not shown)") }
            guard words.count == 3 else { throw bad("a=crypto has session parameters (UNENCRYPTED_SRTCP, KDR= ...), which Arena does not take") }
            let key = words[2].dropFirst("inline:".count).split(separator: "|")
            guard key.count <= 2, !(key.last?.contains(":") ?? false) else { throw bad("a=crypto has a key with an MKI, which Arena does not take") }
            media.crypto.append((line, String(words[1]), String(key.first ?? "")))
        case "ssrc", "ssrc-group":
            let ids = name == "ssrc" ? Array(words.prefix(1)) : Array(words.dropFirst())
            if name == "ssrc-group", words.first == "FID", ids.count >= 2 { media.pairsRetransmissions = true }
            for id in ids {
                guard let ssrc = UInt32(id) else { throw bad("a=\(name) must give SSRCs from 0 to 4294967295") }
                if !media.ssrcs.contains(ssrc) { media.ssrcs.append(ssrc) }
            }
            guard media.ssrcs.count <= 4 else { throw bad("a \(media.kind) section names more than 4 SSRCs") }
        default:
            break
        }
    }

    private static func chooseVideo(_ media: Media, field: String) throws(SpecError) -> (RTPInput.Stream, RTPInput.VideoCodec) {
        let codecs: [String: RTPInput.VideoCodec] = ["H264": .h264, "VP8": .vp8, "VP9": .vp9, "H265": .h265]
        guard let type = media.formats.first(where: { media.rtpmap[$0].flatMap { codecs[$0.name] } != nil }), let map = media.rtpmap[type] else {
            throw SpecError(field: field, "line \(media.line): the video section offers no H264, VP8, VP9 or H265 payload type (with its a=rtpmap)")
        }
        return (try stream(media, payloadType: type, clockRate: map.clockRate, field: field), codecs[map.name]!)
    }

    private static func chooseAudio(_ media: Media, field: String) throws(SpecError) -> (RTPInput.Stream, RTPInput.AudioCodec) {
        guard let type = media.formats.first(where: { ["OPUS", "MPEG4-GENERIC"].contains(media.rtpmap[$0]?.name) }), let map = media.rtpmap[type] else {
            throw SpecError(field: field, "line \(media.line): the audio section offers no opus or MPEG4-GENERIC (AAC) payload type (with its a=rtpmap)")
        }
        guard map.name == "MPEG4-GENERIC" else { return (try stream(media, payloadType: type, clockRate: map.clockRate, field: field), .opus) }
        let parameters = media.fmtp[type] ?? [:]
        guard parameters["mode"]?.lowercased() == "aac-hbr", parameters["sizelength"] == "13", parameters["indexlength"] == "3",
              parameters["indexdeltalength"] == "3", let config = parameters["config"] else {
            throw SpecError(field: field, "line \(media.line): AAC is taken as mode=AAC-hbr with sizelength=13, indexlength=3, indexdeltalength=3 and a config= (its a=fmtp)")
        }
        return (try stream(media, payloadType: type, clockRate: map.clockRate, field: field), .aac(config: try MixSpec.aacConfig(config, field: field + " (config=)")))
    }

    private static func stream(_ media: Media, payloadType: Int, clockRate: Int, field: String) throws(SpecError) -> RTPInput.Stream {
        let rtx = media.formats.first { media.rtpmap[$0]?.name == "RTX" && media.fmtp[$0]?["apt"] == String(payloadType) }
        if rtx != nil, !media.ssrcs.isEmpty, !media.pairsRetransmissions {
            throw SpecError(field: field, "line \(media.line): a=ssrc names SSRCs but no a=ssrc-group:FID gives the retransmissions' SSRC; their packets would be dropped")
        }
        if media.rtcpMux || media.rtcpPort == media.port, (64...95).contains(payloadType) {
            throw SpecError(field: field, "line \(media.line): payload type \(payloadType) cannot share its port with RTCP (64 to 95 would be taken for RTCP, RFC 5761)")
        }
        // a=rtcp naming the RTP port is rtcp-mux too (RFC 5761 5.1.3).
        let rtcpPort = media.rtcpMux ? media.port : media.rtcpPort ?? media.port + 1
        guard rtcpPort <= 65_535 else {
            throw SpecError(field: field, "line \(media.line): RTCP would be on port 65536 (the RTP port + 1); say a=rtcp or a=rtcp-mux")
        }
        var stream = RTPInput.Stream(port: media.port, payloadType: payloadType, clockRate: clockRate, rtcpPort: rtcpPort, rtxPayloadType: rtx, ssrcs: media.ssrcs)
        guard ["RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF"].contains(media.profile) else {
            throw SpecError(field: field, "line \(media.line): profile \(Redaction.value(media.profile)) is not RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF (DTLS-SRTP is WebRTC's, not a plain RTP input's)")
        }
        // SRTP by its a=crypto line, whatever the profile says: ffmpeg prints RTP/AVP with one.
        if let crypto = media.crypto.first(where: { SRTPKeys.Suite(rawValue: $0.suite) != nil }) {
            let suite = SRTPKeys.Suite(rawValue: crypto.suite)!
            stream.srtp = SRTPKeys(suite: suite, key: try SRTPKeys.key(crypto.key, for: suite, field: field + " (line \(crypto.line))"))
        } else if media.profile.hasPrefix("RTP/S") || !media.crypto.isEmpty {
            throw SpecError(field: field, "line \(media.line): SRTP needs an a=crypto line of a suite Arena takes (\(SRTPKeys.Suite.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return stream
    }
}
