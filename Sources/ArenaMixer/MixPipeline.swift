import ArenaLayout
import Foundation
import GStreamerKit

/// The GStreamer pipeline of one render:
///
///     input i: uridecodebin ─video─> InputBranch (crop, scale) ─> compositor ─> x264enc ─> mux ─> file
///                           └audio─> convert/resample ──────────> audiomixer ─> encoder ─┘
///     host i placeholder: videotestsrc #1F2024 ─> compositor (just under host i's video)
///     audiotestsrc (silence) ─> audiomixer;  videotestsrc (background, unless black) ─> compositor
///
/// A host's placeholder layer shows wherever its video has no frame (input ended, broken
/// or not started) or is hidden (camera off); while the video covers it the compositor
/// skips it. The placeholder and silence sources never end, so the output keeps going to
/// its full length when every input has ended; probes on the mixers' outputs end it at
/// exactly the planned duration. A black canvas uses the compositor's own fill: a
/// full-canvas background layer costs a whole-frame blend per frame (about 1 ms at
/// 720 x 1280), so it is added only for other colours.
final class MixPipeline {
    let pipeline = Pipeline(name: "arena-mix")  // the name `origin(ofElementPath:)` looks for
    private let plan: MixPlan
    private let overlays: OverlayFeed
    /// CPU time the overlay stage (composition and blending) takes per frame.
    let overlayCost = StageCost()
    /// Each host's branch (kept alive here: its pad probes hold it weakly) and mixer pads;
    /// a live mix can add hosts while it runs, so readers take a copy under `partsLock`.
    private var parts: [HostParts] = []
    private let partsLock = NSLock()
    /// Each input's decoder, until it is taken out; guarded by `decodersLock`, since the bus
    /// thread and the renderer's stall watch may both take inputs out.
    private var decoders: [Int: Element] = [:]
    private let decodersLock = NSLock()
    /// Where each input's decoded streams enter its branches (the first queues' sink pads).
    private var branchInlets: [Int: [Pad]] = [:]
    /// Last values written per input, so that only changes are written (compositor thread).
    private var appliedVideo: [Int: PadState] = [:]
    /// Last mute state per input (audio mixer thread).
    private var appliedMute: [Int: Bool] = [:]

    /// One host's pieces of the pipeline.
    private struct HostParts {
        let input: InputPlan
        let branch: InputBranch
        let video: Pad
        let placeholder: Pad
        let audio: Pad?
    }

    /// What a host's two compositor pads were last set to.
    private struct PadState: Equatable {
        var rect: Rect
        var zOrder: Int
        var placed: Bool
        var showsVideo: Bool
    }

    /// What a pipeline writes.
    enum Output {
        /// The encoded mix, to `path`.
        case recording(path: String)
        /// The first frame at or after `at` (nanoseconds), as PNG to `path`.
        case snapshot(at: UInt64, path: String)
        /// A live mix's encoded video (H.264 byte-stream, SPS/PPS at every keyframe) and audio,
        /// buffer by buffer, to handlers on the encoders' threads.
        case live(video: (Sample) -> Void, audio: (Sample) -> Void)
    }

    /// What is shown and heard, by output time.
    let state: MixState
    /// Guarded by `partsLock` (hosts added while running bring their hubs).
    private var hubs: [Int: InputHub]
    private let compositor: Element
    private let mixer: Element
    /// The time of the frame the compositor is making (live mixes' input watch reads it).
    private var latestOutput: UInt64?
    private let outputLock = NSLock()

    private static let rawAudio = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2"

