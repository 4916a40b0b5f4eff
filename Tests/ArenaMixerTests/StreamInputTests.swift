import ArenaLayout
import ArenaMixer
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// SRT and RTMP inputs behave as RTP ones do when their sender goes away and comes back: the
/// cell goes to the placeholder, the host leaves the session after the disconnect timeout,
/// and joins again when the stream is back. Senders the project did not write: GStreamer's
/// srtsink as an SRT caller, ffmpeg publishing to a real nginx-rtmp.
@Suite(.serialized) struct StreamInputTests {
    /// Alice owns the room (an RTP input nobody sends to: the owner never leaves); Bob's is `input`.
    private func spec(input: String) -> String {
        """
        {"template": 600, "canvas": {"width": 360, "height": 640, "fps": 30},
         "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(TestPorts.take(1)[0])}}}}, {"userId": "bob", "input": \(input)}],
         "live": {"staleAfterMs": 500, "disconnectTimeoutMs": 2000},
         "output": {"video": {"preset": "ultrafast", "keyframeIntervalSeconds": 1}},
         "outputs": [{"type": "recording", "path": "stream.mkv", "segmentSeconds": 600}]}
        """
    }

    /// A sender process: red video, keyframes every second.
    private func sender(_ program: String, _ arguments: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments.split(separator: " ").map(String.init)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func kill(_ process: Process) {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs the mix while `start` makes a sender at 0 s, killed at 3 s, made again at 7 s; the
    /// mix stops at 16 s. Then checks the session and the host's cell over time. (SRT notices
    /// a caller gone after its 5 s idle timeout, and a new caller connects once it has.)
    /// `audible`: the sender sends a tone, heard in the mix while the sender is there.
    private func leavesAndComesBack(input: String, audible: Bool = false, start: () throws -> Process) throws {
        let folder = try TestMedia.workspace()
        let mix = try RunningLiveMix(spec: spec(input: input), in: folder)
        var sender = try start()
        Thread.sleep(forTimeInterval: 3)
        kill(sender)
        Thread.sleep(forTimeInterval: 4)
        sender = try start()
        Thread.sleep(forTimeInterval: 9)
        try mix.stop()
        kill(sender)

        let events = mix.notices.map { "\($0.event) \($0.userId ?? "")" }
        #expect(events == ["onCoHostUserLeft bob", "onCoHostUserJoined bob"], "\(events); warnings: \(mix.warnings)")
        let cell = LayoutTemplate.rect(try TemplateLibrary.bundled().template(600).cells(forHostCount: 2)[1], on: Size(width: 360, height: 640))
        let (_, frames) = try VideoFrames.decode(path: folder.appendingPathComponent("stream-00001.mkv").path) { _ in true }
        func red(at seconds: Double) -> Bool {
            guard let frame = frames.first(where: { Double($0.pts) / 1e9 >= seconds }) else { return false }
            let pixel = frame.rgb(x: cell.x + cell.width / 2, y: cell.y + cell.height / 4)
            return pixel.red > 180 && pixel.green < 80 && pixel.blue < 80
        }
        #expect(red(at: 2.5), "the stream did not show before the sender left; warnings: \(mix.warnings)")
        #expect(!red(at: 6), "the cell did not go to the placeholder while the sender was away")
        #expect(red(at: 15.5), "the stream did not show again after the sender came back")
        guard audible else { return }
        let samples = try AudioSamples.decode(path: folder.appendingPathComponent("stream-00001.mkv").path)
        func loudness(at seconds: Double) -> Float {
            let window = samples.dropFirst(Int(seconds * 8_000)).prefix(4_000)
            return (window.reduce(0) { $0 + $1 * $1 } / Float(max(1, window.count))).squareRoot()
        }
        #expect(loudness(at: 2) > 0.02 && loudness(at: 15) > 0.02, "the tone was not heard: \(loudness(at: 2)), \(loudness(at: 15))")
        #expect(loudness(at: 6) < 0.005, "sound while the sender was away: \(loudness(at: 6))")
    }

    @Test func anSRTHostLeavesAndComesBack() throws {
        let port = TestPorts.take(1)[0]
        try leavesAndComesBack(input: #"{"srt": {"uri": "srt://:\#(port)?mode=listener", "latencyMs": 120, "audio": false}}"#) {
            try sender("/usr/bin/gst-launch-1.0", """
                -q videotestsrc is-live=true pattern=solid-color foreground-color=0xFFFF0000 ! video/x-raw,width=320,height=240,framerate=30/1 \
                ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! mpegtsmux ! srtsink uri=srt://127.0.0.1:\(port)?mode=caller
                """)
        }
    }

    @Test func anRTMPHostLeavesAndComesBack() throws {
        let server = try NginxRTMP(port: freePort())
        let url = "rtmp://127.0.0.1:\(server.port)/live/bob"
        try leavesAndComesBack(input: #"{"rtmp": {"url": "\#(url)"}}"#, audible: true) {
            try sender("/usr/bin/ffmpeg", """
                -loglevel error -re -f lavfi -i color=c=red:s=320x240:r=30 -re -f lavfi -i sine=frequency=440:sample_rate=48000 \
                -c:v libx264 -preset ultrafast -tune zerolatency -g 30 -pix_fmt yuv420p -c:a aac -f flv \(url)
                """)
        }
    }
}
