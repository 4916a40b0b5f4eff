import Foundation
import GStreamerKit

/// A pipeline that is built anew whenever it fails, after a backoff: what an input hub and
/// each live output do to survive a broken stream, a server gone or a disk full.
///
/// `build` makes a fresh pipeline; it runs outside this type's lock, so it may take its
/// owner's lock (never the other way round: the owner must not call in here holding its own).
/// Bus messages of an earlier build are ignored; an error tears that build down on another
/// thread (a bus thread cannot stop its own reader) and schedules the next.
final class RestartingPipeline: @unchecked Sendable {  // every mutable field is guarded by `lock`
    private let label: String
    private let build: () throws -> Pipeline
    private let onMessage: (BusMessage) -> Void
    private let report: (String) -> Void
    private let lock = NSLock()
    private var backoff: Backoff
    private var pipeline: Pipeline?
    private var reader: BusReader?
    /// Counts builds; messages of an earlier one are ignored.
    private var generation = 0
    private var stopped = false

    /// `report` gets one line per failure (with the delay before the next try) and per recovery.
    init(label: String, backoff: Backoff, build: @escaping () throws -> Pipeline,
         onMessage: @escaping (BusMessage) -> Void = { _ in }, report: @escaping (String) -> Void) {
        self.label = label
        self.backoff = backoff
        self.build = build
        self.onMessage = onMessage
        self.report = report
    }

    /// Builds and plays the pipeline; a failure is reported and retried like any other.
    func start() {
        lock.lock()
        guard !stopped, pipeline == nil else { return lock.unlock() }
        generation += 1
        let current = generation
        lock.unlock()
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
        lock.lock()
        guard !stopped, generation == current else {
            lock.unlock()
            newReader.stop()
            return made.stop()
        }
        pipeline = made
        reader = newReader
        lock.unlock()
    }

    /// The pipeline works again (a segment was written, a frame arrived): the next failure
    /// waits the shortest delay again, and a recovery after failures is reported once.
    func succeeded() {
        lock.lock()
        let wasFailing = backoff.reset()
        lock.unlock()
        if wasFailing { report("\(label): recovered") }
    }

    /// Stops for good. `drain`, if given, runs first while the pipeline still plays (to end its
    /// streams and wait for the muxers to finish).
    func stop(drain: ((Pipeline) -> Void)? = nil) {
        lock.lock()
        stopped = true
        let running = pipeline
        let oldReader = reader
        lock.unlock()
        if let running { drain?(running) }
        running?.stop()
        oldReader?.stop()
        lock.lock()
        pipeline = nil
        reader = nil
        lock.unlock()
    }

    private func handle(_ message: BusMessage, from build: Int) {
        lock.lock()
        let isCurrent = build == generation && pipeline != nil
        lock.unlock()
        guard isCurrent else { return }
        if case .error(let error) = message { return failed(generation: build, because: error.message) }
        onMessage(message)
    }

    /// Tears down build `failedGeneration` (if it still runs) and schedules the next try.
    private func failed(generation failedGeneration: Int, because problem: String) {
        lock.lock()
        guard failedGeneration == generation, !stopped else { return lock.unlock() }
        let running = pipeline
        let oldReader = reader
        pipeline = nil
        reader = nil
        generation += 1  // this build's late messages are ignored from here on
        let delay = backoff.failed()
        lock.unlock()
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