    /// Input i of a live mix comes from `hubs[i]`, which receives and decodes it once for
    /// every mix that shows it; other inputs are decoded here.
    init(plan: MixPlan, state: MixState, output: Output, hubs: [Int: InputHub] = [:]) throws {
        self.plan = plan
        self.state = state
        self.hubs = hubs
        overlays = OverlayFeed(plan: plan, state: state)
        let canvas = plan.canvas
        let size = canvas.size
        let rawVideo = "video/x-raw,format=I420,width=\(size.width),height=\(size.height),framerate=\(canvas.framesPerSecond)/1,pixel-aspect-ratio=1/1"

        let compositor = try Element(factory: "compositor", name: "compositor")
        self.compositor = compositor
        let mixer = try Element(factory: "audiomixer", name: "audiomixer")
        self.mixer = mixer
        compositor.set("emit-signals", true)
        compositor.set("background", nick: "black")
        let canvasCaps = try capsFilter("canvas-caps", rawVideo)
        try pipeline.addChain([compositor, canvasCaps])

        let silence = try Element(factory: "audiotestsrc", name: "silence")
        silence.set("wave", nick: "silence")
        silence.set("samplesperbuffer", Int32(480))
        let silenceCaps = try capsFilter("silence-caps", Self.rawAudio)
        silence.set("is-live", plan.isLive)
        mixer.set("emit-signals", true)
        let mixCaps = try capsFilter("mix-caps", Self.rawAudio)
        try pipeline.addChain([silence, silenceCaps])
        try pipeline.addChain([mixer, mixCaps])

        let end: UInt64?
        switch output {
        case .recording(let path):
            end = plan.duration
            try addRecording(video: canvasCaps, audio: mixCaps, path: path)
        case .live(let video, let audio):
            end = plan.isOpenEnded ? nil : plan.duration
            try addLiveEncoders(video: canvasCaps, audio: mixCaps, onVideo: video, onAudio: audio)
        case .snapshot(let at, let path):
            end = min(at + 1, plan.duration)
            try canvasCaps.staticPad("src").addBufferProbe { pts in
                guard let pts, pts + UInt64(1e9) / UInt64(canvas.framesPerSecond) <= at else { return .pass }
                return .drop
            }
            let sink = try Element(factory: "filesink", name: "file")
            sink.set("location", path)
            let png = [try Element(factory: "videoconvert", name: "rgb"), try Element(factory: "pngenc", name: "png"), sink]
            try pipeline.addChain(png)
            try canvasCaps.link(png[0])
            let noAudio = try Element(factory: "fakesink", name: "no-audio")
            try pipeline.add(noAudio)
            try mixCaps.link(noAudio)
        }

        if canvas.background != .black {
            var added: [Element] = []
            let background = try solidSource("background", canvas.background, caps: rawVideo, added: &added)
            let pad = try compositor.requestPad("sink_%u")
            pad.set("zorder", UInt32(0))
            try background.staticPad("src").link(pad)
        }
        try silenceCaps.staticPad("src").link(try mixer.requestPad("sink_%u"))

        for input in plan.inputs { _ = try addHost(input) }

        if let end {
            for output in [compositor, mixer] { try Self.endStream(of: output, at: end) }
        }
        if plan.inputs.count > 1 {
            // With several inputs, decoding them side by side keeps the cores busy; libav's
            // frame threads on top cost CPU and ~20 MB each (measured: 1.26 s vs 1.59 s CPU,
            // 110 vs 131 MB for one 720p input).
            pipeline.onDeepElementAdded { element in
                if element.factoryName?.hasPrefix("avdec_") == true, element.hasProperty("max-threads") {
                    element.set("max-threads", Int32(1))
                }
            }
        }
        compositor.onSamplesSelected { [weak self] pts in
            guard let self else { return }
            self.state.frameStarted(at: pts)
            self.applyVideoLayout(at: pts)
        }
        mixer.onSamplesSelected { [weak self] pts in self?.applyAudioMutes(at: pts) }
        // Overlays are blended into each frame as it leaves the compositor, on its thread.
        try canvasCaps.staticPad("src").addWritableFrameProbe { [weak self] frame in
            guard let self, let pts = frame.pts, frame.planes.count == 3 else { return }
            self.overlayCost.measure { self.overlays.blend(into: frame, at: pts) }
        }
    }

