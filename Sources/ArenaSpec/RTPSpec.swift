import Foundation

/// An RTP input: one UDP port per stream (or one for RTP and RTCP, rtcp-mux), with the payload
/// described as SDP would.
public struct RTPInput: Sendable, Equatable {
    public enum VideoCodec: String, Sendable, CaseIterable { case h264, vp8, vp9, h265 }

    public enum AudioCodec: Sendable, Equatable {
        case opus
        /// AAC as RFC 3640 carries it (`MPEG4-GENERIC`, mode AAC-hbr), with the stream's
        /// AudioSpecificConfig (SDP's `config=`).
        case aac(config: [UInt8])
    }

    public struct Stream: Sendable, Equatable {
        public var port: Int
        public var payloadType: Int
        public var clockRate: Int
        /// Where the sender's RTCP comes in (sender reports); receiver reports and feedback
        /// (NACK, PLI) go back to where it came from. By default the RTP port + 1; the RTP
        /// port itself with rtcp-mux.
        public var rtcpPort: Int
        /// The payload type of RFC 4588 retransmissions, when the sender offers them.
        public var rtxPayloadType: Int?
        /// When set, only packets of these SSRCs (the media's and its retransmissions') are taken.
        public var ssrcs: [UInt32] = []
        /// When set, the stream is SRTP.
        public var srtp: SRTPKeys?

        /// RTP and RTCP share one port (RFC 5761).
        public var rtcpMux: Bool { rtcpPort == port }
    }

    public var video: Stream
    public var videoCodec: VideoCodec
    /// Audio, if the host sends any.
    public var audio: Stream?
    public var audioCodec: AudioCodec = .opus
    /// How long the jitter buffer holds packets to reorder them, in milliseconds.
    public var latencyMilliseconds: Int
    /// When set, only packets from these addresses are taken (RTP and RTCP); others are dropped.
    public var allowedSenders: [String] = []

    /// The UDP ports it listens on.
    public var ports: [Int] {
        var ports: [Int] = []
        for port in [video.port, video.rtcpPort] + (audio.map { [$0.port, $0.rtcpPort] } ?? []) where !ports.contains(port) { ports.append(port) }
        return ports
    }
}

/// The SRTP keys of one stream (SDES, as SDP's `a=crypto` gives them): never shown in a
/// message, a log line or a description.
public struct SRTPKeys: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// The crypto suites of RFC 4568, RFC 6188 and RFC 7714 that GStreamer's srtpdec takes.
    public enum Suite: String, Sendable, CaseIterable {
        case AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32
        case AEAD_AES_128_GCM, AEAD_AES_256_GCM

        /// Bytes of master key and salt together, as `inline:` carries them.
        public var keyLength: Int {
            switch self {
            case .AES_CM_128_HMAC_SHA1_80, .AES_CM_128_HMAC_SHA1_32: 30
            case .AES_256_CM_HMAC_SHA1_80, .AES_256_CM_HMAC_SHA1_32: 46
            case .AEAD_AES_128_GCM: 28
            case .AEAD_AES_256_GCM: 44
            }
        }
    }

    public var suite: Suite
    /// The sender's master key and salt: what comes in is decrypted with it.
    public var key: [UInt8]
    /// The key the sender expects our RTCP (reports, NACK, PLI) under; without it no RTCP
    /// goes back (a sender drops RTCP it cannot authenticate).
    public var feedbackKey: [UInt8]?

    public var description: String { "SRTP \(suite.rawValue) (keys hidden)" }
    public var customMirror: Mirror { Mirror(self, children: ["suite": suite]) }

    /// `text` (base64, as SDES's `inline:`) as a key of `suite`.
    static func key(_ text: String, for suite: Suite, field: String) throws(SpecError) -> [UInt8] {
        guard let data = Data(base64Encoded: text), data.count == suite.keyLength else {
            throw SpecError(field: field, "must be base64 of \(suite.keyLength) bytes (\(suite.rawValue)'s master key and salt); the value is not shown")
        }
        return [UInt8](data)
    }
}

