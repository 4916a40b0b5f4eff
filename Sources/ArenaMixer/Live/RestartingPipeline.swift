import Foundation
import GStreamerKit
import Synchronization

/// A pipeline that is built anew whenever it fails, after a backoff: what an input hub and
/// each live output do to survive a broken stream, a server gone or a disk full.
///
/// `build` makes a fresh pipeline; it runs outside this type's Mutex, so it may take its
/// owner's (never the other way round: the owner must not call in here holding its own).
/// A build is current from before it plays, so an error it posts at once is seen; messages
/// of an earlier build are ignored. An error tears the build down on another thread (a bus
/// thread cannot stop its own reader) and schedules the next. A build that ran for
/// `healthyAfter` before failing counts as having worked: the next delay is the shortest.
final class RestartingPipeline: Sendable {
    static let healthyAfter: TimeInterval = 30
    private let label: String
    private let build: @Sendable () throws -> Pipeline
    private let onMessage: @Sendable (BusMessage) -> Void
    private let onFailure: @Sendable () -> Void
    private let report: @Sendable (String) -> Void
    /// A build whose streams end is built again (a live stream whose sender left), rather than left ended.
    private let restartsAtEnd: Bool
    private let state: Mutex<State>

    private struct State {
        var backoff: Backoff
        var pipeline: Pipeline?
        var reader: BusReader?
        var startedAt = Date.distantPast
        /// Counts builds; messages of an earlier one are ignored.
        var generation = 0
        var stopped = false
    }

    /// `onFailure` runs when a build fails, before it is torn down; `report` gets one line per
    /// failure (with the delay before the next try) and per recovery. `restartsAtEnd`: the end
    /// of the streams counts as a failure.
    init(label: String, backoff: Backoff, restartsAtEnd: Bool = false, build: @escaping @Sendable () throws -> Pipeline,
         onMessage: @escaping @Sendable (BusMessage) -> Void = { _ in }, onFailure: @escaping @Sendable () -> Void = {},
         report: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.restartsAtEnd = restartsAtEnd
        state = Mutex(State(backoff: backoff))
        self.build = build
        self.onMessage = onMessage
        self.onFailure = onFailure
        self.report = report
    }

    /// Builds and plays the pipeline; a failure is reported and retried like any other.
    func start() {
        let next = state.withLock { state -> Int? in
            guard !state.stopped, state.pipeline == nil else { return nil }
            state.generation += 1
            return state.generation
        }
        guard let current = next else { return }
        let made: Pipeline
        do {
            made = try build()
        } catch {
            return failed(generation: current, because: "\(error)")
        }
        let reader = BusReader(pipeline: made) { [weak self] message in self?.handle(message, from: current) }
        let kept = state.withLock { state in
            guard !state.stopped, state.generation == current else { return false }
            state.pipeline = made
            state.reader = reader
            state.startedAt = Date()
            return true
        }
        guard kept else {
            reader.stop()
            return made.stop()
        }
        do {
            try made.play()
        } catch {
            failed(generation: current, because: "\(error)")
        }
    }

    /// The pipeline works again (a segment was written, a frame arrived): the next failure
    /// waits the shortest delay again. Whether it had been failing.
    @discardableResult
    func succeeded() -> Bool {
        state.withLock { $0.backoff.reset() }
    }

    /// Stops for good. `drain`, if given, runs first while the pipeline still plays (to end its
    /// streams and wait for the muxers to finish).
    func stop(drain: ((Pipeline) -> Void)? = nil) {
        let (running, oldReader) = state.withLock { state in
            state.stopped = true
            return (state.pipeline, state.reader)
        }
        if let running { drain?(running) }
        running?.stop()
        oldReader?.stop()
        state.withLock { state in
            state.pipeline = nil
            state.reader = nil
        }
    }

    private func handle(_ message: BusMessage, from build: Int) {
        // While stopping, the current build's messages still count (a drain waits for its end).
        guard state.withLock({ build == $0.generation }) else { return }
        if case .error(let error) = message { return failed(generation: build, because: error.message) }
        if case .endOfStream = message, restartsAtEnd, !state.withLock({ $0.stopped }) {
            return failed(generation: build, because: "the stream ended")
        }
        onMessage(message)
    }

    /// Tears down build `failedGeneration` (if it still runs) and schedules the next try.
    private func failed(generation failedGeneration: Int, because problem: String) {
        let failed = state.withLock { state -> (pipeline: Pipeline?, reader: BusReader?, delay: Double)? in
            guard failedGeneration == state.generation, !state.stopped else { return nil }
            defer {
                state.pipeline = nil
                state.reader = nil
                state.generation += 1  // this build's late messages are ignored from here on
            }
            if Date().timeIntervalSince(state.startedAt) >= Self.healthyAfter { _ = state.backoff.reset() }
            return (state.pipeline, state.reader, state.backoff.failed())
        }
        guard let failed else { return }
        onFailure()
        DispatchQueue.global().async {
            failed.pipeline?.stop()
            failed.reader?.stop()
        }
        report("\(label) failed (\(problem)); retrying in \(String(format: "%g", failed.delay)) s")
        DispatchQueue.global().asyncAfter(deadline: .now() + failed.delay) { [weak self] in self?.start() }
    }
}

/// How long to wait before trying again: `first` after one failure, doubling with each
/// failure in a row up to `limit`.
struct Backoff: Sendable {
    let first: Double
    let limit: Double
    private var failures = 0

    init(first: Double, limit: Double) {
        self.first = first
        self.limit = limit
    }

    /// Counts a failure; the delay before the next try.
    mutating func failed() -> Double {
        failures += 1
        return min(limit, first * pow(2, Double(failures - 1)))
    }

    /// Forgets the failures; whether there were any.
    mutating func reset() -> Bool {
        defer { failures = 0 }
        return failures > 0
    }
}