    /// Where an element that reported something sits.
    enum Origin: Equatable {
        /// Inside input i's decoder.
        case input(Int)
        /// Outside the pipeline: part of an input already taken out.
        case detached
        /// Anywhere else: mixing, encoding, writing.
        case mix
    }

    /// Reads `gst_object_get_path_string`'s `/Type:name/...` path:
    /// `/GstPipeline:arena-mix/GstURIDecodeBin:input-1/...` is input 1.
    static func origin(ofElementPath path: String) -> Origin {
        let names = path.split(separator: "/").map { $0.split(separator: ":").last ?? $0 }
        guard names.first == "arena-mix" else { return .detached }
        for name in names where name.hasPrefix("input-") {
            if let index = Int(name.dropFirst("input-".count)) { return .input(index) }
        }
        return .mix
    }

    /// Inputs that a mixer is waiting on: a pad of theirs with nothing queued and not ended.
    func starvedInputs() -> [Int] {
        decodersLock.lock()
        let running = Set(decoders.keys)
        decodersLock.unlock()
        return currentParts().filter { running.contains($0.input.index) && ($0.video.isStarved || $0.audio?.isStarved == true) }
            .map(\.input.index)
    }

    /// Adds a host to a running live mix; its input comes from `hub`. Its cells and sound
    /// follow the session from the next frame on (it shows once the session connects it).
    func addLiveHost(_ input: InputPlan, hub: InputHub) throws {
        partsLock.lock()
        hubs[input.index] = hub
        partsLock.unlock()
        for element in try addHost(input) { element.syncStateWithParent() }
        overlays.addName(input.host.userName, of: input.host.userId)
    }

    private func currentParts() -> [HostParts] {
        partsLock.lock()
        defer { partsLock.unlock() }
        return parts
    }

    /// Takes a broken input out of the mix, which goes on without it; its cell shows the
    /// placeholder. Never to be called from a streaming thread.
    ///
    /// A flush of the input's branches first frees any of its threads blocked on them, so
    /// that its decoder can stop and leave the pipeline (a decoder that broke before it
    /// finished starting would otherwise hold the whole pipeline out of PLAYING); then
    /// end-of-stream tells the mixers that no more comes from it.
    func endInput(_ index: Int) {
        decodersLock.lock()
        let removed = decoders.removeValue(forKey: index)
        decodersLock.unlock()
        guard let decoder = removed else { return }
        let inlets = branchInlets[index] ?? []
        for inlet in inlets { inlet.send(flushStartEvent()) }
        pipeline.detach(decoder)
        for inlet in inlets {
            inlet.send(flushStopEvent())
            inlet.send(endOfStreamEvent())
        }
        // An error while the pipeline was starting fails that state change for the whole
        // pipeline (GstBin); now that the input is gone, start again. Harmless when playing.
        try? pipeline.play()
    }

    /// The output time the compositor has reached, and each input's latest video frame time.
    func inputTimes() -> (output: UInt64?, latestFrames: [Int: UInt64]) {
        outputLock.lock()
        let output = latestOutput
        outputLock.unlock()
        var frames: [Int: UInt64] = [:]
        for part in currentParts() { if let latest = part.branch.latestFrame { frames[part.input.index] = latest } }
        return (output, frames)
    }


    // MARK: Building

