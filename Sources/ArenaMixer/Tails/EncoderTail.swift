import ArenaSpec
import GStreamerKit

/// What a mix's composited picture and mixed sound go to, after the compositing graph:
///
///     recording: queue ─> x264enc ─> byte-stream caps (+ layout SEI) ─> h264parse ─> queue ─> mp4mux/matroskamux ─> filesink
///                audioconvert ─> AAC or Opus encoder ─> queue ─┘
///     live:      queue ─> x264enc (zerolatency; one thread when small) ─> byte-stream caps (+ layout SEI) ─> h264parse ─> appsink ─> every output
///                audioconvert ─> encoder ─> appsink ─> every output
///     snapshot:  the first frame at or after a time ─> videoconvert ─> pngenc ─> filesink
enum EncoderTail {
    /// What a mix writes.
    enum Kind {
        /// The encoded mix, to `path`.
        case recording(path: String)
        /// The first frame at or after `at` (nanoseconds), as PNG to `path`.
        case snapshot(at: UInt64, path: String)
        /// A live mix's encoded video (H.264 byte-stream, SPS/PPS at every keyframe) and audio,
        /// buffer by buffer, to handlers on the encoders' threads.
        case live(video: @Sendable (Sample) -> Void, audio: @Sendable (Sample) -> Void)
    }

    /// Adds the tail to `pipeline`, fed by `video` (raw I420 canvas) and `audio` (raw mix);
    /// `sei` puts the layout into the encoded frames.
    static func add(_ kind: Kind, to pipeline: Pipeline, video: Element, audio: Element, plan: MixPlan, sei: LayoutSEI?) throws {
        switch kind {
        case .recording(let path):
            let mux = try Element(factory: plan.container == .mp4 ? "mp4mux" : "matroskamux", name: "mux")
            let sink = try Element(factory: "filesink", name: "file", ["location": .string(path)])
            let videoChain = [try boundedQueue("encode-queue"), try videoEncoder(plan), try layoutCarrier(sei),
                              try Element(factory: "h264parse", name: "video-parser"), try boundedQueue("video-mux-queue")]
            let audioChain = [try Element(factory: "audioconvert", name: "audio-convert"), try audioEncoder(plan.audio),
                              try soundAheadQueue(plan)]
            try link(video, audio, videoChain, audioChain, in: pipeline)
            try pipeline.addChain([mux, sink])
            try videoChain.last!.link(mux)
            try audioChain.last!.link(mux)
        case .live(let onVideo, let onAudio):
            let encoder = try videoEncoder(plan)
            try encoder.set("tune", nick: "zerolatency")
            if encodesOnOneThread(plan) { try encoder.set("threads", .uint32(1)) }
            let sinkSettings: KeyValuePairs<String, PropertyValue> = ["sync": .bool(false), "async": .bool(false)]
            let videoSink = try Element(factory: "appsink", name: "video-out", sinkSettings)
            let audioSink = try Element(factory: "appsink", name: "audio-out", sinkSettings)
            let byteStream = try Caps(mediaType: "video/x-h264", ["stream-format": .string("byte-stream"), "alignment": .string("au")])
            let videoChain = [try boundedQueue("encode-queue"), encoder, try layoutCarrier(sei),
                              try Element(factory: "h264parse", name: "video-parser", ["config-interval": .int32(-1)]),
                              try Element(factory: "capsfilter", name: "video-out-caps", ["caps": .caps(byteStream)]), videoSink]
            let audioChain = [try Element(factory: "audioconvert", name: "audio-convert"), try audioEncoder(plan.audio), audioSink]
            try link(video, audio, videoChain, audioChain, in: pipeline)
            videoSink.onNewSample(onVideo)
            audioSink.onNewSample(onAudio)
        case .snapshot(let at, let path):
            let frameDuration = plan.frameDuration
            try video.staticPad("src").addBufferProbe { pts in
                guard let pts, pts + frameDuration <= at else { return .pass }
                return .drop
            }
            let videoChain = [try Element(factory: "videoconvert", name: "rgb"), try Element(factory: "pngenc", name: "png"),
                              try Element(factory: "filesink", name: "file", ["location": .string(path)])]
            // The sound is only heard (the speaking ring): a leaky queue keeps it going while the
            // sink, like every sink, holds its first buffer until the picture has come.
            let leak = try Element(factory: "queue", name: "audio-leak", [
                "max-size-buffers": .uint32(1), "max-size-bytes": .uint32(0), "max-size-time": .uint64(0), "leaky": .nick("downstream"),
            ])
            try link(video, audio, videoChain, [leak, try Element(factory: "fakesink", name: "no-audio")], in: pipeline)
        }
    }

