import ArenaLayout
import Foundation
import GStreamerTestSupport
import Testing

/// Issue 14's point 10 explained: `ffmpeg -re -stream_loop -1 -c copy` of a file whose own
/// times restart partway sends nothing for seconds at each loop point (measured on loopback:
/// no packet from 6.38 s to 9.42 s, its RTP times running on without a gap), and the mix
/// showed the placeholder for that long. What the mix must do with such a sender: show the
/// placeholder while nothing comes, and the host's video again as soon as it sends.
@Suite struct SilentSenderTests {
    @Test func aSenderThatFallsSilentIsShownAgainAsSoonAsItSends() throws {
        let folder = try TestMedia.workspace()
        let port = TestPorts.take(1)[0]
        let alice = try RTPSender(videoPort: port, pattern: "pattern=solid-color foreground-color=0xFFFF0000")
        let mix = try RunningLiveMix(spec: """
            {"canvas": {"width": 360, "height": 640, "fps": 30},
             "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(port)}, "latencyMs": 100}}}],
             "live": {"staleAfterMs": 500, "disconnectTimeoutMs": 60000},
             "output": {"video": {"preset": "ultrafast", "keyframeIntervalSeconds": 1}},
             "outputs": [{"type": "recording", "path": "live.mkv", "segmentSeconds": 600}]}
            """, in: folder)
        Thread.sleep(forTimeInterval: 2.5)
        alice.pause(for: 3)
        Thread.sleep(forTimeInterval: 2.5)
        try mix.stop()
        alice.kill()

        let frames = try VideoFrames.decode(path: folder.appendingPathComponent("live-00001.mkv").path) { _ in true }.kept
        let red = frames.map { frame in
            let (r, g, b) = frame.rgb(x: 180, y: 320)
            return r > 200 && g < 60 && b < 60
        }
        let firstRed = try #require(red.firstIndex(of: true))
        let silentStart = try #require(red[firstRed...].firstIndex(of: false))
        let back = try #require(red[silentStart...].firstIndex(of: true), "the video never came back")
        // Nothing came for 3 s; the placeholder showed once the input was stale (0.5 s) and
        // for no longer than the silence, and the video stayed once it was back.
        let silent = Double(back - silentStart) / 30
        #expect(silent > 1.5 && silent < 3.3, "the placeholder showed for \(silent) s")
        #expect(red[back...].allSatisfy { $0 }, "the video came back and went again")
        #expect(frames.count - back > 30, "less than a second of video after the silence")
    }
}
