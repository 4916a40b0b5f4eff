import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// One live input, received and decoded once, its frames handed to every mix that shows it.
///
/// The hub runs its own pipeline: the source (an RTP receiver, or uridecodebin for a file
/// or URI) into appsinks; each decoded buffer goes, by reference, into an appsrc of every
/// subscribed mix. Those appsrcs drop their oldest buffers when a mix falls behind, so one
/// slow mix never holds up the input or the other mixes. A source that fails (a decoder
/// error, a codec change) is rebuilt after half a second (doubling to 4 s while it fails
/// before delivering a frame) with one warning; the mixes see a gap and show the
/// placeholder meanwhile. All
/// pipelines of a live run share one clock and base time, so a buffer's running time means
/// the same moment everywhere.
final class InputHub: @unchecked Sendable {  // `runner` is set once, in init; the rest is `state`, a Mutex
    let source: InputSource
    let hasAudio: Bool
    private let access: FileAccess
    /// How late the hub's frames may arrive after their time: the mixes' appsrcs report it
    /// as their latency, so the compositors wait that long for them.
    let latency: UInt64
    /// The most lateness its frames and sound are delayed for (``InputDelay``, which adds its
    /// margin): its latency, at most 200 ms (three B-frames and a jitter buffer's drift),
    /// since the mixes' appsrcs hold decoded frames for the delay.
    let maximumDelay: UInt64
    private var runner: RestartingPipeline!
    /// How long the picture has been broken (RTP inputs, which repair it: NACK, PLI).
    let brokenPictures = BrokenPictures()
    private let frameDuration: UInt64
    /// Never held while calling into `runner` (only appsrcs' properties are set under it).
    private let state: Mutex<State>

    private struct State {
        var videoOutlets: [Element] = []
        var audioOutlets: [Element] = []
        var clock: SharedClock?
        /// Whether the current build has delivered a buffer yet.
        var delivering = false
        /// The file the current build reads (a file input), opened when it was built.
        var file: OpenFile?
        /// For an RTMP input, whose times are the stream's own: what moves them onto the clock
        /// (set by the build's first frame, so that it shows as it arrives).
        var shift: Int64?
        /// How much later than their time a live source's frames and sound are shown.
        var delay: InputDelay
        /// From which of the input's times each change of `delay` applies, to picture and sound alike.
        var switches: DelaySwitches
        /// What the last sound buffer was moved by: when that changes, the next one is marked
        /// discontinuous, so that the audio mixer places it by its time at once (it takes a
        /// jump under its alignment threshold for jitter, and waits a second before it follows
        /// a larger one; a mix whose appsrc drops that buffer falls back on that second).
        var soundOffset: Int64?
        /// The moved time of the last video frame handed on: none earlier follows it.
        var lastFrameTime: Int64?
    }

    /// `label` names the input in warnings (`hosts[1] 'bob'`).
    init(source: InputSource, hasAudio: Bool, frameDuration: UInt64, access: FileAccess, label: String,
         warning: @escaping @Sendable (String) -> Void) {
        self.source = source
        self.hasAudio = hasAudio
        self.access = access
        self.frameDuration = frameDuration
        switch source {
        case .rtp(let rtp): latency = UInt64(rtp.latencyMilliseconds) * 1_000_000 + 2 * frameDuration
        case .srt(let srt): latency = UInt64(srt.latencyMilliseconds) * 1_000_000 + 2 * frameDuration
        case .rtmp: latency = 100_000_000 + 2 * frameDuration  // over TCP: frames may come in bunches
        case .uri: latency = 2 * frameDuration
        }
        maximumDelay = min(latency, 200_000_000)
        state = Mutex(State(delay: InputDelay(frameDuration: frameDuration, limit: maximumDelay), switches: DelaySwitches(hasSound: hasAudio)))
        // An SRT input whose sender left is listened for (or called) again; RTMP pulled again.
        let isStream = switch source { case .srt, .rtmp: true; case .rtp, .uri: false }
        runner = RestartingPipeline(label: "\(label) input", backoff: Backoff(first: 0.5, limit: 4), restartsAtEnd: isStream,
                                    build: { [weak self] in
                                        guard let self else { throw GStreamerError(message: "the input was removed") }
                                        return try self.build()
                                    }, report: warning)
    }

