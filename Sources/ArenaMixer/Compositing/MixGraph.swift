import ArenaFrame
import ArenaLayout
import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// The compositing graph of one mix:
///
///     input i: decoded video ─> InputBranch ─> compositor (stages) ─> cells + overlays ─> tail
///              decoded audio ─> convert/resample ───> audiomixer ────────────────────────┘
///     videotestsrc 16 x 16 (the frame clock) ─> compositor;  audiotestsrc (silence) ─> audiomixer
///
/// Decoded inputs come from uridecodebin inside this pipeline (a render) or from input hubs
/// through appsrcs (a live mix). The compositor only picks, for each output frame, every
/// input's newest frame at or before it (repeating a late input's last frame, never waiting
/// past its latency in a live mix) and fills the canvas black; none of its pads is blended.
/// Its `samples-selected` makes one ``FramePlan`` from the session, the layout and the
/// inputs' freshness and holds the staged frames; as the frame leaves the compositor,
/// ``CellPainter`` scales each into its cell and the overlay stage blends the overlays, in
/// that one buffer. The clock and silence sources never end, so the output keeps going to
/// its full length when every input has ended; probes end it at exactly the planned duration.
///
/// Mutexes, each taken alone (never two at once): `inputs` (hosts, hubs, decoders; hosts can
/// be added while a live mix runs) and `planning` (the output frame being made).
final class MixGraph: @unchecked Sendable {  // `appliedMute` is the audio mixer thread's own
    let pipeline = Pipeline(name: "arena-mix")  // the name `origin(ofElementPath:)` looks for
    let state: MixState
    /// CPU time painting the cells (and the background picture) takes per frame.
    let cellCost = StageCost()
    /// CPU time the overlays (drawing what changed, blending every item) take per frame.
    let overlayCost = StageCost()
    private let plan: MixPlan
    /// A render's end: its frames before it wait for their hosts' sound (nil: live, never wait).
    private let soundWaitEnd: UInt64?
    private let planner: FramePlanner
    private let overlays: OverlayFeed
    /// Carries each frame's layout into the encoded output (not in snapshots).
    private let layoutSEI: LayoutSEI?
    private let painter: CellPainter
    private let compositor: Element
    private let mixer: Element
    private let inputs: Mutex<Inputs>
    /// What `samples-selected` planned for the probe that paints that frame as it leaves the
    /// compositor (the same streaming thread, right after, so one frame at a time).
    private let planning = Mutex(Planning())
    /// The audio mixer thread's own: each host's last mute state.
    private var appliedMute: [Int: Bool] = [:]

    private struct Inputs {
        var hosts: [HostLayers] = []
        var hubs: [Int: InputHub]
        /// Each file input's decoder, until it is taken out.
        var decoders: [Int: Element] = [:]
        /// The files file inputs read, open while their decoders run.
        var files: [Int: OpenFile] = [:]
        /// Each live input's appsrcs (video, and audio if it has sound).
        var outlets: [Int: [Element]] = [:]
    }

