import ArenaLayout
import ArenaMixer
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// RTP inputs described by the SDP their sender printed: `ffmpeg -f rtp ... -sdp_file`, a
/// sender the project did not write, in each codec Arena decodes, under SRTP, with rtcp-mux
/// and an SSRC filter; and audio and video still together after a minute.
@Suite(.serialized) struct SDPSenderTests {
    static let encoder = "-c:v libx264 -preset ultrafast -tune zerolatency -g 15 -pix_fmt yuv420p"

    /// ffmpeg sending `video` (a lavfi source and its encoder's options) and a 440 Hz tone
    /// encoded with `audio`, to two ports from `port`; `transport` is added to each RTP URL's
    /// options and `options` to each output's. With `tone` nil, `video` is one lavfi graph
    /// with both streams. Both outputs' sender reports count from the same wall time: each of
    /// ffmpeg's RTP outputs otherwise takes its own, when its header is written (the video's
    /// after x264 has started), and its reports carry that skew, which the receiver rightly
    /// follows (the one-minute lip-sync test read -12 to +13 ms run to run, -51 ms under
    /// make test). Returns the process and the SDP it wrote.
    func ffmpeg(video: String = "color=c=red:s=160x120:r=15", encoder: String, audio: String = "libopus",
                        tone: String? = "sine=frequency=440:sample_rate=48000", port: Int, scheme: String = "rtp", transport: String = "",
                        options: String = "", in folder: URL) throws -> (Process, String) {
        let sdp = folder.appendingPathComponent("sender-\(UUID().uuidString).sdp")  // two senders to one port write their own
        func words(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }
        let inputs = ["-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", video] + (tone.map { ["-re", "-f", "lavfi", "-i", $0] } ?? [])
        let clock = ["-start_time_realtime", String(Int64(Date().timeIntervalSince1970 * 1e6))]  // microseconds
        let videoOutput: [String] = ["-map", "0:v"] + words(encoder) + words(options) + clock + ["-f", "rtp", "\(scheme)://127.0.0.1:\(port)\(transport)"]
        let audioOutput: [String] = ["-map", tone == nil ? "0:a" : "1:a", "-c:a", audio] + words(options) + clock
            + ["-f", "rtp", "\(scheme)://127.0.0.1:\(port + 2)\(transport)"]
        let process = try start("/usr/bin/ffmpeg", inputs + videoOutput + audioOutput + ["-sdp_file", sdp.path])
        for _ in 0..<100 where ((try? String(contentsOf: sdp, encoding: .utf8)) ?? "").isEmpty { usleep(50_000) }
        return (process, try String(contentsOf: sdp, encoding: .utf8))
    }

    /// Starts `tool` with `arguments`, its output discarded.
    func start(_ tool: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `tool` with `arguments` to its end; throws if it fails.
    func run(_ tool: String, _ arguments: [String]) throws {
        let process = try start(tool, arguments)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw GStreamerError(message: "\(tool) exited with \(process.terminationStatus)") }
    }