    private static func link(_ video: Element, _ audio: Element, _ videoChain: [Element], _ audioChain: [Element], in pipeline: Pipeline) throws {
        try pipeline.addChain(videoChain)
        try pipeline.addChain(audioChain)
        try video.link(videoChain[0])
        try audio.link(audioChain[0])
    }

    /// Byte-stream access units out of x264enc, where `sei` (if any) adds its messages.
    private static func layoutCarrier(_ sei: LayoutSEI?) throws -> Element {
        let byteStream = try Caps(mediaType: "video/x-h264", ["stream-format": .string("byte-stream"), "alignment": .string("au")])
        let filter = try Element(factory: "capsfilter", name: "encoded-caps", ["caps": .caps(byteStream)])
        if let sei { sei.attach(to: try filter.staticPad("src")) }
        return filter
    }

    private static func videoEncoder(_ plan: MixPlan) throws -> Element {
        let settings = plan.video
        let keyframeInterval = max(1, (settings.keyframeIntervalSeconds * Double(plan.canvas.framesPerSecond)).rounded())
        // Sliced threads: each frame is split between the threads instead of each thread
        // holding frames of its own. Encoding 20 s of 720x1280 alone measured 106 MB against
        // 148 MB with frame threads (2-host render: 225 against 263 MB peak; frame threads
        // capped at 2 without sync lookahead: 235), CPU within the machine's noise (+-5 %),
        // 15 to 30 % more wall time. The live tail's zerolatency tune uses them too.
        return try Element(factory: "x264enc", name: "video-encoder", [
            "bitrate": .uint32(UInt32(settings.bitrateKbps)), "speed-preset": .nick(settings.preset),
            "key-int-max": .uint32(UInt32(keyframeInterval)), "sliced-threads": .bool(true),
        ])
    }

    /// Whether a live mix's x264 runs on one thread instead of sliced threads: when one core
    /// encodes it several times faster than real time, that is up to 720x1280 at 30 fps (or
    /// as many pixels a second) with a preset no slower than veryfast. Several live mixes on
    /// a machine then cost less: 4 2-host mixes took 22.6-25.1 s of CPU over 15 s against
    /// 26.4-27.5 s with sliced threads, senders and receiver included (`ArenaLive capacity`),
    /// at a one-mix latency cost of about 5 ms (one core encodes such a frame in about 7 ms:
    /// 600 frames took 4.0-4.5 s of CPU against 5.0-5.4 s with sliced threads).
    static func encodesOnOneThread(_ plan: MixPlan) -> Bool {
        let pixelsPerSecond = plan.canvas.size.width * plan.canvas.size.height * plan.canvas.framesPerSecond
        return pixelsPerSecond <= 720 * 1280 * 30 && ["ultrafast", "superfast", "veryfast"].contains(plan.video.preset)
    }

    private static func audioEncoder(_ audio: MixSpec.AudioEncoding) throws -> Element {
        switch audio.codec {
        case .aac:
            // libavcodec's "fast" coder: half the CPU of its default, twoloop (0.22 s against
            // 0.49 s for 20 s of stereo noise). Its author found it "very decent at 128kbps",
            // and FFmpeg made it the default for a while (2018) for sounding better than
            // twoloop at higher bitrates.
            let encoder = try Element(factory: "avenc_aac", name: "audio-encoder", [
                "bitrate": .int32(Int32(audio.bitrateKbps * 1000)), "aac-coder": .nick("fast"),
            ])
            // Its first frame is 1024 samples of priming that GStreamer's muxers do not mark:
            // without this the sound is 21 ms late in the output (measured against the source).
            try encoder.staticPad("src").skipPriming(samples: 1024, rate: HostLayers.audioRate)
            return encoder
        case .opus:
            return try Element(factory: "opusenc", name: "audio-encoder", ["bitrate": .int32(Int32(audio.bitrateKbps * 1000))])
        }
    }

    /// The encoded sound's queue into the muxer, which takes sound only as far as the picture
    /// x264 has handed on: this lets the sound run ahead of that by what x264 can hold back
    /// (at most 60 frames of look-ahead and 16 B-frames; 80 frames) and 2 s more, so that a
    /// recording's frames need not wait for the sound of their own time (``VoiceMeter``).
    private static func soundAheadQueue(_ plan: MixPlan) throws -> Element {
        try Element(factory: "queue", name: "audio-mux-queue", [
            "max-size-buffers": .uint32(0), "max-size-bytes": .uint32(0), "max-size-time": .uint64(80 * plan.frameDuration + 2_000_000_000),
        ])
    }

    /// A queue of three buffers, so the encoder runs on its own thread without a backlog.
    static func boundedQueue(_ name: String) throws -> Element {
        try Element(factory: "queue", name: name, [
            "max-size-buffers": .uint32(3), "max-size-bytes": .uint32(0), "max-size-time": .uint64(0),
        ])
    }
}
