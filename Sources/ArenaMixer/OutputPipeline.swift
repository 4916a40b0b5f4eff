import Foundation
import GStreamerKit

/// One destination of a live mix, in a pipeline of its own fed from the shared encode.
///
/// Each output has its own pipeline so that one failing (a server gone, a disk full) never
/// blocks or stops the mix or the other outputs: its appsrcs drop the oldest buffers when it
/// falls behind, and an error stops just this pipeline, which is made anew after a backoff
/// (1 s, doubling to 30 s). Every (re)start waits for the encoder's next keyframe (at most
/// `keyframeIntervalSeconds`; forcing one would cut the other outputs' HLS segments short)
/// and starts its timestamps at zero there.
final class OutputPipeline: @unchecked Sendable {
    let target: OutputTarget
    private let audioCodec: MixSpec.AudioCodec
    private let report: (String) -> Void
    private let lock = NSLock()
    private var pipeline: Pipeline?
    private var reader: BusReader?
    private var videoSource: Element?
    private var audioSource: Element?
    /// The first keyframe's running time; nil until this (re)start has one.
    private var base: UInt64?
    private var failures = 0
    /// Counts (re)starts; bus messages of an earlier pipeline are ignored.
    private var generation = 0
    private var stopped = false
    private var ended = DispatchSemaphore(value: 0)
    /// Recording segments are numbered on from here (kept across restarts).
    private var nextSegment = 0

    /// `report` gets one line per failure or recovery.
    init(target: OutputTarget, audioCodec: MixSpec.AudioCodec, report: @escaping (String) -> Void) {
        self.target = target
        self.audioCodec = audioCodec
        self.report = report
        if case .recording(let path, _) = target { nextSegment = RecordingFiles(path: path).firstFreeIndex() }
    }

    /// Builds and starts the pipeline; a failure is reported and retried like any other.
    func start() {
        lock.lock()
        startLocked()
        lock.unlock()
    }

    private func startLocked() {
        guard !stopped, pipeline == nil else { return }
        do {
            let made = try Pipeline(description: description())
            videoSource = made.element(named: "video")
            audioSource = made.element(named: "audio")
            if case .recording(let path, _) = target, let muxer = made.element(named: "segments") {
                muxer.set("start-index", Int32(nextSegment))
                muxer.onFormatLocation { [files = RecordingFiles(path: path)] index in files.partialPath(index) }
            }
            generation += 1
            let current = generation
            reader = BusReader(pipeline: made) { [weak self] message in self?.handle(message, from: current) }
            base = nil
            ended = DispatchSemaphore(value: 0)
            try made.play()
            pipeline = made
        } catch {
            scheduleRestart(after: "\(error)")
        }
    }

    /// Hands over an encoded video buffer (the video encoder's thread).
    func feedVideo(_ sample: Sample) {
        lock.lock()
        defer { lock.unlock() }
        guard let source = videoSource, let time = sample.runningTime else { return }
        if base == nil {
            guard sample.isKeyframe else { return }
            base = time
        }
        source.push(sample, from: base!)
    }

    /// Hands over an encoded audio buffer (the audio encoder's thread); audio waits for the
    /// first keyframe, so that every output starts with a picture.
    func feedAudio(_ sample: Sample) {
        lock.lock()
        defer { lock.unlock() }
        guard let source = audioSource, let base, let time = sample.runningTime, time >= base else { return }
        source.push(sample, from: base)
    }

    /// Ends the output cleanly (the muxer writes its index, the last segment is closed) and
    /// waits up to `timeout` seconds for it.
    func finish(timeout: TimeInterval = 5) {
        lock.lock()
        stopped = true
        let running = pipeline
        let done = ended
        videoSource?.endAppStream()
        audioSource?.endAppStream()
        lock.unlock()
        guard let running else { return }
        if done.wait(timeout: .now() + timeout) == .timedOut { report("\(target.label): did not finish within \(Int(timeout)) s") }
        running.stop()
        lock.lock()
        reader?.stop()
        reader = nil
        pipeline = nil
        lock.unlock()
    }

    private func handle(_ message: BusMessage, from pipelineGeneration: Int) {
        lock.lock()
        let isCurrent = pipelineGeneration == generation && pipeline != nil
        lock.unlock()
        guard isCurrent else { return }
        switch message {
        case .endOfStream:
            ended.signal()
        case .error(let error):
            lock.lock()
            let running = pipeline
            pipeline = nil
            videoSource = nil
            audioSource = nil
            let oldReader = reader
            reader = nil
            lock.unlock()
            // Stopping from another thread: the bus thread cannot stop its own reader.
            DispatchQueue.global().async {
                running?.stop()
                oldReader?.stop()
            }
            lock.lock()
            scheduleRestart(after: error.message)
            lock.unlock()
        case .element(let name, let location):
            if name == "splitmuxsink-fragment-closed", let location, case .recording(let path, _) = target {
                let files = RecordingFiles(path: path)
                files.publish(partial: location)
                lock.lock()
                nextSegment = max(nextSegment, (files.index(ofPartial: location) ?? -1) + 1)
                if failures > 0 { report("\(target.label): recovered") }
                failures = 0
                lock.unlock()
            }
        case .warning:
            break
        }
    }