    /// Input i of a live mix comes from `hubs[i]`, which receives and decodes it once for
    /// every mix that shows it; other inputs are decoded here.
    init(plan: MixPlan, state: MixState, tail: EncoderTail.Kind, hubs: [Int: InputHub] = [:]) throws {
        self.plan = plan
        self.state = state
        let end: UInt64? = switch tail {
        case .recording: plan.duration
        case .live: plan.isOpenEnded ? nil : plan.duration
        case .snapshot(let at, _): min(at + 1, plan.duration)
        }
        soundWaitEnd = plan.isLive ? nil : end
        inputs = Mutex(Inputs(hubs: hubs))
        planner = FramePlanner(canvas: plan.canvas.size, staleAfter: plan.isLive ? plan.live.staleAfter : nil,
                               frameDuration: plan.frameDuration)
        overlays = OverlayFeed(plan: plan)
        painter = CellPainter(background: plan.canvas.background, images: plan.images)
        if case .snapshot = tail { layoutSEI = nil } else { layoutSEI = plan.video.layoutSEI == .off ? nil : LayoutSEI(mode: plan.video.layoutSEI) }
        let canvas = plan.canvas
        let rawVideo = try Caps(mediaType: "video/x-raw", [
            "format": .string("I420"), "width": .int(canvas.size.width), "height": .int(canvas.size.height),
            "framerate": .fraction(canvas.framesPerSecond, 1), "pixel-aspect-ratio": .fraction(1, 1),
        ])
        compositor = try Element(factory: "compositor", name: "compositor", ["emit-signals": .bool(true), "background": .nick("black")])
        // The mixer places each input's sound by counting samples from its first buffer, and
        // by default takes times up to 40 ms away for jitter: a live input's sound stayed 25-35 ms
        // late for the whole mix while its jitter buffer settled the times in its first second
        // (the picture follows the times). At 10 ms, once a second has passed (its
        // `discont-wait`), it is placed by its times again: a gap or a skip of about 10 ms each
        // time a sender's clock drifts that far (every 100 s at 100 ppm). Sound resampled to
        // 48 kHz gets its times from audioresample, which follows its input only past 31 ms.
        mixer = try Element(factory: "audiomixer", name: "audiomixer", ["emit-signals": .bool(true), "alignment-threshold": .uint64(10_000_000)])
        let canvasCaps = try Element(factory: "capsfilter", name: "canvas-caps", ["caps": .caps(rawVideo)])
        let silence = try Element(factory: "audiotestsrc", name: "silence", [
            "wave": .nick("silence"), "samplesperbuffer": .int32(480), "is-live": .bool(plan.isLive),
        ])
        let silenceCaps = try Element(factory: "capsfilter", name: "silence-caps", ["caps": .caps(HostLayers.rawAudio)])
        let mixCaps = try Element(factory: "capsfilter", name: "mix-caps", ["caps": .caps(HostLayers.rawAudio)])
        try pipeline.addChain([compositor, canvasCaps])
        try pipeline.addChain([silence, silenceCaps])
        try pipeline.addChain([mixer, mixCaps])
        try silenceCaps.staticPad("src").link(try mixer.requestPad("sink_%u"))
        try EncoderTail.add(tail, to: pipeline, video: canvasCaps, audio: mixCaps, plan: plan, sei: layoutSEI)

        try addFrameClock(live: plan.isLive)
        for input in plan.inputs { _ = try addHost(input) }

        if let end {
            for output in [compositor, mixer] { try Self.endStream(of: output, at: end) }
        }
        if plan.inputs.count > 1 { pipeline.useLeanDecoders() }
        compositor.onSamplesSelected { [weak self] pts in self?.planFrame(at: pts) }
        mixer.onSamplesSelected { [weak self] pts in self?.applyMutes(at: pts) }
        try canvasCaps.staticPad("src").addWritableFrameProbe { [weak self] frame in
            guard let self, let pts = frame.pts, frame.planeCount == 3 else { return }
            let planned = self.planning.withLock { planning in
                defer { planning.next = nil }  // the decoders' buffers go back to their pools now
                return planning.next?.plan.time == pts ? planning.next : nil
            }
            guard let planned else { return }
            self.layoutSEI?.record(planned.plan)
            self.cellCost.measure { self.painter.paint(planned.layers, picture: planned.plan.overlay.decorations.background, into: frame) }
            self.overlayCost.measure { self.overlays.blend(planned.plan.overlay, into: frame) }
        }
    }

    /// A never-ending 16 x 16 source on a pad that is never blended: it keeps output frames
    /// coming when no input has any left (the canvas then shows placeholders), and never
    /// holds one back in a live mix.
    private func addFrameClock(live: Bool) throws {
        let tiny = try Caps(mediaType: "video/x-raw", [
            "format": .string("I420"), "width": .int(16), "height": .int(16), "framerate": .fraction(plan.canvas.framesPerSecond, 1),
        ])
        let source = try Element(factory: "videotestsrc", name: "frame-clock", ["is-live": .bool(live), "pattern": .nick("black")])
        let filter = try Element(factory: "capsfilter", name: "frame-clock-caps", ["caps": .caps(tiny)])
        try pipeline.addChain([source, filter])
        let pad = try compositor.requestPad("sink_%u")
        try pad.set("alpha", 0.0)
        // Live, its frames run two frames ahead: a live compositor makes a frame once every
        // pad has one queued, and a clock frame arriving on its own time held every output
        // until then, though the inputs' frames were there (half a frame on average; the
        // live benchmark's added latency with inputs sent without B-frames went from 35-55 ms
        // to 14 ms, median of 8 runs). Without inputs, frames still come at the frame rate,
        // ahead of real time.
        if live { try pad.set("offset", Int64(2 * plan.frameDuration)) }
        try filter.staticPad("src").link(pad)
    }

