import ArenaMixer
import ArenaSession
import ArenaSpec
import Foundation
import Logging
import Synchronization

/// One mix of the service, running on a thread of its own, or ended: its plan, the running
/// mix while it runs, its recent events and warnings, and who listens for its events.
final class MixEntry: Sendable {
    let id: String
    /// The spec it was made from (a PATCH is checked against it) and the plan it runs.
    let spec: MixSpec
    let plan: MixPlan
    let createdAt: Date
    private let onNotices: @Sendable ([Notice]) -> Void
    private let logger = Logger(label: "arena.mix")
    private let state: Mutex<State>

    private struct State {
        var running: RunningMix?
        /// A mix taken over from an instance that died (or this one, restarted) applies its
        /// recorded changes again before it counts as running.
        var replaying: Bool
        var stopRequested = false
        var ended = false
        var failure: String?
        var history: [Notice] = []
        var recentWarnings: [String] = []
        var listeners: [UUID: AsyncStream<Notice>.Continuation] = [:]
        /// Callers of `stop()` waiting for the mix to end.
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }
    /// Held while a change is recorded and applied, so that changes are applied in the order
    /// the store has them (a restart applies them again in that order); it holds the number of
    /// the last recorded change applied (or refused).
    private let changing = SerialLock<Int64>(0)

    /// `replaying`: it is `starting` until `replayed()`, not only until its pipeline runs.
    init(id: String, spec: MixSpec, plan: MixPlan, replaying: Bool, onNotices: @escaping @Sendable ([Notice]) -> Void) {
        state = Mutex(State(replaying: replaying))
        self.id = id
        self.spec = spec
        self.plan = plan
        self.onNotices = onNotices
        createdAt = Date()
    }

    /// The mix while it runs; nil before it starts and after it ends.
    var mix: RunningMix? { state.withLock { $0.running } }

    func start() {
        Thread { [self] in
            do {
                try LiveRun(plans: [plan]).run(
                    started: { [weak self] mixes in self?.state.withLock { $0.running = mixes.first } },
                    notices: { [weak self] _, new in self?.publish(new) },
                    warning: { [weak self] text in self?.warn(text) },
                    stopped: { [weak self] in self?.state.withLock { $0.stopRequested } ?? true })
            } catch {
                logger.error("the mix failed: \(error)", metadata: ["mix": "\(id)"])
                state.withLock { $0.failure = "\(error)" }
            }
            markEnded()
        }.start()
    }

    /// A mix dropped before it started (its record could not be written): ended, so that a
    /// removal waiting for it to stop returns at once, and refused to changes that found it.
    func drop() {
        stopSoon()
        markEnded()
    }

    private func markEnded() {
        let (open, waiting) = state.withLock { state in
            state.ended = true
            state.running = nil
            defer { state.waiters = [:] }
            return (Array(state.listeners.values), Array(state.waiters.values))
        }
        for listener in open { listener.finish() }
        for waiter in waiting { waiter.resume() }
    }

    /// The mix's outbound events from now on, until it ends or the reader goes away.
    func events() -> AsyncStream<Notice> {
        let (stream, continuation) = AsyncStream<Notice>.makeStream(bufferingPolicy: .bufferingNewest(1_000))
        let id = UUID()
        let isOver = state.withLock { state in
            if !state.ended { state.listeners[id] = continuation }
            return state.ended
        }
        if isOver { continuation.finish() }
        continuation.onTermination = { [weak self] _ in self?.state.withLock { $0.listeners[id] = nil } }
        return stream
    }

    private func publish(_ new: [Notice]) {
        let open = state.withLock { state in
            state.history += new
            if state.history.count > 10_000 { state.history.removeFirst(state.history.count - 10_000) }
            return Array(state.listeners.values)
        }
        for listener in open { for notice in new { listener.yield(notice) } }
        onNotices(new)
    }

    /// Logs a warning and keeps it among the mix's recent ones.
    func warn(_ text: String) {
        logger.warning("\(text)", metadata: ["mix": "\(id)"])
        state.withLock { $0.recentWarnings = Array($0.recentWarnings.suffix(19)) + [text] }
    }