    /// Adds a host's placeholder layer, video branch, audio chain and source; returns the
    /// elements it added (to start them when the pipeline already runs).
    private func addHost(_ input: InputPlan) throws -> [Element] {
        let placeholderCaps = "video/x-raw,format=I420,width=16,height=16,framerate=\(plan.canvas.framesPerSecond)/1"
        var added: [Element] = []
        let placeholderSource = try solidSource("placeholder-\(input.index)", .placeholder, caps: placeholderCaps, added: &added)
        let placeholder = try compositor.requestPad("sink_%u")
        placeholder.set("alpha", 0.0)
        try placeholderSource.staticPad("src").link(placeholder)

        let branch = try InputBranch(input: input, plan: plan, state: state)
        try pipeline.addChain(branch.elements)
        added += branch.elements
        let video = try compositor.requestPad("sink_%u")
        video.set("alpha", 0.0)
        try branch.elements.last!.staticPad("src").link(video)
        try branch.start()
        var inlets = [branch.inlet]

        var audio: Pad?
        if input.hasAudio {
            let chain = [
                try Element(factory: "audioconvert", name: "audio-convert-\(input.index)"),
                try Element(factory: "audioresample", name: "audio-resample-\(input.index)"),
                try capsFilter("audio-caps-\(input.index)", Self.rawAudio),
            ]
            try pipeline.addChain(chain)
            added += chain
            let pad = try mixer.requestPad("sink_%u")
            pad.set("mute", true)
            pad.set("volume", input.host.volume)
            try chain.last!.staticPad("src").link(pad)
            audio = pad
            inlets.append(try chain[0].staticPad("sink"))
        }
        branchInlets[input.index] = inlets
        added += try attachSource(of: input)
        partsLock.lock()
        parts.append(HostParts(input: input, branch: branch, video: video, placeholder: placeholder, audio: audio))
        partsLock.unlock()
        return added
    }

    /// Makes input `index`'s source and links its decoded streams to the input's branches:
    /// appsrcs fed by its hub in a live mix, else uridecodebin.
    private func attachSource(of input: InputPlan) throws -> [Element] {
        let inlets = branchInlets[input.index] ?? []
        let videoSink = inlets[0]
        let audioSink = inlets.count > 1 ? inlets[1] : nil
        partsLock.lock()
        let hub = hubs[input.index]
        partsLock.unlock()
        if let hub {
            let video = try hubOutlet("input-\(input.index)", hub: hub, buffers: 3)
            let audio = try audioSink.map { _ in try hubOutlet("input-\(input.index)-audio", hub: hub, buffers: 25) }
            try video.staticPad("src").link(videoSink)
            if let audio, let audioSink { try audio.staticPad("src").link(audioSink) }
            hub.subscribe(video: video, audio: audio)
            return [video] + (audio.map { [$0] } ?? [])
        }
        guard case .uri(let uri) = input.host.input else {
            throw GStreamerError(message: "hosts[\(input.index)] has a live input but no hub")
        }
        let source = try Element(factory: "uridecodebin", name: "input-\(input.index)")
        source.set("uri", uri)
        source.set("expose-all-streams", false)
        source.onPadAdded { pad in
            switch pad.mediaType {
            case "video/x-raw" where !videoSink.isLinked:
                try? pad.link(videoSink)
            case "audio/x-raw" where audioSink.map({ !$0.isLinked }) == true:
                try? pad.link(audioSink!)
            default:
                break
            }
        }
        try pipeline.add(source)
        decodersLock.lock()
        decoders[input.index] = source
        decodersLock.unlock()
        return [source]
    }

    /// A live appsrc that a hub pushes decoded buffers into: it drops its oldest when the mix
    /// falls behind, and tells the compositor how late the hub's buffers may come.
    private func hubOutlet(_ name: String, hub: InputHub, buffers: UInt64) throws -> Element {
        let source = try Element(factory: "appsrc", name: name)
        source.set("format", nick: "time")
        source.set("is-live", true)
        source.set("min-latency", Int64(hub.latency))
        source.set("max-bytes", UInt64(0))
        source.set("max-buffers", buffers)
        source.set("leaky-type", nick: "downstream")
        try pipeline.add(source)
        return source
    }