extension MixSpec {
    /// `{"rtp": {"video": {...}, "audio": {...}, "latencyMs", "allowedSenders"}}`.
    static func rtpInput(_ rtp: inout JSONFields) throws(SpecError) -> RTPInput {
        guard var video = try rtp.object("video") else { throw SpecError(field: rtp.name("video"), "is required") }
        let codec = try video.choice("codec", RTPInput.VideoCodec.allCases.map(\.rawValue)) ?? "h264"
        let videoStream = try stream(&video, defaultPayloadType: 96, defaultClockRate: 90_000)
        try video.finish()
        var input = RTPInput(video: videoStream, videoCodec: RTPInput.VideoCodec(rawValue: codec)!, audio: nil, latencyMilliseconds: 200)
        if var audio = try rtp.object("audio") {
            if try audio.choice("codec", ["opus", "aac"]) == "aac" {
                guard let config = try audio.string("config") else { throw SpecError(field: audio.name("config"), "is required for AAC (SDP's fmtp config=, in hex)") }
                input.audioCodec = .aac(config: try aacConfig(config, field: audio.name("config")))
            }
            let stream = try stream(&audio, defaultPayloadType: 111, defaultClockRate: 48_000)
            try audio.finish()
            if let (key, port) = portOfTheVideos(stream, video: videoStream) {
                throw SpecError(field: audio.name(key), "is \(port), \(sharedPortReason)")
            }
            input.audio = stream
        }
        try rtpCommon(&rtp, into: &input)
        try rtp.finish()
        return input
    }

    /// `{"sdp": "v=0...", "latencyMs", "allowedSenders", "feedbackKey"}`.
    static func rtpInput(sdp: String, _ fields: inout JSONFields) throws(SpecError) -> RTPInput {
        var input = try SDPInput.parse(sdp, field: fields.name("sdp"))
        if let feedback = try fields.string("feedbackKey") {
            guard input.video.srtp != nil || input.audio?.srtp != nil else {
                throw SpecError(field: fields.name("feedbackKey"), "is given, but the SDP has no a=crypto (no SRTP)")
            }
            if let suite = input.video.srtp?.suite {
                input.video.srtp!.feedbackKey = try SRTPKeys.key(feedback, for: suite, field: fields.name("feedbackKey"))
            }
            if let suite = input.audio?.srtp?.suite {
                input.audio!.srtp!.feedbackKey = try SRTPKeys.key(feedback, for: suite, field: fields.name("feedbackKey"))
            }
        }
        try rtpCommon(&fields, into: &input)
        try fields.finish()
        if let audio = input.audio, let (_, port) = portOfTheVideos(audio, video: input.video) {
            throw SpecError(field: fields.name("sdp"), "uses port \(port), \(sharedPortReason)")
        }
        return input
    }

    private static func rtpCommon(_ fields: inout JSONFields, into input: inout RTPInput) throws(SpecError) {
        input.latencyMilliseconds = try fields.integer("latencyMs", in: 0...5_000) ?? 200
        let senders = try fields.strings("allowedSenders") ?? []
        for (index, address) in senders.enumerated() where !isIPv4Address(address) {
            throw SpecError(field: fields.name("allowedSenders") + "[\(index)]", "is '\(Redaction.value(address))', not an IPv4 address (inputs listen on IPv4)")
        }
        guard senders.count <= 16 else { throw SpecError(field: fields.name("allowedSenders"), "lists \(senders.count) addresses; at most 16") }
        input.allowedSenders = senders
    }

    private static let sharedPortReason = "a port of the video's too (RTP, or RTCP on the RTP port + 1 unless rtcpPort or rtcpMux says); each stream needs its own"