    // MARK: Hosts and inputs

    /// Adds a host to a running live mix; its input comes from `hub`. Its cells and sound
    /// follow the session from the next frame on (it shows once the session connects it).
    func addLiveHost(_ input: InputPlan, hub: InputHub) throws {
        inputs.withLock { $0.hubs[input.index] = hub }
        for element in try addHost(input) { try element.syncStateWithParent() }
    }

    private func addHost(_ input: InputPlan) throws -> [Element] {
        let layers = try HostLayers.add(input, plan: plan, state: state, to: pipeline, compositor: compositor, mixer: mixer)
        let source = try attachSource(of: input, video: layers.inlets[0], audio: layers.inlets.count > 1 ? layers.inlets[1] : nil)
        inputs.withLock { $0.hosts.append(layers) }
        return layers.elements + source
    }

    private var currentHosts: [HostLayers] { inputs.withLock { $0.hosts } }

    /// Makes the input's source: appsrcs fed by its hub in a live mix, else uridecodebin.
    private func attachSource(of input: InputPlan, video: Pad, audio: Pad?) throws -> [Element] {
        if let hub = inputs.withLock({ $0.hubs[input.index] }) {
            let videoSource = try hubOutlet("input-\(input.index)", hub: hub)
            let audioSource = try audio.map { _ in try hubOutlet("input-\(input.index)-audio", hub: hub) }
            try videoSource.staticPad("src").link(video)
            if let audioSource, let audio { try audioSource.staticPad("src").link(audio) }
            hub.subscribe(video: videoSource, audio: audioSource)
            let outlets = [videoSource] + (audioSource.map { [$0] } ?? [])
            inputs.withLock { $0.outlets[input.index] = outlets }
            return outlets
        }
        guard case .uri(let uri) = input.host.input else {
            throw GStreamerError(message: "hosts[\(input.index)] has a live input but no hub")
        }
        let readable = try plan.access.reading(uri)
        let decoder = try Element(factory: "uridecodebin", name: "input-\(input.index)",
                                  ["uri": .string(readable.uri), "expose-all-streams": .bool(false)])
        decoder.linkDecodedStreams(video: video, audio: audio)
        try pipeline.add(decoder)
        inputs.withLock {
            $0.decoders[input.index] = decoder
            $0.files[input.index] = readable.file
        }
        return [decoder]
    }

    /// Tells the compositor and the mixer that live input `index` has nothing from `start`
    /// until `end`, so that neither waits for it.
    func fillGap(ofInput index: Int, from start: UInt64, until end: UInt64) {
        guard end > start else { return }
        for outlet in inputs.withLock({ $0.outlets[index] ?? [] }) { outlet.pushGap(from: start, duration: end - start) }
    }