    /// How much later than their own time the input's frames and sound are shown now (ns).
    var delay: UInt64 { state.withLock { $0.delay.current } }

    /// Adds a mix's appsrcs; from then on they get every decoded buffer.
    func subscribe(video: Element, audio: Element?) {
        state.withLock {
            $0.videoOutlets.append(video)
            if let audio { $0.audioOutlets.append(audio) }
            hold($0.delay.current, video: [video], audio: audio.map { [$0] } ?? [])
        }
    }

    /// Sizes the mixes' appsrcs: three frames (half a second of sound), plus the input's delay,
    /// since delayed buffers wait there until their time. By time, whatever the input's frame
    /// rate, and at most 120 frames (400 blocks of sound: Opus packets may be 2.5 ms) a second.
    /// Called under `state`'s lock, so that sizes follow the delay in order.
    private func hold(_ delay: UInt64, video: [Element], audio: [Element]) {
        for (outlets, base, perSecond) in [(video, 3 * frameDuration, UInt64(120)), (audio, 500_000_000, 400)] {
            let time = base + delay
            for outlet in outlets {
                try? outlet.set("max-time", .uint64(time))
                try? outlet.set("max-buffers", .uint64(1 + time * perSecond / 1_000_000_000))
            }
        }
    }

    /// Starts receiving on the shared clock and base time.
    func start(on clock: SharedClock) {
        state.withLock { $0.clock = clock }
        runner.start()
    }

    /// Stops receiving; the mixes' appsrcs get no more buffers.
    func stop() {
        runner.stop()
    }

    private func build() throws -> Pipeline {
        let clock = state.withLock {
            $0.delivering = false
            $0.shift = nil
            $0.delay = InputDelay(frameDuration: frameDuration, limit: maximumDelay)
            $0.switches = DelaySwitches(hasSound: hasAudio)
            $0.soundOffset = nil
            $0.lastFrameTime = nil
            return $0.clock
        }
        let made = Pipeline(name: "hub")
        // A live source is passed on as it arrives; a file is paced to real time by its sinks.
        let isLive = source.isLive
        let sinkSettings: KeyValuePairs<String, PropertyValue> = ["sync": .bool(!isLive), "async": .bool(false)]
        let videoSink = try Element(factory: "appsink", name: "video", sinkSettings)
        // The mixes read each frame through its video meta, so the decoder needs no copy.
        try videoSink.staticPad("sink").acceptVideoMeta()
        let audioSink = hasAudio ? try Element(factory: "appsink", name: "audio", sinkSettings) : nil
        try made.add(videoSink)
        if let audioSink { try made.add(audioSink) }
        switch source {
        case .rtp(let rtp):
            let receiver = try RTPReceiver.bin(for: rtp, broken: brokenPictures)
            try made.add(receiver)
            try receiver.staticPad("video").link(try videoSink.staticPad("sink"))
            if let audioSink { try receiver.staticPad("audio").link(try audioSink.staticPad("sink")) }
        case .srt(let srt):
            // The URI's mode says listener or caller; its passphrase and options are read by srtsrc.
            try receiveStream(try Element(factory: "srtsrc", name: "srt", ["uri": .string(srt.location), "latency": .int32(Int32(srt.latencyMilliseconds))]),
                              into: made, video: videoSink, audio: audioSink)
        case .rtmp(let rtmp):
            try pull(rtmp.location, into: made, video: videoSink, audio: audioSink)
        case .uri(let uri):
            // Opened again at each build: a link planted since the spec was accepted is refused.
            let readable = try access.reading(uri)
            state.withLock { $0.file = readable.file }
            let decoder = try Element(factory: "uridecodebin", name: "decoder", ["uri": .string(readable.uri), "expose-all-streams": .bool(false)])
            decoder.useLeanDecoders()
            try made.add(decoder)
            decoder.linkDecodedStreams(video: try videoSink.staticPad("sink"), audio: try audioSink?.staticPad("sink"))
        }
        videoSink.onNewSample { [weak self] sample in self?.forward(sample, video: true) }
        audioSink?.onNewSample { [weak self] sample in self?.forward(sample, video: false) }
        clock?.adopt(made)
        return made
    }

