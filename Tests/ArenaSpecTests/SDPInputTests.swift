import ArenaSpec
import Foundation
import Testing

/// Session descriptions as senders and SFUs print them become RTP inputs; anything else is
/// refused with a message naming the line, and no message repeats a key.
@Suite struct SDPInputTests {
    private let key = Data((0..<30).map { UInt8($0 * 7 % 256) }).base64EncodedString()

    private func input(_ sdp: String, _ extra: String = "") throws -> RTPInput {
        let text = String(decoding: try JSONEncoder().encode(sdp), as: UTF8.self)
        let json = #"{"userId": "a", "input": {"sdp": \#(text)\#(extra)}}"#
        let host = try MixSpec.host(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), path: "hosts[0]", relativeTo: URL(fileURLWithPath: "/data"))
        guard case .rtp(let rtp) = host.input else { throw SpecError(field: "test", "not RTP") }
        return rtp
    }

    private func refusal(_ sdp: String, _ extra: String = "") -> String? {
        do {
            _ = try input(sdp, extra)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// What `ffmpeg -f rtp ... -sdp_file` writes for H.264 and AAC under SRTP (RTP/AVP with a=crypto, as ffmpeg has it).
    @Test func ffmpegsDescriptionWithSRTPAndAAC() throws {
        let sdp = """
            v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\na=tool:libavformat 59.27.100\r\nm=video 30010 RTP/AVP 96\r\nc=IN IP4 127.0.0.1\r
            a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(key)\r
            m=audio 30012 RTP/AVP 97\r\nc=IN IP4 127.0.0.1\r\nb=AS:69\r\na=rtpmap:97 MPEG4-GENERIC/48000/1\r
            a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=118856E500\r
            a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(key)\r\n
            """
        let rtp = try input(sdp, #", "latencyMs": 300, "allowedSenders": ["10.0.0.5"]"#)
        #expect(rtp.video.port == 30010 && rtp.video.rtcpPort == 30011 && rtp.video.payloadType == 96 && rtp.video.clockRate == 90_000)
        #expect(rtp.videoCodec == .h264 && rtp.video.srtp?.suite == .AES_CM_128_HMAC_SHA1_80 && rtp.video.srtp?.key == Array(Data(base64Encoded: key)!))
        #expect(rtp.audio?.port == 30012 && rtp.audio?.payloadType == 97 && rtp.audioCodec == .aac(config: [0x11, 0x88, 0x56, 0xE5, 0x00]))
        #expect(rtp.latencyMilliseconds == 300 && rtp.allowedSenders == ["10.0.0.5"])
        #expect(rtp.video.srtp?.feedbackKey == nil, "no key for RTCP back: none is sent")
        let keyBytes = "\(Array(Data(base64Encoded: key)!))"
        #expect("\(rtp.video.srtp!)" == "SRTP AES_CM_128_HMAC_SHA1_80 (keys hidden)")
        for shown in ["\(rtp)", String(reflecting: rtp), String(describing: rtp.video)] {
            #expect(!shown.contains(key) && !shown.contains(keyBytes), "a description shows the key: \(shown)")
        }
    }

    /// As written for a mediasoup PlainTransport consumer: VP8 with RTX, rtcp-mux, the SSRCs; Opus.
    @Test func anSFUsDescriptionWithRetransmissionsMuxAndSSRCs() throws {
        let sdp = """
            v=0
            o=- 0 0 IN IP4 127.0.0.1
            s=-
            c=IN IP4 127.0.0.1
            t=0 0
            m=audio 40000 RTP/AVPF 100
            a=rtpmap:100 opus/48000/2
            a=rtcp-mux
            m=video 40002 RTP/AVPF 101 102
            a=rtpmap:101 VP8/90000
            a=rtpmap:102 rtx/90000
            a=fmtp:102 apt=101
            a=rtcp:40002
            a=rtcp-fb:101 nack pli
            a=ssrc-group:FID 1111 2222
            a=ssrc:1111 cname:host
            a=ssrc:2222 cname:host
            """
        let rtp = try input(sdp)
        #expect(rtp.videoCodec == .vp8 && rtp.video.payloadType == 101 && rtp.video.rtxPayloadType == 102)
        #expect(rtp.video.rtcpMux && rtp.video.ssrcs == [1111, 2222])
        #expect(rtp.audio?.rtcpMux == true && rtp.audioCodec == .opus && rtp.audio?.port == 40000)
        #expect(rtp.ports == [40002, 40000])
    }

    @Test func fmtpParametersAreReadWhateverTheSpacing() throws {
        let sdp = "v=0\nm=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\nm=audio 5002 RTP/AVP 97\na=rtpmap:97 MPEG4-GENERIC/44100/2\n"
            + "a=fmtp: 97 mode=AAC-hbr; sizelength=13;indexlength=3 ;indexdeltalength=3;config=1210\n"
        #expect(try input(sdp).audioCodec == .aac(config: [0x12, 0x10]))
        let json = #"{"userId": "a", "input": {"rtp": {"video": {"port": 5000, "payloadType": 80, "rtcpMux": true}}}}"#
        #expect(throws: SpecError(field: "hosts[0].input.rtp.video.payloadType", "is 80; with rtcpMux, 64 to 95 would be taken for RTCP (RFC 5761)")) {
            try MixSpec.host(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), path: "hosts[0]", relativeTo: URL(fileURLWithPath: "/"))
        }
    }

    @Test func theFirstOfferedCodecArenaDecodesIsTaken() throws {
        let sdp = "v=0\nm=video 5000 RTP/AVP 34 98 97\na=rtpmap:98 VP9/90000\na=rtpmap:97 H265/90000\n"
        let rtp = try input(sdp)
        #expect(rtp.videoCodec == .vp9 && rtp.video.payloadType == 98 && rtp.audio == nil)
    }

    @Test func badDescriptionsAreRefusedNamingTheLine() {
        let video = "m=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
        let cases: [(String, String)] = [
            ("o=- 0 0 IN IP4 x\n" + video, "hosts[0].input.sdp must start with v=0 (a session description)"),
            ("v=0\nm=audio 5000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n", "hosts[0].input.sdp has 0 video sections with a port; a host sends one"),
            ("v=0\n" + video + video.replacingOccurrences(of: "5000", with: "6000"), "hosts[0].input.sdp has 2 video sections with a port; a host sends one"),
            ("v=0\nm=video 5000 RTP/AVP 96\na=rtpmap:96 theora/90000\n", "hosts[0].input.sdp line 2: the video section offers no H264, VP8, VP9 or H265 payload type (with its a=rtpmap)"),
            ("v=0\n" + video + "a=rtpmap:96 H264\n", "hosts[0].input.sdp line 4: a=rtpmap must be <payload type> <encoding>/<clock rate>"),
            ("v=0\nm=video 5000 UDP/TLS/RTP/SAVPF 96\na=rtpmap:96 H264/90000\n",
             "hosts[0].input.sdp line 2: profile UDP/TLS/RTP/SAVPF is not RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF (DTLS-SRTP is WebRTC's, not a plain RTP input's)"),
            ("v=0\nm=video 5000 RTP/SAVP 96\na=rtpmap:96 H264/90000\n", "hosts[0].input.sdp line 2: SRTP needs an a=crypto line of a suite Arena takes (AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, AES_256_CM_HMAC_SHA1_80, AES_256_CM_HMAC_SHA1_32, AEAD_AES_128_GCM, AEAD_AES_256_GCM)"),
            ("v=0\n" + video + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(key)|2^20|1:4\n", "hosts[0].input.sdp line 4: a=crypto has a key with an MKI, which Arena does not take"),
            ("v=0\n" + video + "a=ssrc:1 cname:a\na=ssrc:2 cname:a\na=ssrc:3 cname:a\na=ssrc:4 cname:a\na=ssrc:5 cname:a\n", "hosts[0].input.sdp line 8: a video section names more than 4 SSRCs"),
            ("v=0\n" + video + "x=\u{1B}[2J\n", "hosts[0].input.sdp line 4 is not <letter>=<value> in printable characters"),
            ("v=0\nm=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\nm=audio 5000 RTP/AVP 111\na=rtpmap:111 opus/48000/2\n",
             "hosts[0].input.sdp uses port 5000, a port of the video's too (RTP, or RTCP on the RTP port + 1 unless rtcpPort or rtcpMux says); each stream needs its own"),
            ("v=0\n" + String(repeating: "a=x\n", count: 2_000), "hosts[0].input.sdp has 2002 lines; at most 2000"),
            ("v=0\n" + video + "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(key) UNENCRYPTED_SRTCP\n",
             "hosts[0].input.sdp line 4: a=crypto has session parameters (UNENCRYPTED_SRTCP, KDR= ...), which Arena does not take"),
            ("v=0\nm=video 5000 RTP/AVP 96 97\na=rtpmap:96 H264/90000\na=rtpmap:97 rtx/90000\na=fmtp:97 apt=96\na=ssrc:1 cname:a\n",
             "hosts[0].input.sdp line 2: a=ssrc names SSRCs but no a=ssrc-group:FID gives the retransmissions' SSRC; their packets would be dropped"),
            ("v=0\nm=video 5000 RTP/AVP 72\na=rtpmap:72 H264/90000\na=rtcp-mux\n",
             "hosts[0].input.sdp line 2: payload type 72 cannot share its port with RTCP (64 to 95 would be taken for RTCP, RFC 5761)"),
        ]
        for (sdp, message) in cases {
            #expect(refusal(sdp) == message)
        }
        #expect(refusal("v=0\n" + video, #", "feedbackKey": "\#(key)""#) == "hosts[0].input.feedbackKey is given, but the SDP has no a=crypto (no SRTP)")
    }

    /// A key of the wrong length, or not base64, is refused without being repeated.
    @Test func badKeysAreRefusedWithoutShowingThem() {
        let short = Data(repeating: 0x41, count: 16).base64EncodedString()
        let video = "v=0\nm=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\(short)\n"
        let message = refusal(video) ?? ""
        #expect(message == "hosts[0].input.sdp (line 4) must be base64 of 30 bytes (AES_CM_128_HMAC_SHA1_80's master key and salt); the value is not shown")
        #expect(!message.contains(short))
        let json = #"{"rtp": {"video": {"port": 5000, "srtp": {"suite": "AEAD_AES_128_GCM", "key": "not base64 secret"}}}}"#
        do {
            _ = try MixSpec.host(try JSONDecoder().decode(JSONValue.self, from: Data(#"{"userId": "a", "input": \#(json)}"#.utf8)), path: "hosts[0]", relativeTo: URL(fileURLWithPath: "/"))
            Issue.record("a bad key was taken")
        } catch {
            #expect("\(error)" == "hosts[0].input.rtp.video.srtp.key must be base64 of 28 bytes (AEAD_AES_128_GCM's master key and salt); the value is not shown")
        }
    }

    @Test func jsonRTPInputsTakeTheNewFields() throws {
        let json = #"""
            {"userId": "a", "input": {"rtp": {"video": {"port": 5000, "codec": "h265", "rtcpMux": true, "ssrcs": [7, 4294967295]},
             "audio": {"port": 5002, "codec": "aac", "config": "1190", "srtp": {"key": "\#(key)", "feedbackKey": "\#(key)"}}}}}
            """#
        let host = try MixSpec.host(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), path: "hosts[0]", relativeTo: URL(fileURLWithPath: "/"))
        guard case .rtp(let rtp) = host.input else { Issue.record("not RTP"); return }
        #expect(rtp.videoCodec == .h265 && rtp.video.rtcpMux && rtp.video.ssrcs == [7, 4_294_967_295])
        #expect(rtp.audioCodec == .aac(config: [0x11, 0x90]) && rtp.audio?.rtcpPort == 5003 && rtp.audio?.srtp?.feedbackKey?.count == 30)
        #expect(rtp.ports == [5000, 5002, 5003])
    }

    /// `{"sdpFile": ...}` reads a file inside the spec's folder only: not a path out of it, not a
    /// symlink out of it, not a device or a folder, not more than 64 KiB.
    @Test func sdpFilesAreReadOnlyFromInsideTheSpecsFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sdp-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("specs")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let sdp = "v=0\nm=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\n"
        try Data(sdp.utf8).write(to: folder.appendingPathComponent("alice.sdp"))
        try Data(sdp.utf8).write(to: root.appendingPathComponent("outside.sdp"))
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("link.sdp").path, withDestinationPath: root.appendingPathComponent("outside.sdp").path)
        try Data(repeating: 0x61, count: 70_000).write(to: folder.appendingPathComponent("big.sdp"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("dir.sdp"), withIntermediateDirectories: true)
        func parse(_ file: String) throws -> RTPInput {
            let json = #"{"userId": "a", "input": {"sdpFile": "\#(file)", "latencyMs": 100}}"#
            let host = try MixSpec.host(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), path: "hosts[0]", relativeTo: folder)
            guard case .rtp(let rtp) = host.input else { throw SpecError(field: "test", "not RTP") }
            return rtp
        }
        let rtp = try parse("alice.sdp")
        #expect(rtp.video.port == 5000 && rtp.latencyMilliseconds == 100)
        let refused = "hosts[0].input.sdpFile must name a readable .sdp file of at most 65536 bytes inside the spec's folder"
        for file in ["../outside.sdp", root.appendingPathComponent("outside.sdp").path, "link.sdp", "big.sdp", "dir.sdp", "missing.sdp", "/dev/zero", "/etc/passwd"] {
            #expect(throws: SpecError(field: "hosts[0].input.sdpFile", String(refused.dropFirst("hosts[0].input.sdpFile ".count))), "\(file)") { try parse(file) }
        }
    }

    /// The attack on a check made before the open: while specs are read, a folder on the SDP
    /// file's path is swapped, again and again, for a link to a folder outside. The file outside
    /// (another port) is never read; the one inside still is, when the folder is in place.
    @Test func aFolderSwappedForALinkWhileItIsReadNeverLeadsOut() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sdp-race-\(UUID().uuidString)")
        let specs = root.appendingPathComponent("specs"), outside = root.appendingPathComponent("outside")
        defer { try? FileManager.default.removeItem(at: root) }
        for (folder, port) in [(specs.appendingPathComponent("sub"), 5000), (outside, 6000)] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data("v=0\nm=video \(port) RTP/AVP 96\na=rtpmap:96 H264/90000\n".utf8).write(to: folder.appendingPathComponent("alice.sdp"))
        }
        try FileManager.default.createSymbolicLink(atPath: specs.appendingPathComponent("link").path, withDestinationPath: outside.path)
        let (sub, held, link) = (specs.appendingPathComponent("sub").path, specs.appendingPathComponent("held").path, specs.appendingPathComponent("link").path)
        let (done, ended) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
        let swapper = Thread {
            defer { ended.signal() }
            while done.wait(timeout: .now()) == .timedOut {
                rename(sub, held)
                rename(link, sub)  // the link is where the folder was
                rename(sub, link)
                rename(held, sub)
            }
        }
        swapper.start()
        let json = Data(#"{"userId": "a", "input": {"sdpFile": "sub/alice.sdp"}}"#.utf8)
        var ports: [Int: Int] = [:]
        for _ in 0..<20_000 {
            let host = try? MixSpec.host(try JSONDecoder().decode(JSONValue.self, from: json), path: "hosts[0]", relativeTo: specs)
            if case .rtp(let rtp) = host?.input { ports[rtp.video.port, default: 0] += 1 }
        }
        done.signal()
        ended.wait()
        #expect(ports[6000] == nil && ports[5000, default: 0] > 0, "reads by port: \(ports)")
    }
}