    /// x264 and the audio encoder into MP4 or Matroska, to `path`.
    private func addRecording(video: Element, audio: Element, path: String) throws {
        let encoder = try videoEncoder()
        let videoMuxQueue = try boundedQueue("video-mux-queue")
        let audioMuxQueue = try boundedQueue("audio-mux-queue")
        let mux = try Element(factory: plan.container == .mp4 ? "mp4mux" : "matroskamux", name: "mux")
        let sink = try Element(factory: "filesink", name: "file")
        sink.set("location", path)
        let videoTail = [try boundedQueue("encode-queue"), encoder, try Element(factory: "h264parse", name: "video-parser"), videoMuxQueue]
        let audioTail = [try Element(factory: "audioconvert", name: "audio-convert"), try Self.audioEncoder(plan.spec.output.audio), audioMuxQueue]
        try pipeline.addChain(videoTail)
        try pipeline.addChain(audioTail)
        try video.link(videoTail[0])
        try audio.link(audioTail[0])
        try pipeline.addChain([mux, sink])
        try videoMuxQueue.link(mux)
        try audioMuxQueue.link(mux)
    }

    /// A live mix's encoders: x264 tuned for low latency into an appsink, the audio encoder
    /// into another; their handlers fan the buffers out to the outputs.
    private func addLiveEncoders(video: Element, audio: Element, onVideo: @escaping (Sample) -> Void,
                                 onAudio: @escaping (Sample) -> Void) throws {
        let encoder = try videoEncoder()
        encoder.set("tune", nick: "zerolatency")
        let parser = try Element(factory: "h264parse", name: "video-parser")
        parser.set("config-interval", Int32(-1))
        let videoSink = try Element(factory: "appsink", name: "video-out")
        let audioSink = try Element(factory: "appsink", name: "audio-out")
        for sink in [videoSink, audioSink] {
            sink.set("sync", false)
            sink.set("async", false)
        }
        let videoChain = [try boundedQueue("encode-queue"), encoder, parser,
                          try capsFilter("video-out-caps", "video/x-h264,stream-format=byte-stream,alignment=au"), videoSink]
        let audioChain = [try Element(factory: "audioconvert", name: "audio-convert"), try Self.audioEncoder(plan.spec.output.audio), audioSink]
        try pipeline.addChain(videoChain)
        try pipeline.addChain(audioChain)
        try video.link(videoChain[0])
        try audio.link(audioChain[0])
        videoSink.onNewSample(onVideo)
        audioSink.onNewSample(onAudio)
    }

    private func videoEncoder() throws -> Element {
        let settings = plan.spec.output.video
        let encoder = try Element(factory: "x264enc", name: "video-encoder")
        encoder.set("bitrate", UInt32(settings.bitrateKbps))
        encoder.set("speed-preset", nick: settings.preset)
        encoder.set("key-int-max", UInt32(max(1, (settings.keyframeIntervalSeconds * Double(plan.canvas.framesPerSecond)).rounded())))
        return encoder
    }

    /// A never-ending source of one colour, added to the pipeline; returns its caps filter.
    private func solidSource(_ name: String, _ colour: RGBColour, caps: String, added: inout [Element]) throws -> Element {
        let source = try Element(factory: "videotestsrc", name: name)
        source.set("is-live", plan.isLive)
        source.set("pattern", nick: "solid-color")
        source.set("foreground-color", UInt32(0xFF00_0000) | colour.rgb)
        let filter = try capsFilter("\(name)-caps", caps)
        try pipeline.addChain([source, filter])
        added += [source, filter]
        return filter
    }

    /// Ends `element`'s output at `duration`: the first buffer at or past it is dropped and
    /// answered with end-of-stream, which stops the element and everything feeding it.
    private static func endStream(of element: Element, at duration: UInt64) throws {
        try element.staticPad("src").addBufferProbe { pts in
            guard let pts, pts >= duration else { return .pass }
            return .dropAndEndStream
        }
    }

