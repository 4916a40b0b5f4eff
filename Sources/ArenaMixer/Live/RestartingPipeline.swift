import Foundation
import GStreamerKit
import Synchronization

/// A pipeline that is built anew whenever it fails, after a backoff: what an input hub and
/// each live output do to survive a broken stream, a server gone or a disk full.
///
/// `build` makes a fresh pipeline; it runs outside this type's lock, so it may take its
/// owner's (never the other way round: the owner must not call in here holding its own).
/// Bus messages of an earlier build are ignored; an error tears that build down on another
/// thread (a bus thread cannot stop its own reader) and schedules the next.
final class RestartingPipeline: Sendable {
    private let label: String
    private let build: @Sendable () throws -> Pipeline
    private let onMessage: @Sendable (BusMessage) -> Void
    private let report: @Sendable (String) -> Void
    private let state: Mutex<State>

    private struct State {
        var backoff: Backoff
        var pipeline: Pipeline?
        var reader: BusReader?
        /// Counts builds; messages of an earlier one are ignored.
        var generation = 0
        var stopped = false
    }

    /// `report` gets one line per failure (with the delay before the next try) and per recovery.
    init(label: String, backoff: Backoff, build: @escaping @Sendable () throws -> Pipeline,
         onMessage: @escaping @Sendable (BusMessage) -> Void = { _ in }, report: @escaping @Sendable (String) -> Void) {
        self.label = label
        state = Mutex(State(backoff: backoff))
        self.build = build
        self.onMessage = onMessage
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
        let newReader: BusReader
        do {
            made = try build()
            newReader = BusReader(pipeline: made) { [weak self] message in self?.handle(message, from: current) }
            do {
                try made.play()
            } catch {
                newReader.stop()
                made.stop()
                throw error
            }
        } catch {
            return failed(generation: current, because: "\(error)")
        }
        let kept = state.withLock { state in
            guard !state.stopped, state.generation == current else { return false }
            state.pipeline = made
            state.reader = newReader
            return true
        }
        if !kept {
            newReader.stop()
            made.stop()
        }
    }

    /// The pipeline works again (a segment was written, a frame arrived): the next failure
    /// waits the shortest delay again, and a recovery after failures is reported once.
    func succeeded() {
        let wasFailing = state.withLock { $0.backoff.reset() }
        if wasFailing { report("\(label): recovered") }
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
        let isCurrent = state.withLock { build == $0.generation && $0.pipeline != nil }
        guard isCurrent else { return }
        if case .error(let error) = message { return failed(generation: build, because: error.message) }
        onMessage(message)
    }

    /// Tears down build `failedGeneration` (if it still runs) and schedules the next try.
    private func failed(generation failedGeneration: Int, because problem: String) {
        let failed = state.withLock { state -> (Pipeline?, BusReader?, Double)? in
            guard failedGeneration == state.generation, !state.stopped else { return nil }
            defer {
                state.pipeline = nil
                state.reader = nil
                state.generation += 1  // this build's late messages are ignored from here on
            }
            return (state.pipeline, state.reader, state.backoff.failed())
        }
        guard let (running, oldReader, delay) = failed.map({ $0 }) else { return }
        DispatchQueue.global().async {
            running?.stop()
            oldReader?.stop()
        }
        report("\(label) failed (\(problem)); retrying in \(String(format: "%g", delay)) s")
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in self?.start() }
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
