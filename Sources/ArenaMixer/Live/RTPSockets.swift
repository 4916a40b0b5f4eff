import ArenaSpec
import GStreamerKit

/// The network end of one RTP stream for an `rtpbin` session: its UDP sockets (RTP and RTCP,
/// or one for both with rtcp-mux), filters that let only well-formed packets of the expected
/// kind, payload types and SSRCs through (garbage and strays never reach the session),
/// SRTP decryption, and the session's RTCP sent back from the socket the sender's RTCP
/// comes to (encrypted when the stream is SRTP; not at all without a key for it).
enum RTPSockets {
    /// With SRTP and no `ssrcs`, how many SSRCs get the key (srtpdec keeps a stream of a few KB
    /// for each, for as long as it runs): a sender that restarts takes a new one (two with
    /// retransmissions); a stranger who reaches the port can take the rest, which `ssrcs` or
    /// `allowedSenders` prevents.
    static let srtpSSRCLimit = 64

    static func receive(_ stream: RTPInput.Stream, session: Int, media: String, encoding: String, fields: [(String, Caps.Field)] = [],
                        from senders: [String], into bin: Bin, rtpbin: Element) throws {
        let srtp = stream.srtp
        // As SDP's `a=rtcp-fb:<pt> nack pli` (and `nack` when the sender offers retransmissions).
        // No key in these caps: srtpdec takes keys from caps only with an SSRC, and gets them
        // from `answerKeyRequests` instead; caps get printed (debug logs, graph dumps).
        let description: [(String, Caps.Field)] = [
            ("media", .string(media)), ("encoding-name", .string(encoding)), ("clock-rate", .int(stream.clockRate)),
            ("payload", .int(stream.payloadType)), ("rtcp-fb-nack-pli", .bool(true)), ("rtcp-fb-nack", .bool(stream.rtxPayloadType != nil)),
        ] + fields
        let rtp = try Element(factory: "udpsrc", name: "rtp-\(media)", [
            "port": .int32(Int32(stream.port)), "buffer-size": .int32(2_097_152),
            "caps": .caps(try Caps(mediaType: srtp == nil ? "application/x-rtp" : "application/x-srtp", fields: description)),
        ])
        try bin.add(rtp)
        let rtcpType = srtp == nil ? "application/x-rtcp" : "application/x-srtcp"
        let (rtpOut, rtcpOut, rtcpSocket): (Pad, Pad, Element)
        if stream.rtcpMux {
            // One socket: a tee hands each packet to both filters, and the RTCP side is told its caps.
            let split = try Element(factory: "tee", name: "mux-\(media)")
            let rtcpCaps = try Element(factory: "capssetter", ["caps": .caps(try Caps(mediaType: rtcpType, fields: [])), "join": .bool(false), "replace": .bool(true)])
            try bin.add(split, rtcpCaps)
            try rtp.link(split)
            rtpOut = try split.requestPad("src_%u")
            try split.requestPad("src_%u").link(try rtcpCaps.staticPad("sink"))
            (rtcpOut, rtcpSocket) = (try rtcpCaps.staticPad("src"), rtp)
        } else {
            let rtcp = try Element(factory: "udpsrc", name: "rtcp-\(media)", [
                "port": .int32(Int32(stream.rtcpPort)), "caps": .caps(try Caps(mediaType: rtcpType, fields: [])),
            ])
            try bin.add(rtcp)
            (rtpOut, rtcpOut, rtcpSocket) = (try rtp.staticPad("src"), try rtcp.staticPad("src"), rtcp)
        }
        if !senders.isEmpty {
            rtp.acceptOnly(from: senders)
            if rtcpSocket !== rtp { rtcpSocket.acceptOnly(from: senders) }
        }
        let payloadTypes = [stream.payloadType] + (stream.rtxPayloadType.map { [$0] } ?? [])
        let ssrcs = stream.ssrcs
        let mux = stream.rtcpMux
        rtpOut.addBufferDataProbe { packet in isRTP(packet, payloadTypes: payloadTypes, ssrcs: ssrcs, mux: mux) ? .pass : .drop }
        rtcpOut.addBufferDataProbe { packet in isRTCP(packet, ssrcs: ssrcs) ? .pass : .drop }
        var (rtpIn, rtcpIn) = (rtpOut, rtcpOut)
        var feedback = try rtpbin.requestPad("send_rtcp_src_\(session)")
        if let srtp {
            let decrypt = try Element(factory: "srtpdec", name: "srtp-\(media)")
            decrypt.answerKeyRequests(with: try Caps(mediaType: "application/x-srtp", fields: keyFields(srtp)), ssrcs: ssrcs, limit: RTPSockets.srtpSSRCLimit)
            try bin.add(decrypt)
            try rtpOut.link(try decrypt.staticPad("rtp_sink"))
            try rtcpOut.link(try decrypt.staticPad("rtcp_sink"))
            (rtpIn, rtcpIn) = (try decrypt.staticPad("rtp_src"), try decrypt.staticPad("rtcp_src"))
            if let key = srtp.feedbackKey {
                let (cipher, auth, rtcpAuth) = names(srtp.suite)
                let encrypt = try Element(factory: "srtpenc", name: "srtcp-\(media)", [
                    "key": .bytes(key), "rtp-cipher": .nick(cipher), "rtp-auth": .nick(auth), "rtcp-cipher": .nick(cipher), "rtcp-auth": .nick(rtcpAuth),
                ])
                try bin.add(encrypt)
                try feedback.link(try encrypt.requestPad("rtcp_sink_%u"))
                feedback = try encrypt.staticPad("rtcp_src_0")
            } else {
                feedback.addBufferProbe { _ in .drop }  // plain RTCP on an SRTP session would be dropped by the sender, and says who we are
            }
        }
        // One input is one sender: its streams are lined up by their reports even when it gives no CNAME.
        rtcpIn.nameUnnamedRTCPSenders(as: "arena-input")
        try rtpIn.link(try rtpbin.requestPad("recv_rtp_sink_\(session)"))
        try rtcpIn.link(try rtpbin.requestPad("recv_rtcp_sink_\(session)"))
        if srtp == nil || srtp?.feedbackKey != nil {
            rtcpSocket.sendRTCP(from: feedback, learningFrom: rtcpIn, rtp: rtpIn, samePort: stream.rtcpMux)
        }
        // RTCP may use a fifth of the stream's rate (RTP's default is a twentieth): AVPF then lets
        // early feedback out every ~100 ms rather than every ~500 ms, so a keyframe request that
        // follows a NACK is not held back. The reports sent stay at a few a second.
        try rtpbin.rtpSession(session)?.set("rtcp-fraction", .double(0.2))
    }

