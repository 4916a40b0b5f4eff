import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// How far a render has come.
public struct RenderProgress: Sendable {
    /// Seconds of output written.
    public let done: Double
    public let total: Double
    /// Output frames per second of wall time.
    public let framesPerSecond: Double
    /// Output seconds per wall second.
    public let speed: Double
}

/// What a finished render produced.
public struct RenderResult: Sendable {
    public let path: String
    public let frameCount: Int
    public let wallSeconds: Double
    /// Inputs that broke mid-way and were replaced by their placeholder, as messages.
    public let warnings: [String]
    /// CPU milliseconds painting the cells (scaled pictures, placeholders, the background) costs per output frame.
    public let cellMilliseconds: Double
    /// CPU milliseconds the overlays (drawing what changed, blending) cost per output frame.
    public let overlayMilliseconds: Double
}

/// Renders a ``MixPlan`` to its output file as fast as the machine allows.
///
/// The file is written under a temporary name in the same folder and renamed when the
/// muxer has finished, so the output path only ever holds a complete file.
public final class MixRenderer: Sendable {
    private let plan: MixPlan
    private let stallLimit: TimeInterval
    /// How the run ended (nil while it runs), its warnings, and the inputs taken out.
    private let ending = Mutex<(outcome: Result<Void, MixError>?, warnings: [String], brokenInputs: Set<Int>)>((nil, [], []))
    private let finished = DispatchSemaphore(value: 0)

    /// `stallLimit`: how long the mix may stand still (no frame composed, the output not moving)
    /// before the inputs it waits on are dropped as stalled (or, if it waits on none, the render fails).
    public init(plan: MixPlan, stallLimit: TimeInterval = 10) {
        self.plan = plan
        self.stallLimit = stallLimit
    }

    /// What a run writes.
    public enum Target: Sendable {
        /// The whole mix, to the plan's output path.
        case recording
        /// One composited frame, the first at or after `seconds`, as PNG to `path`.
        case snapshot(seconds: Double, path: String)
    }

    /// Runs the render; `progress` is called about twice a second on this thread.
    /// `cancelled` is polled as often; when it turns true the render stops and writes nothing.
    public func run(_ target: Target = .recording, progress: ((RenderProgress) -> Void)? = nil,
                    warning: (@Sendable (String) -> Void)? = nil,
                    cancelled: @escaping () -> Bool = { false }) throws(MixError) -> RenderResult {
        let output: URL
        let total: Double
        switch target {
        case .recording:
            guard let path = plan.outputPath else { throw .output(path: "output.path", reason: "is required for a render") }
            output = URL(fileURLWithPath: path)
            total = Double(plan.duration) / 1e9
        case .snapshot(let seconds, let path):
            output = URL(fileURLWithPath: path).standardized
            total = min(seconds, Double(plan.duration) / 1e9)
        }
        let temporary = output.deletingLastPathComponent()
            .appendingPathComponent(".\(output.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).partial")
        defer { try? FileManager.default.removeItem(at: temporary) }

        let mix: MixGraph
        do {
            switch target {
            case .recording:
                mix = try MixGraph(plan: plan, state: MixState(plan: plan), tail: .recording(path: temporary.path))
            case .snapshot(let seconds, _):
                mix = try MixGraph(plan: plan, state: MixState(plan: plan), tail: .snapshot(at: UInt64(max(0, seconds) * 1e9), path: temporary.path))
            }
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
        let reader = BusReader(pipeline: mix.pipeline) { [weak self, weak mix] message in
            guard let self, let mix else { return }
            self.handle(message, mix: mix, warning: warning)
        }
        defer {
            mix.pipeline.stop()
            reader.stop()
        }

        let started = Date()
        do {
            try mix.pipeline.play()
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
        // The mix moves while the compositor makes frames or the output advances: a slow
        // encoder filling its lookahead (x264 "slow" at 1080x1920 on a loaded machine) holds
        // the output's position for seconds, and is not a stall.
        var lastPosition: UInt64?
        var lastComposed = 0
        var lastMove = Date()
        while finished.wait(timeout: .now() + 0.5) == .timedOut {
            if cancelled() { throw .pipeline(GStreamerError(message: "cancelled")) }
            let position = mix.pipeline.position
            let composed = mix.cellCost.buffers
            if position != lastPosition || composed != lastComposed {
                lastPosition = position
                lastComposed = composed
                lastMove = Date()
            } else if Date().timeIntervalSince(lastMove) > stallLimit {
                try dropStalledInputs(mix, warning: warning)
                lastMove = Date()
            }
            guard let progress, let position else { continue }
            let done = min(total, Double(position) / 1e9)
            let elapsed = max(Date().timeIntervalSince(started), 0.001)
            progress(RenderProgress(done: done, total: total, framesPerSecond: done * Double(plan.canvas.framesPerSecond) / elapsed,
                                    speed: done / elapsed))
        }
        let (result, warned) = ending.withLock { ($0.outcome!, $0.warnings) }
        try result.get()

        mix.pipeline.stop()
        do {
            _ = try? FileManager.default.removeItem(at: output)
            try FileManager.default.moveItem(at: temporary, to: output)
        } catch {
            throw .output(path: output.path, reason: "cannot be written: \((error as NSError).localizedDescription)")
        }
        let frames = if case .recording = target { plan.frameCount } else { 1 }
        return RenderResult(path: output.path, frameCount: frames, wallSeconds: Date().timeIntervalSince(started), warnings: warned,
                            cellMilliseconds: mix.cellCost.millisecondsPerBuffer, overlayMilliseconds: mix.overlayCost.millisecondsPerBuffer)
    }

    /// The output stood still for `stallLimit`: drops the inputs the mixers wait on, or
    /// fails if they wait on none of them.
    private func dropStalledInputs(_ mix: MixGraph, warning: (@Sendable (String) -> Void)?) throws(MixError) {
        let starved = mix.starvedInputs()
        guard !starved.isEmpty else {
            throw .pipeline(GStreamerError(message: "the mix made no progress for \(Int(stallLimit)) s"))
        }
        for index in starved {
            report(index, "sent nothing for \(Int(stallLimit)) s", mix: mix, warning: warning)
        }
    }

    /// Takes input `index` out of the mix with one warning, the first time it is reported.
    private func report(_ index: Int, _ problem: String, mix: MixGraph, warning: (@Sendable (String) -> Void)?) {
        let text = "hosts[\(index)] '\(plan.inputs[index].host.userId)' input \(problem); showing its placeholder"
        let first = ending.withLock {
            let first = $0.brokenInputs.insert(index).inserted
            if first { $0.warnings.append(text) }
            return first
        }
        guard first else { return }
        warning?(text)
        mix.endInput(index)
    }

    /// Bus thread: end-of-stream finishes; an input's error drops that input (and later
    /// reports from its parts are moot); any other error fails the render.
    private func handle(_ message: BusMessage, mix: MixGraph, warning: (@Sendable (String) -> Void)?) {
        switch message {
        case .endOfStream:
            finish(.success(()))
        case .error(let error):
            switch MixGraph.origin(ofElementPath: error.source ?? "") {
            case .input(let index):
                report(index, "broke (\(error.message))", mix: mix, warning: warning)
            case .detached:
                break
            case .mix:
                finish(.failure(.pipeline(error)))
            }
        case .warning, .element:
            break
        }
    }

    private func finish(_ result: Result<Void, MixError>) {
        ending.withLock {
            guard $0.outcome == nil else { return }
            $0.outcome = result
            finished.signal()
        }
    }
}