    /// The lock is held.
    private func scheduleRestart(after problem: String) {
        guard !stopped else { return }
        failures += 1
        let delay = min(30, pow(2, Double(failures - 1)))
        report("\(target.label) failed (\(problem)); retrying in \(Int(delay)) s")
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in self?.start() }
    }

    /// The output's pipeline: appsrcs named `video` and `audio` into the muxer and sink.
    private func description() -> String {
        let source = "format=time is-live=true max-bytes=0 max-buffers=300 leaky-type=downstream"
        let video = "appsrc name=video \(source) ! h264parse config-interval=-1"
        let audioParse = audioCodec == .aac ? "aacparse" : "opusparse"
        let audio = "appsrc name=audio \(source) ! \(audioParse)"
        switch target {
        case .recording(let path, let seconds):
            let muxer = path.lowercased().hasSuffix(".mkv") ? "matroskamux" : "mp4mux"
            return "splitmuxsink name=segments muxer-factory=\(muxer) max-size-time=\(UInt64(seconds) * 1_000_000_000) "
                + "async-finalize=false \(video) ! queue ! segments.video \(audio) ! queue ! segments.audio_%u"
        case .hls(let folder, let seconds, let length):
            return "hlssink2 name=hls location=\"\(folder)/segment%05d.ts\" playlist-location=\"\(folder)/playlist.m3u8\" "
                + "target-duration=\(seconds) playlist-length=\(length) max-files=\(max(length, 1) * 2) "
                + "\(video) ! queue ! hls.video \(audio) ! queue ! hls.audio"
        case .rtmp(let url):
            return "flvmux name=mux streamable=true ! rtmp2sink location=\"\(url)\" sync=false async=false "
                + "\(video) ! queue ! mux.video \(audio) ! queue ! mux.audio"
        case .rtp(let host, let videoPort, let audioPort):
            let pay = audioCodec == .aac ? "rtpmp4gpay pt=97" : "rtpopuspay pt=111"
            return "\(video) ! rtph264pay pt=96 config-interval=-1 ! udpsink host=\(host) port=\(videoPort) sync=false async=false "
                + "\(audio) ! \(pay) ! udpsink host=\(host) port=\(audioPort) sync=false async=false"
        case .srt(let uri):
            return "mpegtsmux name=mux alignment=7 ! srtsink uri=\"\(uri)\" wait-for-connection=false sync=false async=false "
                + "\(video) ! queue ! mux. \(audio) ! queue ! mux."
        }
    }
}

/// A recording's segment files: `talk.mp4` is written as `talk-00001.mp4`, `talk-00002.mp4` ...,
/// each under a hidden partial name (`.talk-00001.mp4.partial`) until it is closed.
struct RecordingFiles {
    let folder: URL
    let stem: String
    let suffix: String

    init(path: String) {
        let url = URL(fileURLWithPath: path)
        folder = url.deletingLastPathComponent()
        suffix = url.pathExtension.isEmpty ? "mp4" : url.pathExtension
        stem = url.deletingPathExtension().lastPathComponent
    }

    func finalPath(_ index: Int) -> String { folder.appendingPathComponent(String(format: "%@-%05d.%@", stem, index, suffix)).path }
    func partialPath(_ index: Int) -> String {
        folder.appendingPathComponent(String(format: ".%@-%05d.%@.partial", stem, index, suffix)).path
    }

    func index(ofPartial path: String) -> Int? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        let prefix = ".\(stem)-"
        guard name.hasPrefix(prefix) else { return nil }
        return Int(name.dropFirst(prefix.count).prefix(5))
    }

    /// Renames a closed segment to its final name.
    func publish(partial path: String) {
        guard let index = index(ofPartial: path) else { return }
        _ = try? FileManager.default.removeItem(atPath: finalPath(index))
        try? FileManager.default.moveItem(atPath: path, toPath: finalPath(index))
    }

    /// The first index after every segment already in the folder, so a new run never
    /// overwrites an earlier one's.
    func firstFreeIndex() -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let taken = names.compactMap { name -> Int? in
            let prefix = "\(stem)-", dotted = ".\(stem)-"
            let rest = name.hasPrefix(prefix) ? name.dropFirst(prefix.count) : name.hasPrefix(dotted) ? name.dropFirst(dotted.count) : nil
            return rest.flatMap { Int($0.prefix(5)) }
        }
        return (taken.max() ?? 0) + 1
    }
}