    private func capsFilter(_ name: String, _ caps: String) throws -> Element {
        let filter = try Element(factory: "capsfilter", name: name)
        filter.set("caps", try Caps(caps))
        return filter
    }

    private func boundedQueue(_ name: String) throws -> Element {
        let queue = try Element(factory: "queue", name: name)
        queue.set("max-size-buffers", UInt32(3))
        queue.set("max-size-bytes", UInt32(0))
        queue.set("max-size-time", UInt64(0))
        return queue
    }

    private static func audioEncoder(_ audio: MixSpec.AudioEncoding) throws -> Element {
        switch audio.codec {
        case .aac:
            let encoder = try Element(factory: "avenc_aac", name: "audio-encoder")
            encoder.set("bitrate", Int64(audio.bitrateKbps * 1000))
            // libavcodec's "fast" coder: half the CPU of its default, twoloop (0.22 s against
            // 0.49 s for 20 s of stereo noise). Its author found it "very decent at 128kbps",
            // and FFmpeg made it the default for a while (2018) for sounding better than
            // twoloop at higher bitrates.
            encoder.set("aac-coder", nick: "fast")
            return encoder
        case .opus:
            let encoder = try Element(factory: "opusenc", name: "audio-encoder")
            encoder.set("bitrate", Int32(audio.bitrateKbps * 1000))
            return encoder
        }
    }

    // MARK: Per output frame (compositor and mixer threads)

    /// Moves every host's video and placeholder pads to its cell for the frame at `pts`.
    /// The placeholder sits just under the video; the video is hidden while the camera is off.
    /// In a live mix, a host whose latest frame is older than `live.staleAfter` shows the
    /// placeholder instead of a frozen picture.
    private func applyVideoLayout(at pts: UInt64) {
        outputLock.lock()
        latestOutput = pts
        outputLock.unlock()
        let layout = state.layout(at: pts)
        var withoutPicture: Set<String> = []
        for part in currentParts() {
            let (input, branch, video, placeholder) = (part.input, part.branch, part.video, part.placeholder)
            let stale = plan.isLive && pts.saturatingSubtract(branch.latestFrame ?? 0) > plan.spec.live.staleAfter
            if !video.hasStagedVideoFrame || stale { withoutPicture.insert(input.host.userId) }
            let placement = layout.placement(of: input.host.userId)
            let previous = appliedVideo[input.index]
            let pads = PadState(rect: placement?.rect ?? previous?.rect ?? Rect(x: 0, y: 0, width: 2, height: 2),
                                 zOrder: placement?.zOrder ?? previous?.zOrder ?? 1,
                                 placed: placement != nil,
                                 showsVideo: !layout.cameraOff.contains(input.host.userId) && !stale)
            guard pads != previous else { continue }
            appliedVideo[input.index] = pads
            for pad in [placeholder, video] {
                pad.set("xpos", Int32(pads.rect.x))
                pad.set("ypos", Int32(pads.rect.y))
                pad.set("width", Int32(pads.rect.width))
                pad.set("height", Int32(pads.rect.height))
            }
            placeholder.set("zorder", UInt32(2 * pads.zOrder - 1))
            video.set("zorder", UInt32(2 * pads.zOrder))
            placeholder.set("alpha", pads.placed ? 1.0 : 0.0)
            video.set("alpha", pads.placed && pads.showsVideo ? 1.0 : 0.0)
        }
        overlays.setWithoutPicture(withoutPicture)
    }

    /// Hosts not connected, or with their microphone off, at `pts` are not heard.
    private func applyAudioMutes(at pts: UInt64) {
        let layout = state.layout(at: pts)
        for part in currentParts() {
            guard let pad = part.audio else { continue }
            let input = part.input
            let muted = layout.placement(of: input.host.userId) == nil || layout.micOff.contains(input.host.userId)
            guard appliedMute[input.index] != muted else { continue }
            appliedMute[input.index] = muted
            pad.set("mute", muted)
        }
    }
}
