import ArenaLayout
import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// Live mixes of RTP senders on loopback, checked in their recordings and HLS output.
@Suite(.serialized) struct LiveMixTests {
    /// Alice sends a red picture with a white ball moving over it (H.264 and Opus), Bob a blue
    /// one (VP8), starting 1 s after the mix. Bob's sender is killed at 3 s and started again
    /// at 7 s; garbage and stray RTP hit Alice's port at 1.5 s; an RTMP output points at a
    /// port nobody listens on.
    @Test func liveMixHoldsItsFrameRateShowsThePlaceholderAndTakesTheHostBack() throws {
        let folder = try TestMedia.workspace()
        let ports = TestPorts.take(4)
        let (aliceVideo, aliceAudio, bobVideo, deadRTMP) = (ports[0], ports[1], ports[2], ports[3])
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("hls"), withIntermediateDirectories: true)
        let alice = try RTPSender(videoPort: aliceVideo, audioPort: aliceAudio,
                                  pattern: "pattern=ball background-color=0xFFFF0000 foreground-color=0xFFFFFFFF")
        let mix = try RunningLiveMix(spec: """
            {"template": 600, "canvas": {"width": 360, "height": 640, "fps": 30},
             "hosts": [
               {"userId": "alice", "input": {"rtp": {"video": {"port": \(aliceVideo)}, "audio": {"port": \(aliceAudio)}, "latencyMs": 100}}},
               {"userId": "bob", "input": {"rtp": {"video": {"port": \(bobVideo), "codec": "vp8"}, "latencyMs": 100}}}],
             "live": {"staleAfterMs": 500, "disconnectTimeoutMs": 2000},
             "output": {"video": {"preset": "ultrafast", "keyframeIntervalSeconds": 1}},
             "outputs": [{"type": "recording", "path": "live.mp4", "segmentSeconds": 600},
                         {"type": "hls", "folder": "hls", "segmentSeconds": 1},
                         {"type": "rtmp", "url": "rtmp://127.0.0.1:\(deadRTMP)/live/nobody"}]}
            """, in: folder)
        Thread.sleep(forTimeInterval: 1)
        var bob = try RTPSender(videoPort: bobVideo, vp8: true, pattern: "pattern=solid-color foreground-color=0xFF0000FF")
        Thread.sleep(forTimeInterval: 0.5)
        UDPNoise.send((0..<200).map { [UInt8](repeating: UInt8($0), count: 20 + $0) }, to: aliceVideo)
        UDPNoise.send((0..<50).map { UDPNoise.rtp(payloadType: 100, sequence: UInt16($0)) }, to: aliceVideo)
        Thread.sleep(forTimeInterval: 1.5)
        bob.kill()
        Thread.sleep(forTimeInterval: 4)
        bob = try RTPSender(videoPort: bobVideo, vp8: true, pattern: "pattern=solid-color foreground-color=0xFF0000FF")
        Thread.sleep(forTimeInterval: 3)
        try mix.stop()
        alice.kill()
        bob.kill()

        // The session: Bob left after the disconnect timeout and joined again.
        let events = mix.notices.map { "\($0.event) \($0.userId ?? "")" }
        #expect(events == ["onCoHostUserLeft bob", "onCoHostUserJoined bob"])
        let left = mix.notices.first { $0.event == "onCoHostUserLeft" }!.at
        let back = mix.notices.first { $0.event == "onCoHostUserJoined" }!.at
        // The output is named without its stream key ("nobody").
        #expect(mix.warnings.contains { $0.hasPrefix("RTMP rtmp://127.0.0.1:\(deadRTMP)/live/… failed") })
        #expect(!mix.warnings.contains { $0.contains("nobody") })

        // One recording, closed when the mix stopped, at 30 fps with no gap.
        let recording = folder.appendingPathComponent("live-00001.mp4").path
        let (count, frames) = try VideoFrames.decode(path: recording) { _ in true }
        #expect(count > 9 * 30)
        let gaps = zip(frames, frames.dropFirst()).map { $1.pts - $0.pts }
        #expect(gaps.max()! <= oneMissingFrame, "largest gap between output frames: \(gaps.max()!) ns")

        // Alice's Opus tone is in the mix.
        let levels = try AudioLevels.peaks(path: recording, window: 0.5)
        #expect(levels.count >= 16 && levels[2..<16].allSatisfy { $0 > 0.05 }, "audio levels: \(levels)")