    /// How long a change (or a battle) posted while a mix starts waits for it.
    static let startWait = Duration.seconds(10)

    /// Waits until the mix runs (its recorded changes applied again, if it was taken over), so
    /// that changes can apply, or until `deadline` (10 s from now unless given): false at once
    /// if it ended or was asked to stop, and false if it is still starting then.
    func waitUntilRunning(deadline: ContinuousClock.Instant = .now + startWait) async -> Bool {
        await wait(until: deadline) { $0.running != nil && !$0.replaying }
    }

    /// Waits (10 s at most) until its pipeline runs: a taken-over mix, to apply its recorded changes again.
    func waitForPipeline() async -> Bool {
        await wait(until: .now + Self.startWait) { $0.running != nil }
    }

    /// Its recorded changes are applied again: it runs.
    func replayed() {
        state.withLock { $0.replaying = false }
    }

    /// Polls until `ready` holds (true), it ended or was asked to stop, or `deadline` (false).
    /// A cancelled caller still waits.
    private func wait(until deadline: ContinuousClock.Instant, for ready: @escaping @Sendable (State) -> Bool) async -> Bool {
        await Task(executorPreference: ServiceExecutor.shared) {
            while true {
                let (running, over) = self.state.withLock { (ready($0), $0.ended || $0.stopRequested) }
                if running { return true }
                if over || ContinuousClock.now >= deadline { return false }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }.value
    }

    /// The running mix, to change (under `serially`); throws `refusal` if it does not take changes.
    func mixTakingChanges() throws -> RunningMix {
        guard let mix = state.withLock({ $0.stopRequested ? nil : $0.running }) else { throw refusal }
        return mix
    }

    /// Why a change to this mix is refused (409): it is still starting, or it does not run.
    var refusal: APIError {
        APIError(.conflict, status == .starting ? "mix '\(id)' is still starting; try again" : "mix '\(id)' is not running")
    }

    /// Stops the mix and waits (up to 30 s) for its outputs to be finalised, holding no
    /// thread meanwhile; a cancelled caller (a service shutting down) still waits.
    func stop() async {
        state.withLock { $0.stopRequested = true }
        // An unstructured task: it does not inherit the caller's cancellation.
        await Task(executorPreference: ServiceExecutor.shared) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.ended() }
                group.addTask { try? await Task.sleep(for: .seconds(30)) }
                await group.next()
                group.cancelAll()
            }
        }.value
    }

    /// Whether the mix was asked to stop (it may still be finalising its outputs).
    var isStopping: Bool { state.withLock { $0.stopRequested } }

    /// Returns once the mix has ended, or the task is cancelled.
    private func ended() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state in
                    if state.ended || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Runs `change` (record it, then apply it) after any change already under way; it gets
    /// the number of the last recorded change applied, to move on.
    func serially<T>(_ change: (inout Int64) async throws -> T) async rethrows -> T {
        try await changing.withLock { try await change(&$0) }
    }

    /// Runs `change` as `serially` does, unless a change is under way (then nothing).
    func ifIdle(_ change: (inout Int64) async throws -> Void) async rethrows {
        try await changing.withLockIfAvailable { try await change(&$0) }
    }

    /// Asks the mix to stop, without waiting.
    func stopSoon() {
        state.withLock { $0.stopRequested = true }
    }

    /// Where a mix is in its life, as `GET /v1/mixes` and `arena_mixes` say it.
    enum Status: String, CaseIterable {
        /// Until its pipeline runs (and, taken over, its recorded changes are applied again).
        case starting
        case running
        /// Asked to stop; its outputs are being finalised.
        case stopping
        case ended
        case failed
    }

    var status: Status {
        state.withLock { state in
            if state.ended { return state.failure == nil ? .ended : .failed }
            if state.stopRequested { return .stopping }
            return state.running == nil || state.replaying ? .starting : .running
        }
    }
    /// Whether it counts against the instance's mix limit: starting or running.
    var holdsASlot: Bool { [.starting, .running].contains(status) }
    var error: String? { state.withLock { $0.failure } }
    /// The latest 10,000 outbound events.
    var notices: [Notice] { state.withLock { $0.history } }
    var warnings: [String] { state.withLock { $0.recentWarnings } }
}