    /// srtpdec's caps fields for `keys` (the key as a buffer).
    private static func keyFields(_ keys: SRTPKeys) -> [(String, Caps.Field)] {
        let (cipher, auth, rtcpAuth) = names(keys.suite)
        return [("srtp-key", .bytes(keys.key)), ("srtp-cipher", .string(cipher)), ("srtp-auth", .string(auth)),
                ("srtcp-cipher", .string(cipher)), ("srtcp-auth", .string(rtcpAuth))]
    }

    /// GStreamer's names of a suite's cipher, its RTP authentication and its RTCP
    /// authentication (SRTCP keeps the 80-bit tag when RTP uses 32: RFC 4568 6.2.1).
    private static func names(_ suite: SRTPKeys.Suite) -> (String, String, String) {
        switch suite {
        case .AES_CM_128_HMAC_SHA1_80: ("aes-128-icm", "hmac-sha1-80", "hmac-sha1-80")
        case .AES_CM_128_HMAC_SHA1_32: ("aes-128-icm", "hmac-sha1-32", "hmac-sha1-80")
        case .AES_256_CM_HMAC_SHA1_80: ("aes-256-icm", "hmac-sha1-80", "hmac-sha1-80")
        case .AES_256_CM_HMAC_SHA1_32: ("aes-256-icm", "hmac-sha1-32", "hmac-sha1-80")
        case .AEAD_AES_128_GCM: ("aes-128-gcm", "null", "null")
        case .AEAD_AES_256_GCM: ("aes-256-gcm", "null", "null")
        }
    }

    /// An RTP packet (version 2, a whole header) of one of the given payload types and, when
    /// `ssrcs` is not empty, of one of those SSRCs; with `mux`, not in RTCP's type range (RFC 5761).
    private static func isRTP(_ packet: UnsafeRawBufferPointer, payloadTypes: [Int], ssrcs: [UInt32], mux: Bool) -> Bool {
        guard packet.count >= 12, packet[0] >> 6 == 2, !mux || !(192...223).contains(packet[1]) else { return false }
        let csrcCount = Int(packet[0] & 0x0F)
        guard packet.count >= 12 + 4 * csrcCount, payloadTypes.contains(Int(packet[1] & 0x7F)) else { return false }
        return ssrcs.isEmpty || ssrcs.contains(ssrc(packet, at: 8))
    }

    /// An RTCP compound packet's start: version 2, a report or feedback type (192 to 223), a
    /// length that fits in the datagram; when `ssrcs` is not empty, sent by one of those SSRCs.
    private static func isRTCP(_ packet: UnsafeRawBufferPointer, ssrcs: [UInt32]) -> Bool {
        guard packet.count >= 8, packet[0] >> 6 == 2, (192...223).contains(packet[1]) else { return false }
        let words = (Int(packet[2]) << 8 | Int(packet[3])) + 1
        return words * 4 <= packet.count && (ssrcs.isEmpty || ssrcs.contains(ssrc(packet, at: 4)))
    }

    private static func ssrc(_ packet: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(packet[offset]) << 24 | UInt32(packet[offset + 1]) << 16 | UInt32(packet[offset + 2]) << 8 | UInt32(packet[offset + 3])
    }
}