        let aliceCell = Rect(x: 0, y: 138, width: 180, height: 322)
        let bobCorner = (x: 300, y: 420)  // away from the avatar and the name
        func isBlue(_ frame: RGBFrame) -> Bool {
            let (red, green, blue) = frame.rgb(x: bobCorner.x, y: bobCorner.y)
            return red < 40 && green < 40 && blue > 200
        }
        func isPlaceholder(_ frame: RGBFrame) -> Bool {
            let (red, green, blue) = frame.rgb(x: bobCorner.x, y: bobCorner.y)
            return abs(Int(red) - 0x1F) < 12 && abs(Int(green) - 0x20) < 12 && abs(Int(blue) - 0x24) < 12
        }
        // Before the kill: both cells, Alice's picture moving (garbage on her port changed nothing).
        let early = frames.first { $0.pts >= 2_500_000_000 }!
        expectColour(early, x: 20, y: 150, 0xFF0000)
        #expect(isBlue(early))
        // Bob's last picture, then the placeholder within 1 s, while Alice keeps moving.
        let lastBlue = frames.lastIndex { $0.pts < left && isBlue($0) }!
        let firstPlaceholder = frames[lastBlue...].firstIndex(where: isPlaceholder)!
        let frozen = Double(frames[firstPlaceholder].pts - frames[lastBlue].pts) / 1e9
        #expect(frozen <= 1.0, "Bob's cell showed the placeholder \(frozen) s after his last picture")
        let during = frames[firstPlaceholder]
        let later = frames[min(firstPlaceholder + 15, frames.count - 1)]
        #expect(picturesDiffer(during, later, in: aliceCell))
        // After the timeout Alice has the whole canvas; after Bob is back, both cells again.
        let alone = frames.first { $0.pts >= left + 300_000_000 }!
        expectColour(alone, x: 20, y: 20, 0xFF0000)
        let rejoined = frames.last!
        #expect(rejoined.pts > back)
        #expect(isBlue(rejoined))
        expectColour(rejoined, x: 20, y: 150, 0xFF0000)

