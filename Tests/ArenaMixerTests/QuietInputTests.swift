import Foundation
import Testing

/// A host whose sender stops does not hold the mix back: once its input has been quiet past
/// its latency and the stale time, the compositor and mixer are told nothing comes from it.
struct QuietInputTests {
    @Test func aHostWhoStopsSendingDoesNotKeepTheMixBehind() async throws {
        let folder = try TestMedia.workspace()
        let ports = TestPorts.take(4)
        let steady = try RTPSender(videoPort: ports[0], audioPort: ports[1], pattern: "pattern=ball")
        let leaving = try RTPSender(videoPort: ports[2], audioPort: ports[3], pattern: "pattern=smpte")
        defer { steady.kill(); leaving.kill() }
        let spec = """
            {"template": 600, "canvas": {"width": 360, "height": 640, "fps": 30},
             "hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": \(ports[0])}, "audio": {"port": \(ports[1])}}}},
                       {"userId": "b", "input": {"rtp": {"video": {"port": \(ports[2])}, "audio": {"port": \(ports[3])}}}}],
             "output": {"video": {"preset": "ultrafast"}}, "outputs": [{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}]}
            """
        let mix = try RunningLiveMix(spec: spec, in: folder)
        try await Task.sleep(for: .seconds(4))
        leaving.kill()
        try await Task.sleep(for: .seconds(2))
        var lags: [Double] = []
        for _ in 0..<16 {
            try await Task.sleep(for: .milliseconds(500))
            if let lag = mix.status?.outputLagSeconds { lags.append(lag) }
        }
        let sending = mix.status?.sending ?? []
        try mix.stop()
        print("output lag after a sender stopped (ms): \(lags.map { Int(($0 * 1_000).rounded()) })")
        #expect(sending == ["a"], "\(sending)")
        // 304-330 ms (the 200 ms jitter buffer plus two frames, and compositing) when the mix
        // waited for the quiet input; the lower quartile, as a loaded make test may starve it.
        let lag = lags.sorted()[lags.count / 4]
        #expect(lag < 0.15, "the mix waits for the quiet input: output \(lags) s behind the clock")
    }
}