    /// A stream source (SRT) into decodebin (which finds the demuxer and decoders), its
    /// decoded video and audio into the sinks.
    private func receiveStream(_ source: Element, into pipeline: Pipeline, video: Element, audio: Element?) throws {
        let decoder = try Element(factory: "decodebin", name: "decoder")
        decoder.useLeanDecoders()
        try pipeline.add(source, decoder)
        try source.link(decoder)
        decoder.linkDecodedStreams(video: try video.staticPad("sink"), audio: try audio?.staticPad("sink"))
    }

    /// RTMP into flvdemux, each of its streams into a decodebin of its own (one decodebin for
    /// both would wait for an audio stream the FLV header announces and the sender never sends).
    private func pull(_ url: String, into pipeline: Pipeline, video: Element, audio: Element?) throws {
        let source = try Element(factory: "rtmp2src", name: "rtmp", ["location": .string(url), "timeout": .uint32(10)])
        let demuxer = try Element(factory: "flvdemux", name: "demuxer")
        try pipeline.add(source, demuxer)
        try source.link(demuxer)
        let sinks = (video: try video.staticPad("sink"), audio: try audio?.staticPad("sink"))
        demuxer.onPadAdded { [weak pipeline] pad in
            guard let pipeline, let target = pad.name == "video" ? sinks.video : pad.name == "audio" ? sinks.audio : nil, !target.isLinked,
                  let decoder = try? Element(factory: "decodebin") else { return }
            decoder.useLeanDecoders()
            decoder.linkDecodedStreams(video: pad.name == "video" ? target : nil, audio: pad.name == "audio" ? target : nil)
            try? pipeline.add(decoder)
            try? pad.link(try decoder.staticPad("sink"))
            try? decoder.syncStateWithParent()
        }
    }

    /// Hands a decoded buffer to every mix, moved onto the clock (RTMP) and later by the
    /// input's ``InputDelay`` (live sources; a file is paced by its sinks and never late).
    private func forward(_ sample: Sample, video: Bool) {
        let restamp = if case .rtmp = source { true } else { false }
        let isLive = source.isLive
        let (outlets, first, offset, moved) = state.withLock { state in
            defer { state.delivering = true }
            let before = state.delay.current
            if restamp, state.shift == nil, let clock = state.clock, let time = sample.runningTime {
                state.shift = Int64(clamping: clock.runningTime) - Int64(clamping: time)
            }
            let shift = state.shift ?? 0
            if isLive, video, let clock = state.clock, let time = sample.runningTime {
                let now = clock.runningTime
                state.delay.note(frameLateBy: Int64(clamping: now) - (Int64(clamping: time) + shift), at: now)
            }
            if state.delay.current != before {
                hold(state.delay.current, video: state.videoOutlets, audio: state.audioOutlets)
                state.switches.change(to: Int64(state.delay.current))
            }
            let delay = sample.runningTime.map { time in
                let (end, overflow) = time.addingReportingOverflow(sample.duration ?? (video ? frameDuration : 0))
                return state.switches.delay(at: Int64(clamping: time), until: overflow ? .max : Int64(clamping: end), picture: video)
            } ?? state.switches.delayWithoutTime(picture: video)
            let offset = shift + delay
            var moved = false
            if !video {
                moved = state.soundOffset.map { $0 != offset } ?? false
                state.soundOffset = offset
            } else if let time = sample.runningTime {
                // After the delay falls, frames up to the last one's time are dropped: the
                // compositor has made those output frames already, and would show each frame
                // that follows a frame later than its time.
                let movedTime = Int64(clamping: time) + offset
                if let last = state.lastFrameTime, movedTime <= last { return ([Element](), false, offset, false) }
                state.lastFrameTime = movedTime
            }
            return (video ? state.videoOutlets : state.audioOutlets, !state.delivering, offset, moved)
        }
        if first { runner.succeeded() }
        for outlet in outlets { outlet.push(sample, from: 0, shiftedBy: offset, discontinuous: moved) }
    }
}
