import CArenaShim
import CGStreamer

extension Element {
    /// For the udpsrc that receives the peer's RTCP: what `rtcpOut` (an rtpbin
    /// `send_rtcp_src_%u` pad, left unlinked) sends, reports and feedback, goes out through this
    /// element's own socket, so the peer gets it from the port it sends to: to `host`:`port`.
    public func sendRTCP(from rtcpOut: Pad, to host: String, port: Int) throws {
        arena_rtcp_send_through(UnsafeMutableRawPointer(pointer), UnsafeMutableRawPointer(rtcpOut.pointer), host, Int32(port),
                                UnsafeMutableRawPointer(try staticPad("src").pointer), nil, 0)
    }

    /// As `sendRTCP(from:to:port:)`, to where the peer's latest RTCP came from (as `rtcpIn`, a
    /// pad after the filters and decryption, passes it), taken only from the address its RTP
    /// comes from (as `rtpIn` passes it), so that a stranger's packet cannot point it elsewhere;
    /// before its first RTCP, to the port after its RTP's, where senders that use a port pair
    /// (ffmpeg, GStreamer's examples) listen, or with `samePort` (rtcp-mux) to its RTP's port.
    public func sendRTCP(from rtcpOut: Pad, learningFrom rtcpIn: Pad, rtp rtpIn: Pad, samePort: Bool) {
        arena_rtcp_send_through(UnsafeMutableRawPointer(pointer), UnsafeMutableRawPointer(rtcpOut.pointer), nil, 0,
                                UnsafeMutableRawPointer(rtcpIn.pointer), UnsafeMutableRawPointer(rtpIn.pointer), samePort ? 0 : 1)
    }

    /// For an srtpdec: the SSRCs it meets (the media's, its retransmissions', RTCP's) are
    /// decrypted with the keys in `caps` (srtp-key, srtp-cipher, srtp-auth, srtcp-cipher,
    /// srtcp-auth): those in `ssrcs`, or with none listed the first `limit` (srtpdec keeps a
    /// stream for each, so a stranger inventing SSRCs cannot grow it without end).
    public func answerKeyRequests(with caps: Caps, ssrcs: [UInt32], limit: Int) {
        ssrcs.withUnsafeBufferPointer { list in
            arena_srtpdec_answer_key_requests(UnsafeMutableRawPointer(pointer), UnsafeMutableRawPointer(caps.pointer), list.baseAddress,
                                              Int32(list.count), Int32(limit))
        }
    }

    /// For a udpsrc: what comes from any address but `addresses` (IP addresses) is dropped.
    public func acceptOnly(from addresses: [String]) {
        var texts = addresses.map { strdup($0) }
        defer { texts.forEach { free($0) } }
        texts.withUnsafeBufferPointer { list in
            list.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: list.count) { pointer in
                arena_udpsrc_only_from(UnsafeMutableRawPointer(self.pointer), pointer, Int32(list.count))
            }
        }
    }

    /// For an rtpbin: its session element `session` (made when the session's first pad was).
    public func rtpSession(_ session: Int) -> Element? {
        guard let made = arena_rtpbin_session(UnsafeMutableRawPointer(pointer), UInt32(session)) else { return nil }
        let element = Element(retaining: made.assumingMemoryBound(to: GstElement.self))
        gst_object_unref(made)
        return element
    }

    /// For an rtpbin: `session` takes (or, `sending`, sends) RFC 4588 retransmissions of
    /// `payloadType` as `rtxPayloadType`, through an rtprtxreceive (rtprtxsend) made with the session.
    public func useRetransmissions(session: Int, rtxPayloadType: Int, payloadType: Int, sending: Bool = false) {
        arena_rtpbin_use_rtx(UnsafeMutableRawPointer(pointer), UInt32(session), UInt32(rtxPayloadType), UInt32(payloadType), sending ? 1 : 0)
    }
}

extension Pad {
    /// For an audio encoder's source pad: times move `samples` samples at `rate` earlier, the
    /// encoder's priming (decoded as silence before the first real sample), so that the sound
    /// lines up with the picture in players that skip no priming; the priming frame itself,
    /// when it would start before 0, is dropped.
    public func skipPriming(samples: Int, rate: Int) {
        arena_pad_skip_priming(UnsafeMutableRawPointer(pointer), UInt64(samples) * 1_000_000_000 / UInt64(rate))
    }

    /// For a pad carrying a sender's RTCP into rtpbin: sender reports that come with no SDES
    /// (ffmpeg names none unless told to) get a CNAME, `cname`, so that rtpbin lines up the
    /// sender's streams by their reports as it does for senders that name themselves.
    public func nameUnnamedRTCPSenders(as cname: String) {
        arena_rtcp_name_sender(UnsafeMutableRawPointer(pointer), cname)
    }
}