    /// The audio stream's field (`port`, `rtcpPort`) and port that the video uses too, if any.
    private static func portOfTheVideos(_ audio: RTPInput.Stream, video: RTPInput.Stream) -> (String, Int)? {
        [("port", audio.port), ("rtcpPort", audio.rtcpPort)].first { [video.port, video.rtcpPort].contains($0.1) }
    }

    private static func stream(_ fields: inout JSONFields, defaultPayloadType: Int, defaultClockRate: Int) throws(SpecError) -> RTPInput.Stream {
        guard let port = try fields.integer("port", in: 1...65_535) else { throw SpecError(field: fields.name("port"), "is required") }
        let payloadType = try fields.integer("payloadType", in: 0...127) ?? defaultPayloadType
        let mux = try fields.bool("rtcpMux") ?? false
        if mux, fields.contains("rtcpPort") { throw SpecError(field: fields.name("rtcpPort"), "cannot be given with rtcpMux (RTCP is then on the RTP port)") }
        guard let rtcpPort = mux ? port : try fields.integer("rtcpPort", in: 1...65_535) ?? (port < 65_535 ? port + 1 : nil) else {
            throw SpecError(field: fields.name("rtcpPort"), "is required when port is 65535 (RTCP is on the RTP port + 1 by default)")
        }
        if !mux, rtcpPort == port { throw SpecError(field: fields.name("rtcpPort"), "is \(port), the RTP port; say rtcpMux: true to take RTCP on the RTP port") }
        if mux, (64...95).contains(payloadType) {
            throw SpecError(field: fields.name("payloadType"), "is \(payloadType); with rtcpMux, 64 to 95 would be taken for RTCP (RFC 5761)")
        }
        let rtx = try fields.integer("rtxPayloadType", in: 0...127)
        if rtx == payloadType { throw SpecError(field: fields.name("rtxPayloadType"), "is \(payloadType), the media's payload type too") }
        var stream = RTPInput.Stream(port: port, payloadType: payloadType, clockRate: try fields.integer("clockRate", in: 1_000...1_000_000) ?? defaultClockRate,
                                     rtcpPort: rtcpPort, rtxPayloadType: rtx)
        if let items = try fields.array("ssrcs") {
            guard (1...4).contains(items.count) else { throw SpecError(field: fields.name("ssrcs"), "lists \(items.count) SSRCs; 1 to 4 (the media's and its retransmissions')") }
            stream.ssrcs = try items.enumerated().map { index, item throws(SpecError) in
                guard case .number(let number) = item, number >= 0, number <= Double(UInt32.max), number.rounded() == number else {
                    throw SpecError(field: fields.name("ssrcs") + "[\(index)]", "must be a whole number from 0 to 4294967295")
                }
                return UInt32(number)
            }
        }
        if var srtp = try fields.object("srtp") {
            let name = try srtp.choice("suite", SRTPKeys.Suite.allCases.map(\.rawValue)) ?? SRTPKeys.Suite.AES_CM_128_HMAC_SHA1_80.rawValue
            let suite = SRTPKeys.Suite(rawValue: name)!
            let key = try SRTPKeys.key(try srtp.requiredString("key"), for: suite, field: srtp.name("key"))
            let feedback = try srtp.string("feedbackKey")
            stream.srtp = SRTPKeys(suite: suite, key: key, feedbackKey: try feedback.map { text throws(SpecError) in try SRTPKeys.key(text, for: suite, field: srtp.name("feedbackKey")) })
            try srtp.finish()
        }
        return stream
    }

    /// An AudioSpecificConfig in hex (2 to 64 bytes).
    static func aacConfig(_ text: String, field: String) throws(SpecError) -> [UInt8] {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0, (4...128).contains(digits.count), digits.allSatisfy({ $0 < 128 && isxdigit(Int32($0)) != 0 }) else {
            throw SpecError(field: field, "must be an AudioSpecificConfig in hex, 2 to 64 bytes (as SDP's config=, e.g. 1190)")
        }
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    /// A literal IPv4 address (no name, no port).
    private static func isIPv4Address(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }
}
