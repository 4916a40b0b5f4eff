import Foundation
import GStreamerKit

/// One live input, received and decoded once, its frames handed to every mix that shows it.
///
/// The hub runs its own pipeline: the source (an RTP receiver, or uridecodebin for a file
/// or URI) into appsinks; each decoded buffer goes, by reference, into an appsrc of every
/// subscribed mix. Those appsrcs drop their oldest buffers when a mix falls behind, so one
/// slow mix never holds up the input or the other mixes. A source that fails (a decoder
/// error, a codec change) is rebuilt after half a second with one warning; the mixes see a
/// gap and show the placeholder meanwhile. All pipelines of a live run share one clock and
/// base time, so a buffer's running time means the same moment everywhere.
final class InputHub: @unchecked Sendable {
    let source: InputSource
    let hasAudio: Bool
    /// How late the hub's frames may arrive after their time: the mixes' appsrcs report it
    /// as their latency, so the compositors wait that long for them.
    let latency: UInt64
    /// For messages: `hosts[i] 'user'` of the first mix that named this input.
    private let label: String
    private let warning: (String) -> Void
    private let lock = NSLock()
    private var pipeline: Pipeline?
    private var reader: BusReader?
    private var generation = 0
    private var stopped = false
    private var videoOutlets: [Element] = []
    private var audioOutlets: [Element] = []
    private var clock: SharedClock?

    init(source: InputSource, hasAudio: Bool, frameDuration: UInt64, label: String, warning: @escaping (String) -> Void) {
        self.source = source
        self.hasAudio = hasAudio
        self.label = label
        self.warning = warning
        if case .rtp(let rtp) = source {
            latency = UInt64(rtp.latencyMilliseconds) * 1_000_000 + 2 * frameDuration
        } else {
            latency = 2 * frameDuration
        }
    }

    /// Adds a mix's appsrcs; from then on they get every decoded buffer.
    func subscribe(video: Element, audio: Element?) {
        lock.lock()
        videoOutlets.append(video)
        if let audio { audioOutlets.append(audio) }
        lock.unlock()
    }

    /// Starts receiving on the shared clock and base time.
    func start(on clock: SharedClock) {
        lock.lock()
        self.clock = clock
        lock.unlock()
        build()
    }

    /// Stops receiving; the mixes' appsrcs get no more buffers.
    func stop() {
        lock.lock()
        stopped = true
        let running = pipeline
        let oldReader = reader
        pipeline = nil
        reader = nil
        lock.unlock()
        running?.stop()
        oldReader?.stop()
    }

    private func build() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped, pipeline == nil, let clock else { return }
        do {
            let made = Pipeline(name: "hub")
            let isLive: Bool
            let videoSink = try Element(factory: "appsink", name: "video")
            let audioSink = hasAudio ? try Element(factory: "appsink", name: "audio") : nil
            switch source {
            case .rtp(let rtp):
                isLive = true
                let receiver = RTPReceiver(rtp)
                let bin = try Element(binDescription: receiver.description, name: "receiver", exposing: receiver.pads)
                try made.add(bin)
                try receiver.filterPackets(in: made)
                try made.add(videoSink)
                try bin.staticPad("video").link(try videoSink.staticPad("sink"))
                if let audioSink {
                    try made.add(audioSink)
                    try bin.staticPad("audio").link(try audioSink.staticPad("sink"))
                }
            case .uri(let uri):
                isLive = false
                let decoder = try Element(factory: "uridecodebin", name: "decoder")
                decoder.set("uri", uri)
                decoder.set("expose-all-streams", false)
                try made.add(decoder)
                try made.add(videoSink)
                if let audioSink { try made.add(audioSink) }
                let videoInlet = try videoSink.staticPad("sink")
                let audioInlet = try audioSink?.staticPad("sink")
                decoder.onPadAdded { pad in
                    switch pad.mediaType {
                    case "video/x-raw" where !videoInlet.isLinked: try? pad.link(videoInlet)
                    case "audio/x-raw" where audioInlet.map({ !$0.isLinked }) == true: try? pad.link(audioInlet!)
                    default: break
                    }
                }
            }
            // A live source is passed on as it arrives; a file is paced to real time by its sinks.
            for sink in [videoSink, audioSink].compactMap({ $0 }) {
                sink.set("sync", !isLive)
                sink.set("async", false)
            }
            videoSink.onNewSample { [weak self] sample in self?.forward(sample, video: true) }
            audioSink?.onNewSample { [weak self] sample in self?.forward(sample, video: false) }
            generation += 1
            let current = generation
            reader = BusReader(pipeline: made) { [weak self] message in self?.handle(message, from: current) }
            clock.adopt(made)
            try made.play()
            pipeline = made
        } catch {
            warning("\(label) input cannot start (\(error)); trying again")
            DispatchQueue.global().asyncAfter(deadline: .now() + 1) { [weak self] in self?.build() }
        }
    }

    private func forward(_ sample: Sample, video: Bool) {
        lock.lock()
        let outlets = video ? videoOutlets : audioOutlets
        lock.unlock()
        for outlet in outlets { outlet.push(sample, from: 0) }
    }

    /// A failure rebuilds the source after half a second; end-of-stream (a file ended) ends it.
    private func handle(_ message: BusMessage, from pipelineGeneration: Int) {
        guard case .error(let error) = message else { return }
        lock.lock()
        guard pipelineGeneration == generation, let failed = pipeline else {
            lock.unlock()
            return
        }
        pipeline = nil
        let oldReader = reader
        reader = nil
        lock.unlock()
        warning("\(label) input broke (\(error.message)); showing its placeholder until it sends again")
        DispatchQueue.global().async {
            failed.stop()
            oldReader?.stop()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { [weak self] in self?.build() }
    }
}
