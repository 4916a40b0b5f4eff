import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// One destination of a live mix, in a pipeline of its own fed from the shared encode.
///
/// Each output has its own pipeline so that one failing (a server gone, a disk full) never
/// blocks or stops the mix or the other outputs: its appsrcs drop the oldest buffers when it
/// falls behind, and an error stops just this pipeline, which is made anew after a backoff
/// (1 s, doubling to 30 s). Every (re)start waits for the encoder's next keyframe (at most
/// `keyframeIntervalSeconds`; forcing one would cut the other outputs' HLS segments short)
/// and starts its timestamps at zero there. Each kind's elements are built in its own file
/// (`RecordingOutput`, `HLSOutput`, ...), from elements and checked properties only.
final class OutputPipeline: @unchecked Sendable {  // `runner` is set once, in init; the rest is `state`, a Mutex
    let target: OutputTarget
    private let audioCodec: MixSpec.AudioCodec
    private let access: FileAccess
    private var runner: RestartingPipeline!
    private let report: @Sendable (String) -> Void
    /// Never held while calling into `runner` (which may call `build` here, taking it).
    private let state: Mutex<State>

    private struct State {
        var videoSource: Element?
        var audioSource: Element?
        /// The first keyframe's running time; nil until this (re)start has one.
        var base: UInt64?
        var ended = DispatchSemaphore(value: 0)
        /// Recording segments are numbered on from here (kept across restarts).
        var nextSegment = 1
        /// The recording's or HLS folder, held open from the first build that could open it.
        var recordingFiles: RecordingFiles?
        var hlsFolder: PinnedFolder?
    }

    /// `report` gets one line per failure or recovery; files are opened under `access`.
    init(target: OutputTarget, audioCodec: MixSpec.AudioCodec, access: FileAccess, report: @escaping @Sendable (String) -> Void) {
        self.target = target
        self.access = access
        self.audioCodec = audioCodec
        self.report = report
        state = Mutex(State())
        runner = RestartingPipeline(label: target.label, backoff: Backoff(first: 1, limit: 30),
                                    build: { [weak self] in
                                        guard let self else { throw GStreamerError(message: "the output was removed") }
                                        return try self.build()
                                    },
                                    onMessage: { [weak self] in self?.handle($0) },
                                    // A failed pipeline takes no more buffers; the next build brings its own sources.
                                    onFailure: { [weak self] in self?.state.withLock { $0.videoSource = nil; $0.audioSource = nil } },
                                    report: report)
    }

    /// Builds and starts the pipeline; a failure is reported and retried like any other.
    func start() {
        runner.start()
    }

    /// Hands over an encoded video buffer (the video encoder's thread).
    func feedVideo(_ sample: Sample) {
        state.withLock { state in
            guard let source = state.videoSource, let time = sample.runningTime else { return }
            if let base = state.base {
                source.push(sample, from: base)
            } else if sample.isKeyframe, source.push(sample, from: time) == .ok {
                state.base = time  // the output starts at a keyframe it accepted
            }
        }
    }

    /// Hands over an encoded audio buffer (the audio encoder's thread); audio waits for the
    /// first keyframe, so that every output starts with a picture.
    func feedAudio(_ sample: Sample) {
        state.withLock { state in
            guard let source = state.audioSource, let base = state.base, let time = sample.runningTime, time >= base else { return }
            source.push(sample, from: base)
        }
    }

    /// Ends the output cleanly (the muxer writes its index, the last segment is closed) and
    /// waits up to `timeout` seconds for it.
    func finish(timeout: TimeInterval = 5) {
        runner.stop { [self] _ in
            let done = state.withLock { state in
                state.videoSource?.endAppStream()
                state.audioSource?.endAppStream()
                return state.ended
            }
            if done.wait(timeout: .now() + timeout) == .timedOut { report("\(target.label): did not finish within \(Int(timeout)) s") }
        }
    }

    /// A fresh pipeline: appsrcs `video` and `audio` through their parsers into this kind's tail.
    private func build() throws -> Pipeline {
        let pipeline = Pipeline(name: "output")
        let sourceSettings: KeyValuePairs<String, PropertyValue> = [
            "format": .nick("time"), "is-live": .bool(true), "max-bytes": .uint64(0), "max-buffers": .uint64(300),
            "leaky-type": .nick("downstream"),
        ]
        let video = try Element(factory: "appsrc", name: "video", sourceSettings)
        let audio = try Element(factory: "appsrc", name: "audio", sourceSettings)
        let videoParser = try Element(factory: "h264parse", name: "video-parser", ["config-interval": .int32(-1)])
        let audioParser = try Element(factory: audioCodec == .aac ? "aacparse" : "opusparse", name: "audio-parser")
        try pipeline.addChain([video, videoParser])
        try pipeline.addChain([audio, audioParser])
        let streams = OutputStreams(pipeline: pipeline, video: videoParser, audio: audioParser, audioCodec: audioCodec)
        switch target {
        case .recording(let path, let seconds):
            let (files, first) = try state.withLock { state in
                if state.recordingFiles == nil { state.recordingFiles = try RecordingFiles(path: path, access: access) }
                // Each build (the first, and each restart after an error) keeps what the run before
                // it left open and goes on after it, never writing over a segment.
                let files = state.recordingFiles!
                files.salvageLeftovers()
                state.nextSegment = max(state.nextSegment, files.firstFreeIndex())
                return (files, state.nextSegment)
            }
            try RecordingOutput.build(streams, files: files, segmentSeconds: seconds, firstIndex: first)
        case .hls(let folder, let seconds, let length):
            let pinned = try state.withLock { state in
                if state.hlsFolder == nil { state.hlsFolder = try PinnedFolder(folder, access: access) }
                return state.hlsFolder!
            }
            try HLSOutput.build(streams, folder: pinned.path, segmentSeconds: seconds, playlistLength: length)
        case .rtmp(let url):
            try RTMPOutput.build(streams, url: url)
        case .rtp(let host, let videoPort, let audioPort):
            try RTPOutput.build(streams, host: host, videoPort: videoPort, audioPort: audioPort)
        case .srt(let uri):
            try SRTOutput.build(streams, uri: uri)
        }
        state.withLock { state in
            state.videoSource = video
            state.audioSource = audio
            state.base = nil
            state.ended = DispatchSemaphore(value: 0)
        }
        return pipeline
    }

    /// Bus messages of the current pipeline, other than errors (the runner restarts on those).
    private func handle(_ message: BusMessage) {
        switch message {
        case .endOfStream:
            state.withLock { $0.ended }.signal()
        case .element(let name, let location):
            guard name == "splitmuxsink-fragment-closed", let location, let files = state.withLock({ $0.recordingFiles }) else { return }
            files.publish(partial: location)
            state.withLock { $0.nextSegment = max($0.nextSegment, (files.index(ofPartial: location) ?? -1) + 1) }
            if runner.succeeded() { report("\(target.label): recovered") }
        case .error, .warning:
            break
        }
    }
}

/// An output pipeline's parsed streams, ready for a kind's tail to link on.
struct OutputStreams {
    let pipeline: Pipeline
    /// Parsed H.264 (byte-stream, SPS/PPS at every keyframe).
    let video: Element
    /// Parsed AAC or Opus.
    let audio: Element
    let audioCodec: MixSpec.AudioCodec

    /// A queue of its own before a muxer pad, so that one stream waiting never stalls the other.
    func queued(_ stream: Element, name: String) throws -> Element {
        let queue = try Element(factory: "queue", name: name)
        try pipeline.add(queue)
        try stream.link(queue)
        return queue
    }
}