    /// A live appsrc that a hub pushes decoded buffers into: it drops its oldest when the mix
    /// falls behind (the hub says how much it holds), and tells the compositor how late the
    /// hub's buffers may come.
    private func hubOutlet(_ name: String, hub: InputHub) throws -> Element {
        let source = try Element(factory: "appsrc", name: name, [
            "format": .nick("time"), "is-live": .bool(true), "min-latency": .int64(Int64(hub.latency)), "max-bytes": .uint64(0),
            "leaky-type": .nick("downstream"),
        ])
        try pipeline.add(source)
        return source
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

    /// File inputs that a mixer is waiting on: a pad of theirs with nothing queued and not
    /// ended. A render's sound runs ahead of its pictures (``EncoderTail``), so a healthy
    /// input's sound pad empties whenever its demuxer waits for the compositor to take a
    /// picture: its sound counts when it is behind the latest frame planned, or its pictures ended.
    func starvedInputs() -> [Int] {
        let running = inputs.withLock { Set($0.decoders.keys) }
        let latest = planning.withLock { $0.latestTime } ?? 0
        return currentHosts.filter { host in
            let soundStarved = host.audio?.isStarved == true && (host.video.isAtEnd || !host.voice.isHeard(through: latest))
            return running.contains(host.input.index) && (host.video.isStarved || soundStarved)
        }.map(\.input.index)
    }

    /// Takes a broken file input out of the mix, which goes on without it; its cell shows the
    /// placeholder. Never to be called from a streaming thread.
    ///
    /// A flush of the input's branches first frees any of its threads blocked on them, so
    /// that its decoder can stop and leave the pipeline (a decoder that broke before it
    /// finished starting would otherwise hold the whole pipeline out of PLAYING); then
    /// end-of-stream tells the mixers that no more comes from it.
    func endInput(_ index: Int) {
        let (removed, inlets) = inputs.withLock {
            $0.files[index] = nil  // its source opened its own descriptor when it started
            return ($0.decoders.removeValue(forKey: index), $0.hosts.first { $0.input.index == index }?.inlets ?? [])
        }
        guard let decoder = removed else { return }
        for inlet in inlets { inlet.send(.flushStart) }
        pipeline.detach(decoder)
        for inlet in inlets {
            inlet.send(.flushStop)
            inlet.send(.endOfStream)
        }
        // An error while the pipeline was starting fails that state change for the whole
        // pipeline (GstBin); now that the input is gone, start again. Harmless when playing.
        try? pipeline.play()
    }

    /// The output time the compositor has reached, and each input's latest video frame time.
    func inputTimes() -> (output: UInt64?, latestFrames: [Int: UInt64]) {
        let output = planning.withLock { $0.latestTime }
        var frames: [Int: UInt64] = [:]
        for host in currentHosts { if let latest = host.branch.latestFrame { frames[host.input.index] = latest } }
        return (output, frames)
    }

    // MARK: Per output frame (compositor and mixer threads)

    /// Plans the frame at `pts` and holds the frames its shown cells need. Compositor thread.
    private func planFrame(at pts: UInt64) {
        state.frameStarted(at: pts)
        let (layout, previous) = state.layoutChange(at: pts)
        let hosts = currentHosts
        // A render's frame waits for its hosts' sound through its own time (``VoiceMeter``).
        let wait = soundWaitEnd.map { pts < $0 } == true ? Date(timeIntervalSinceNow: VoiceMeter.patience) : nil
        let speaking = Set(hosts.filter { $0.voice.speaking(at: pts, waitingUntil: wait) }.map(\.input.host.userId))
        var freshness: [String: InputFreshness] = [:]
        var names: [String: String] = [:]
        for host in hosts {
            freshness[host.input.host.userId] = InputFreshness(hasFrame: host.video.hasStagedVideoFrame, latestFrame: host.branch.latestFrame)
            names[host.input.host.userId] = host.input.host.userName
        }
        let frame = planner.plan(at: pts, layout: layout, previous: previous, session: state.session(at: pts), names: names, freshness: freshness,
                                 speaking: speaking, decorations: state.decorations(at: pts),
                                 scoreChanges: { self.state.scoreChanges(of: $0, at: pts) })
        let layers = hosts.compactMap { host in
            frame.cell(of: host.input.host.userId).map { CellPainter.Layer(cell: $0, frame: $0.showsVideo ? host.video.heldVideoFrame() : nil) }
        }
        planning.withLock { $0 = Planning(latestTime: pts, next: (frame, layers)) }
    }

    /// The latest planned output time, and the frame planned last until it is painted: its
    /// plan and the hosts' cells with the frames the compositor staged for them.
    private struct Planning {
        var latestTime: UInt64?
        var next: (plan: FramePlan, layers: [CellPainter.Layer])?
    }

    /// Hosts not connected, or with their microphone off, at `pts` are not heard. Mixer thread.
    private func applyMutes(at pts: UInt64) {
        let layout = state.layout(at: pts)
        for host in currentHosts {
            guard let pad = host.audio else { continue }
            let muted = FramePlanner.isMuted(host.input.host.userId, in: layout)
            guard appliedMute[host.input.index] != muted else { continue }
            appliedMute[host.input.index] = (try? pad.set("mute", muted)) != nil ? muted : nil
        }
    }

    /// Ends `element`'s output at `duration`: the first buffer at or past it is dropped and
    /// answered with end-of-stream, which stops the element and everything feeding it.
    private static func endStream(of element: Element, at duration: UInt64) throws {
        try element.staticPad("src").addBufferProbe { pts in
            guard let pts, pts >= duration else { return .pass }
            return .dropAndEndStream
        }
    }
}
