import ArenaSpec
import GStreamerKit
import Synchronization

/// The receiving end of one host's RTP input, as a bin for its input hub's pipeline, built
/// from elements and checked properties only. Per stream (video session 0, audio session 1
/// of one rtpbin, so that the sender's reports line the two up): a UDP socket for RTP and one
/// for RTCP, each behind a filter that lets only well-formed packets of the expected kind
/// through (garbage and strays never reach the session), the session's jitter buffer, and the
/// depayloader and decoder. The bin's `video` pad gives decoded video; `audio` decoded audio,
/// when there is audio.
///
/// Repair, under the AVPF profile (feedback at once, not at the next regular report):
/// - receiver reports, NACKs and keyframe requests go back to the sender, from the RTCP
///   socket to wherever the sender's RTCP comes from;
/// - with `rtxPayloadType`, lost packets are asked for again (NACK) and their RFC 4588
///   retransmissions put back in place before the jitter buffer's latency runs out;
/// - a picture that cannot be decoded (loss the jitter buffer gave up on, a decoder error, a
///   stream joined between keyframes) is not shown: the cell keeps its last good frame and a
///   keyframe is requested (PLI), which the session rate-limits.
/// A restarted sender (a new SSRC) takes over from the one before.
enum RTPReceiver {
    /// `broken` is told when the picture breaks and when it is whole again.
    static func bin(for input: RTPInput, broken: BrokenPictures) throws -> Bin {
        let bin = Bin(name: "receiver")
        let session = try Element(factory: "rtpbin", name: "session", [
            "latency": .uint32(UInt32(input.latencyMilliseconds)), "drop-on-latency": .bool(true),
            "rtp-profile": .nick("avpf"), "do-retransmission": .bool(input.video.rtxPayloadType != nil || input.audio?.rtxPayloadType != nil),
            // A stranger inventing SSRCs makes no more than this many jitter buffers a stream.
            "max-streams": .uint32(4),
        ])
        try bin.add(session)
        for (index, stream) in [input.video, input.audio].enumerated() {
            guard let stream, let rtx = stream.rtxPayloadType else { continue }
            session.useRetransmissions(session: index, rtxPayloadType: rtx, payloadType: stream.payloadType)
        }
        let (encoding, videoChain) = try videoDecoding(input.videoCodec)
        broken.watch(depayloader: try videoChain[0].staticPad("sink"), decoded: try videoChain.last!.staticPad("src"))
        var chains: [(session: Int, payloadType: Int, chain: [Element], pad: String)] = [(0, input.video.payloadType, videoChain, "video")]
        try RTPSockets.receive(input.video, session: 0, media: "video", encoding: encoding, from: input.allowedSenders, into: bin, rtpbin: session)
        if let audio = input.audio {
            let (encoding, fields, audioChain) = try audioDecoding(input.audioCodec)
            try RTPSockets.receive(audio, session: 1, media: "audio", encoding: encoding, fields: fields, from: input.allowedSenders, into: bin, rtpbin: session)
            chains.append((1, audio.payloadType, audioChain, "audio"))
        }
        var selectors: [Int: Element] = [:]
        for (index, _, chain, pad) in chains {
            let selector = try Element(factory: "input-selector", name: "\(pad)-sender")
            try bin.addChain([selector] + chain)
            try bin.expose(try chain.last!.staticPad("src"), as: pad)
            selectors[index] = selector
        }
        let senders = SenderSwitch(selectors: selectors, expected: Set(chains.map { "\($0.session) \($0.payloadType)" }))
        session.onPadAdded { senders.added($0) }
        session.onPadRemoved { senders.removed($0) }
        return bin
    }

    /// The encoding name and the elements that make pictures of it. Depayloaders that can ask
    /// for a keyframe when packets are lost do, and pass on no broken access unit; decoders
    /// drop a picture they could not decode whole and ask for a keyframe then.
    private static func videoDecoding(_ codec: RTPInput.VideoCodec) throws -> (String, [Element]) {
        func repairing(_ decoder: Element) throws -> Element {
            try decoder.set("automatic-request-sync-points", .bool(true))
            try decoder.set("discard-corrupted-frames", .bool(true))
            return decoder
        }
        let waiting: KeyValuePairs<String, PropertyValue> = ["request-keyframe": .bool(true), "wait-for-keyframe": .bool(true)]
        return switch codec {
        case .h264: ("H264", [try Element(factory: "rtph264depay", waiting), try Element(factory: "h264parse"),
                              try repairing(try Element(factory: "arenavideodec", Element.oneThread))])
        case .h265: ("H265", [try Element(factory: "rtph265depay"), try Element(factory: "h265parse"),
                              try repairing(try Element(factory: "arenavideodec", Element.oneThread))])
        case .vp8: ("VP8", [try Element(factory: "rtpvp8depay", waiting), try repairing(try Element(factory: "vp8dec"))])
        case .vp9: ("VP9", [try Element(factory: "rtpvp9depay", waiting), try repairing(try Element(factory: "vp9dec"))])
        }
    }

    /// The encoding name, the caps fields SDP's fmtp gives, and the elements that make sound of it.
    private static func audioDecoding(_ codec: RTPInput.AudioCodec) throws -> (String, [(String, Caps.Field)], [Element]) {
        switch codec {
        case .opus:
            return ("OPUS", [], [try Element(factory: "rtpopusdepay"), try Element(factory: "opusdec", ["plc": .bool(true)])])
        case .aac(let config):
            let fields: [(String, Caps.Field)] = [("mode", .string("AAC-hbr")), ("sizelength", .string("13")), ("indexlength", .string("3")),
                                                  ("indexdeltalength", .string("3")), ("streamtype", .string("5")),
                                                  ("config", .string(config.map { String(format: "%02x", $0) }.joined()))]
            return ("MPEG4-GENERIC", fields, [try Element(factory: "rtpmp4gdepay"), try Element(factory: "aacparse"),
                                              try Element(factory: "avdec_aac", ["plc": .bool(true)])])
        }
    }

    /// Each SSRC a session sees comes out of rtpbin on a pad of its own (`recv_rtp_src_<session>_<ssrc>_<pt>`):
    /// the newest is shown; a pad that goes (its sender timed out) gives its selector pad back,
    /// and the selector shows whichever sender sends next.
    private final class SenderSwitch: Sendable {
        private let selectors: [Int: Element]
        /// "<session> <payload type>" of the streams the input has.
        private let expected: Set<String>
        /// Each rtpbin pad's selector and selector pad.
        private let links = Mutex<[String: (selector: Element, input: Pad)]>([:])

        init(selectors: [Int: Element], expected: Set<String>) {
            self.selectors = selectors
            self.expected = expected
        }

        func added(_ pad: Pad) {
            let parts = pad.name.split(separator: "_")
            guard parts.count == 6, parts[0...2] == ["recv", "rtp", "src"], let index = Int(parts[3]),
                  let payloadType = Int(parts[5]), let selector = selectors[index],
                  expected.contains("\(index) \(payloadType)"),
                  let input = try? selector.requestPad("sink_%u") else { return }
            links.withLock { $0[pad.name] = (selector, input) }
            try? pad.link(input)
            try? selector.set("active-pad", .pad(input))
            // Video from a sender joined (or restarted, or that the mix joined) between keyframes: ask at once.
            if index == 0 { pad.send(.requestKeyframe) }
        }

        func removed(_ pad: Pad) {
            guard let link = links.withLock({ $0.removeValue(forKey: pad.name) }) else { return }
            link.selector.releaseRequestPad(link.input)
        }
    }
}
