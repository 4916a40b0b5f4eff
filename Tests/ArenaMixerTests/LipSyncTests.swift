import Foundation
import GStreamerTestSupport
import Testing

/// In the serialized suite of the other ffmpeg senders, so that no two run at once.
/// A flash-and-beep sender (ffmpeg: a white picture and a 1 kHz beep for the first 200 ms of
/// every second, H.264 and Opus over RTP with its sender reports, described by its SDP): after
/// a minute of mixing, each flash and its beep are still together in the recording.
extension SDPSenderTests {
    /// The times (s) at which `values` rises above `threshold` after at least `quiet` values below it.
    static func onsets(_ values: [(time: Double, value: Double)], threshold: Double, quiet: Int) -> [Double] {
        var below = quiet, times: [Double] = []
        for (time, value) in values {
            if value > threshold {
                if below >= quiet { times.append(time) }
                below = 0
            } else {
                below += 1
            }
        }
        return times
    }

    @Test func flashesAndBeepsStayTogetherAfterAMinute() async throws {
        let folder = try TestMedia.workspace()
        // One lavfi graph for both streams: two inputs start apart by a random few tens of ms, and
        // ffmpeg's sender reports (wall time at sending) carry that skew into the output.
        let graph = "color=c=black:s=160x120:r=30,drawbox=c=white:t=fill:enable='lt(mod(t,1),0.2)'[out0];"
            + "aevalsrc='if(lt(mod(t,1),0.2),0.5*sin(2*PI*1000*t),0)':s=48000[out1]"
        let (sender, sdp) = try ffmpeg(video: graph, encoder: SDPSenderTests.encoder, tone: nil, port: TestPorts.take(2)[0], in: folder)
        defer { stop(sender) }
        let mix = try RunningLiveMix(spec: spec([sdpInput(sdp)]), in: folder)
        try await Task.sleep(for: .seconds(62))
        try mix.stop()
        let path = folder.appendingPathComponent("mix-00001.mkv").path

        var brightness: [(time: Double, value: Double)] = []
        try VideoFrames.forEach(path: path) { frame in
            let pixel = frame.rgb(x: frame.width / 2, y: frame.height / 2)
            brightness.append((Double(frame.pts) / 1e9, Double(pixel.green)))
        }
        let audio = try AudioSamples.decodeTimed(path: path)
        // Loudness over 2.5 ms blocks (20 samples at 8 kHz).
        let loudness = stride(from: 0, to: audio.samples.count - 20, by: 20).map { start in
            (time: audio.start + Double(start) / 8_000, value: Double(audio.samples[start..<start + 20].map { abs($0) }.max() ?? 0))
        }
        let flashes = Self.onsets(brightness, threshold: 128, quiet: 10).filter { $0 >= 50 }
        let beeps = Self.onsets(loudness, threshold: 0.1, quiet: 100)
        let offsets = flashes.compactMap { flash in beeps.min { abs($0 - flash) < abs($1 - flash) }.map { $0 - flash } }.filter { abs($0) < 0.5 }
        print("lip sync after 50 s: \(offsets.count) flashes, beep minus flash (ms): \(offsets.map { Int(($0 * 1_000).rounded()) })")
        #expect(offsets.count >= 8, "flashes \(flashes), beeps \(beeps.filter { $0 >= 49 }); warnings: \(mix.warnings)")
        // Alone: -33 to 0 ms (a picture shows at the first output frame at or after its time, up
        // to 1/30 s late); 40 ms is wanted, and a loaded make test gets more room. Before this
        // round, 63-67 ms: no CNAME to line the streams up by, and AAC's priming not taken off.
        let mean = offsets.reduce(0, +) / Double(max(1, offsets.count))
        #expect(abs(mean) <= 0.055, "audio is \(Int(mean * 1_000)) ms after the picture on average: \(offsets)")
        // One flash may miss its frame: a live mix starved of CPU (a loaded CI run) shows a
        // late picture on a later frame (-161 ms once, the other seven within 61 ms).
        #expect(offsets.filter { abs($0) > 0.055 + 1.0 / 30 }.count <= 1, "flashes and their beeps more than a frame past 55 ms apart: \(offsets)")
    }
}
