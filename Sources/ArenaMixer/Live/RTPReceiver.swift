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
    static func bin(for input: RTPInput) throws -> Bin {
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
        let (encoding, videoChain): (String, [Element]) = switch input.videoCodec {
        // Depayloaders ask for a keyframe when packets are lost and pass on no broken access unit;
        // decoders drop a picture they could not decode whole and ask for a keyframe then.
        case .h264: ("H264", [try Element(factory: "rtph264depay", ["request-keyframe": .bool(true), "wait-for-keyframe": .bool(true)]),
                              try Element(factory: "h264parse"),
                              try Element(factory: "avdec_h264", ["max-threads": .int32(1),  // see decodeWithoutFrameThreads
                                                                  "automatic-request-sync-points": .bool(true), "discard-corrupted-frames": .bool(true)])])
        case .vp8: ("VP8", [try Element(factory: "rtpvp8depay", ["request-keyframe": .bool(true), "wait-for-keyframe": .bool(true)]),
                            try Element(factory: "vp8dec", ["automatic-request-sync-points": .bool(true), "discard-corrupted-frames": .bool(true)])])
        }
        var chains: [(session: Int, payloadType: Int, chain: [Element], pad: String)] = [(0, input.video.payloadType, videoChain, "video")]
        try receive(input.video, session: 0, media: "video", encoding: encoding, from: input.allowedSenders, into: bin, rtpbin: session)
        if let audio = input.audio {
            try receive(audio, session: 1, media: "audio", encoding: "OPUS", from: input.allowedSenders, into: bin, rtpbin: session)
            chains.append((1, audio.payloadType, [try Element(factory: "rtpopusdepay"), try Element(factory: "opusdec", ["plc": .bool(true)])], "audio"))
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

    /// A stream's sockets: RTP through the filter into `rtpbin`'s session `session`; RTCP
    /// into the session, and the session's RTCP back to the sender. With `senders`, packets
    /// from other addresses are dropped first.
    private static func receive(_ stream: RTPInput.Stream, session: Int, media: String, encoding: String, from senders: [String],
                                into bin: Bin, rtpbin: Element) throws {
        // As SDP's `a=rtcp-fb:<pt> nack pli` (and `nack` when the sender offers retransmissions).
        let caps = try Caps(mediaType: "application/x-rtp", [
            "media": .string(media), "encoding-name": .string(encoding), "clock-rate": .int(stream.clockRate),
            "payload": .int(stream.payloadType), "rtcp-fb-nack-pli": .bool(true), "rtcp-fb-nack": .bool(stream.rtxPayloadType != nil),
        ])
        let rtp = try Element(factory: "udpsrc", name: "rtp-\(media)", [
            "port": .int32(Int32(stream.port)), "buffer-size": .int32(2_097_152), "caps": .caps(caps),
        ])
        let rtcp = try Element(factory: "udpsrc", name: "rtcp-\(media)", [
            "port": .int32(Int32(stream.rtcpPort)), "caps": .caps(try Caps(mediaType: "application/x-rtcp", [:])),
        ])
        try bin.add(rtp, rtcp)
        if !senders.isEmpty {
            rtp.acceptOnly(from: senders)
            rtcp.acceptOnly(from: senders)
        }
        let payloadTypes = [stream.payloadType] + (stream.rtxPayloadType.map { [$0] } ?? [])
        try rtp.staticPad("src").addBufferDataProbe { packet in isRTP(packet, payloadTypes: payloadTypes) ? .pass : .drop }
        try rtcp.staticPad("src").addBufferDataProbe { packet in isRTCP(packet) ? .pass : .drop }
        try rtp.staticPad("src").link(try rtpbin.requestPad("recv_rtp_sink_\(session)"))
        try rtcp.staticPad("src").link(try rtpbin.requestPad("recv_rtcp_sink_\(session)"))
        rtcp.sendRTCP(from: try rtpbin.requestPad("send_rtcp_src_\(session)"), guessingFrom: rtp)
        // RTCP may use a fifth of the stream's rate (RTP's default is a twentieth): AVPF then lets
        // early feedback out every ~100 ms rather than every ~500 ms, so a keyframe request that
        // follows a NACK is not held back. The reports sent stay at a few a second.
        try rtpbin.rtpSession(session)?.set("rtcp-fraction", .double(0.2))
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

    /// An RTP packet (version 2, a whole header) of one of the given payload types.
    static func isRTP(_ packet: UnsafeRawBufferPointer, payloadTypes: [Int]) -> Bool {
        guard packet.count >= 12, packet[0] >> 6 == 2 else { return false }
        let csrcCount = Int(packet[0] & 0x0F)
        return packet.count >= 12 + 4 * csrcCount && payloadTypes.contains(Int(packet[1] & 0x7F))
    }

    /// An RTCP compound packet's start: version 2, a report or feedback type (192 to 223), a
    /// length that fits in the datagram.
    static func isRTCP(_ packet: UnsafeRawBufferPointer) -> Bool {
        guard packet.count >= 8, packet[0] >> 6 == 2, (192...223).contains(packet[1]) else { return false }
        let words = (Int(packet[2]) << 8 | Int(packet[3])) + 1
        return words * 4 <= packet.count
    }
}