        // HLS: a finished playlist of 1 s segments, each of which decodes.
        let playlist = try String(contentsOf: folder.appendingPathComponent("hls/playlist.m3u8"), encoding: .utf8)
        let segments = playlist.split(separator: "\n").filter { $0.hasSuffix(".ts") }
        #expect(segments.count >= 6)
        #expect(playlist.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("#EXT-X-ENDLIST"))
        for segment in segments.dropLast().suffix(3) {
            let decoded = try VideoFrames.decode(path: folder.appendingPathComponent("hls/\(segment)").path)
            #expect(decoded.count >= 25)
        }
    }

    /// RTMP to a real nginx-rtmp and SRT to a caller, both read back while live; the RTMP
    /// server is killed and started again mid-way: that output comes back by itself, and the
    /// SRT and recording outputs beside it never stop.
    @Test func rtmpOutputReachesNginxAndRecoversWhenTheServerComesBack() throws {
        let folder = try TestMedia.workspace()
        let ports = TestPorts.take(3)
        let server = try NginxRTMP(port: ports[1])  // a TCP port: UDP and TCP numbers do not clash
        let sender = try RTPSender(videoPort: ports[0], pattern: "pattern=solid-color foreground-color=0xFFFF0000")
        let url = "rtmp://127.0.0.1:\(server.port)/live/arena"
        let mix = try RunningLiveMix(spec: """
            {"canvas": {"width": 360, "height": 640, "fps": 30},
             "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(ports[0])}, "latencyMs": 50}}}],
             "output": {"video": {"preset": "ultrafast", "keyframeIntervalSeconds": 1}},
             "outputs": [{"type": "rtmp", "url": "\(url)"}, {"type": "recording", "path": "live.mkv", "segmentSeconds": 600},
                         {"type": "srt", "uri": "srt://:\(ports[2])?mode=listener"}]}
            """, in: folder)
        Thread.sleep(forTimeInterval: 2)
        let first = try MediaInfo.discover(uri: url, timeLimit: 10)
        let srt = try MediaInfo.discover(uri: "srt://127.0.0.1:\(ports[2])?mode=caller", timeLimit: 10)
        server.kill()
        Thread.sleep(forTimeInterval: 1.5)
        try server.start()
        Thread.sleep(forTimeInterval: 4)  // the retries back off 1 s, then 2 s
        let again = try MediaInfo.discover(uri: url, timeLimit: 10)
        try mix.stop()
        sender.kill()

        for info in [first, again, srt] {
            #expect(info.video.first.map { "\($0.codec) \($0.width)x\($0.height)" } == "video/x-h264 360x640")
            #expect(info.audio.first?.codec == "audio/mpeg")
        }
        #expect(mix.warnings.contains { $0.hasPrefix("RTMP rtmp://127.0.0.1:\(server.port)/live/… failed") })
        #expect(!mix.warnings.contains { $0.contains("/live/arena") })
        let (count, frames) = try VideoFrames.decode(path: folder.appendingPathComponent("live-00001.mkv").path) { _ in true }
        #expect(count > 7 * 30)
        let gaps = zip(frames, frames.dropFirst()).map { $1.pts - $0.pts }
        #expect(gaps.max()! <= oneMissingFrame)
    }

    /// Two rooms of one co-host session: each mix puts its own host in slot 0, and the two
    /// inputs they share are received and decoded once.
    @Test func twoRoomsShareTheirInputsDecodedOnce() throws {
        let folder = try TestMedia.workspace()
        let ports = TestPorts.take(2)
        let alice = try RTPSender(videoPort: ports[0], pattern: "pattern=solid-color foreground-color=0xFFFF0000")
        let bob = try RTPSender(videoPort: ports[1], vp8: true, pattern: "pattern=solid-color foreground-color=0xFF0000FF")
        let aliceInput = #"{"rtp": {"video": {"port": \#(ports[0])}, "latencyMs": 50}}"#
        let bobInput = #"{"rtp": {"video": {"port": \#(ports[1]), "codec": "vp8"}, "latencyMs": 50}}"#
        func room(_ first: (String, String), _ second: (String, String)) -> String {
            """
            {"canvas": {"width": 360, "height": 640}, "output": {"video": {"preset": "ultrafast"}},
             "hosts": [{"userId": "\(first.0)", "input": \(first.1)}, {"userId": "\(second.0)", "input": \(second.1)}],
             "outputs": [{"type": "recording", "path": "\(first.0)-room.mkv"}]}
            """
        }
        let mix = try RunningLiveMix(specs: [room(("alice", aliceInput), ("bob", bobInput)), room(("bob", bobInput), ("alice", aliceInput))],
                                     in: folder)
        Thread.sleep(forTimeInterval: 3.5)
        try mix.stop()
        alice.kill()
        bob.kill()

        #expect(mix.decodedInputs == 2)
        for (room, left, right) in [("alice", 0xFF0000, 0x0000FF), ("bob", 0x0000FF, 0xFF0000)] as [(String, UInt32, UInt32)] {
            let (count, frames) = try VideoFrames.decode(path: folder.appendingPathComponent("\(room)-room-00001.mkv").path) { _ in true }
            #expect(count > 2 * 30)
            let last = frames.last!
            expectColour(last, x: 90, y: 200, left)    // the room's own host in slot 0, on the left
            expectColour(last, x: 270, y: 200, right)
        }
    }

    /// Bob's port is set up for VP8; for 2 s it gets H.264 (a codec change mid-stream), then
    /// VP8 again. The mix goes on: Bob's cell shows the placeholder meanwhile and his picture
    /// after; Alice's never stops.
    @Test func aCodecChangeMidStreamShowsThePlaceholderUntilTheRightCodecIsBack() throws {
        let folder = try TestMedia.workspace()
        let ports = TestPorts.take(2)
        let alice = try RTPSender(videoPort: ports[0], pattern: "pattern=solid-color foreground-color=0xFFFF0000")
        var bob = try RTPSender(videoPort: ports[1], vp8: true, pattern: "pattern=solid-color foreground-color=0xFF0000FF")
        let mix = try RunningLiveMix(spec: """
            {"canvas": {"width": 360, "height": 640}, "output": {"video": {"preset": "ultrafast", "keyframeIntervalSeconds": 1}},
             "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(ports[0])}, "latencyMs": 50}}},
                       {"userId": "bob", "input": {"rtp": {"video": {"port": \(ports[1]), "codec": "vp8"}, "latencyMs": 50}}}],
             "live": {"disconnectTimeoutMs": 60000},
             "outputs": [{"type": "recording", "path": "live.mkv", "segmentSeconds": 600}]}
            """, in: folder)
        Thread.sleep(forTimeInterval: 2)
        bob.kill()
        bob = try RTPSender(videoPort: ports[1], pattern: "pattern=solid-color foreground-color=0xFF00FF00")  // H.264 now
        Thread.sleep(forTimeInterval: 2)
        bob.kill()
        bob = try RTPSender(videoPort: ports[1], vp8: true, pattern: "pattern=solid-color foreground-color=0xFF0000FF")
        Thread.sleep(forTimeInterval: 2.5)
        try mix.stop()
        alice.kill()
        bob.kill()

        let frames = try VideoFrames.decode(path: folder.appendingPathComponent("live-00001.mkv").path) { _ in true }.kept
        let gaps = zip(frames, frames.dropFirst()).map { $1.pts - $0.pts }
        #expect(gaps.max()! <= oneMissingFrame)
        func bobColour(at seconds: Double) -> (red: UInt8, green: UInt8, blue: UInt8) {
            frames.first { $0.pts >= UInt64(seconds * 1e9) }!.rgb(x: 300, y: 420)
        }
        let before = bobColour(at: 1.5), during = bobColour(at: 3.2), after = frames.last!.rgb(x: 300, y: 420)
        #expect(before.blue > 200 && before.red < 40, "\(before)")
        #expect(abs(Int(during.red) - 0x1F) < 12 && abs(Int(during.blue) - 0x24) < 12, "the placeholder while H.264 arrives: \(during)")
        #expect(during.green < 100, "no green picture: the H.264 packets never reach the VP8 decoder as pictures")
        #expect(after.blue > 200 && after.red < 40, "\(after)")
        expectColour(frames.last!, x: 20, y: 150, 0xFF0000)
    }
}