    func stop(_ process: Process) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// A mix of the hosts' `inputs` (JSON), template 600, recorded to `mix.mkv`.
    func spec(_ inputs: [String], audio: String = "aac") -> String {
        let hosts = inputs.enumerated().map { #"{"userId": "host\#($0.offset)", "input": \#($0.element)}"# }.joined(separator: ", ")
        return """
            {"template": 600, "canvas": {"width": 360, "height": 640, "fps": 30}, "hosts": [\(hosts)],
             "output": {"video": {"preset": "ultrafast", "keyframeIntervalSeconds": 1}, "audio": {"codec": "\(audio)"}},
             "outputs": [{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}]}
            """
    }

    func sdpInput(_ sdp: String, extra: String = "") -> String {
        #"{"sdp": \#(String(decoding: try! JSONEncoder().encode(sdp), as: UTF8.self))\#(extra)}"#
    }

    /// The colour at the centre of host `index`'s cell (of `count`) in the frame nearest `seconds`.
    func colour(in frames: [RGBFrame], host index: Int, of count: Int, at seconds: Double) throws -> (red: UInt8, green: UInt8, blue: UInt8)? {
        let cell = LayoutTemplate.rect(try TemplateLibrary.bundled().template(600).cells(forHostCount: count)[index], on: Size(width: 360, height: 640))
        return frames.first { Double($0.pts) / 1e9 >= seconds }?.rgb(x: cell.x + cell.width / 2, y: cell.y + cell.height / 2)
    }

    private func isRed(_ pixel: (red: UInt8, green: UInt8, blue: UInt8)?) -> Bool {
        guard let pixel else { return false }
        return pixel.red > 180 && pixel.green < 80 && pixel.blue < 80
    }

    /// Loudness (RMS) of the mix's audio over 0.5 s from `seconds`.
    private func loudness(_ audio: (start: Double, samples: [Float]), at seconds: Double) -> Float {
        let window = audio.samples.dropFirst(max(0, Int((seconds - audio.start) * 8_000))).prefix(4_000)
        return (window.reduce(0) { $0 + $1 * $1 } / Float(max(1, window.count))).squareRoot()
    }

    @Test(arguments: [
        ("H.264 + Opus", SDPSenderTests.encoder, "libopus"),
        ("H.265 + AAC", "-c:v libx265 -preset ultrafast -x265-params keyint=15:log-level=none -pix_fmt yuv420p", "aac"),
        ("VP9 + Opus", "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -g 15 -strict experimental", "libopus"),
        ("VP8 + AAC", "-c:v libvpx -deadline realtime -cpu-used 8 -g 15", "aac"),
    ])
    func eachCodecFromFFmpegsDescription(name: String, encoder: String, audio: String) async throws {
        let folder = try TestMedia.workspace()
        let (sender, sdp) = try ffmpeg(encoder: encoder, audio: audio, port: TestPorts.take(2)[0], in: folder)
        defer { stop(sender) }
        let mix = try RunningLiveMix(spec: spec([sdpInput(sdp)]), in: folder)
        try await Task.sleep(for: .seconds(6))
        try mix.stop()
        let path = folder.appendingPathComponent("mix-00001.mkv").path
        let (_, frames) = try VideoFrames.decode(path: path) { $0 % 15 == 0 }
        #expect(isRed(try colour(in: frames, host: 0, of: 1, at: 5)), "\(name): no picture; warnings: \(mix.warnings)")
        let level = loudness(try AudioSamples.decodeTimed(path: path), at: 5)
        #expect(level > 0.02, "\(name): the tone was not heard (\(level)); warnings: \(mix.warnings)")
    }

    /// ffmpeg's SRTP (`srtp://`, its key in the SDP's a=crypto) is shown; the same stream
    /// described with another key shows nothing: no packet it could not authenticate got through.
    @Test func srtpWithTheRightKeyAndOnlyWithIt() async throws {
        let folder = try TestMedia.workspace()
        let key = Data((0..<30).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let other = Data((0..<30).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let options = "-srtp_out_suite AES_CM_128_HMAC_SHA1_80 -srtp_out_params \(key)"
        let (right, rightSDP) = try ffmpeg(encoder: Self.encoder, audio: "aac", port: TestPorts.take(2)[0], scheme: "srtp", options: options, in: folder)
        let (wrong, wrongSDP) = try ffmpeg(encoder: Self.encoder, audio: "aac", port: TestPorts.take(2)[0], scheme: "srtp", options: options, in: folder)
        defer { stop(right); stop(wrong) }
        #expect(rightSDP.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"))
        // The right one sends its RTCP back encrypted (srtpenc), under the key ffmpeg decrypts with (the same, as srtp:// has it).
        let mix = try RunningLiveMix(spec: spec([sdpInput(rightSDP, extra: #", "feedbackKey": "\#(key)""#),
                                                 sdpInput(wrongSDP.replacingOccurrences(of: key, with: other))]), in: folder)
        try await Task.sleep(for: .seconds(6))
        try mix.stop()
        let path = folder.appendingPathComponent("mix-00001.mkv").path
        let (_, frames) = try VideoFrames.decode(path: path) { $0 % 15 == 0 }
        #expect(isRed(try colour(in: frames, host: 0, of: 2, at: 5)), "no picture with the right key; warnings: \(mix.warnings)")
        #expect(!isRed(try colour(in: frames, host: 1, of: 2, at: 5)), "a picture with the wrong key")
        #expect(mix.warnings.allSatisfy { !$0.contains(key) && !$0.contains(other) }, "a warning shows a key")
    }

    /// With rtcp-mux (RTCP on the RTP port) and the sender's SSRC in the SDP, a stranger sending
    /// to the same port with another SSRC is not shown; without the SSRC (the control) the
    /// stranger, the newer sender, takes over.
    @Test(arguments: [true, false]) func anSSRCFilterKeepsAStrangerOut(filtered: Bool) async throws {
        let folder = try TestMedia.workspace()
        let port = TestPorts.take(2)[0]
        let mux = "?rtcpport=\(port)"
        let (host, sdp) = try ffmpeg(video: "color=c=blue:s=160x120:r=15", encoder: Self.encoder, port: port, transport: mux, options: "-ssrc 1111", in: folder)
        defer { stop(host) }
        let described = sdp.replacingOccurrences(of: "a=rtpmap:96 H264/90000", with: "a=rtpmap:96 H264/90000\r\na=rtcp-mux" + (filtered ? "\r\na=ssrc:1111 cname:host" : ""))
        let mix = try RunningLiveMix(spec: spec([sdpInput(described)]), in: folder)
        try await Task.sleep(for: .seconds(2))
        let (stranger, _) = try ffmpeg(encoder: Self.encoder, port: port, transport: mux, options: "-ssrc 3333", in: folder)
        defer { stop(stranger) }
        // Long enough for the control's stranger to take over in a loaded run (4 s was not).
        try await Task.sleep(for: .seconds(7))
        try mix.stop()
        let (_, frames) = try VideoFrames.decode(path: folder.appendingPathComponent("mix-00001.mkv").path) { $0 % 15 == 0 }
        let blue = { (pixel: (red: UInt8, green: UInt8, blue: UInt8)?) in pixel.map { $0.blue > 180 && $0.red < 80 } == true }
        #expect(blue(try colour(in: frames, host: 0, of: 1, at: 1.5)), "the host's picture did not show; warnings: \(mix.warnings)")
        let last = try colour(in: frames, host: 0, of: 1, at: Double(try #require(frames.last).pts) / 1e9)
        if filtered {
            #expect(blue(last), "the stranger's picture showed: \(String(describing: last))")
        } else {
            #expect(isRed(last), "the stranger, unfiltered, did not take over: \(String(describing: last))")
        }
    }
}
