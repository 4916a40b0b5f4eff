import Foundation
import Logging
import Synchronization

/// This instance's part in the fleet that shares its store. Every second it renews its
/// leases (a mix removed elsewhere, or taken by another instance after its lease ran out, is
/// stopped here), says it is alive and how full, and claims mixes no live instance runs, as
/// many as it has room for: new ones placed by a full instance, and those of an instance that
/// died. Four times a second it applies what other instances recorded for its mixes. With
/// the SQLite store it is the only instance, and this brings its own mixes back at a restart.
final class FleetMember: Sendable {
    let name: String
    /// Where the instance's API and media inputs are reached, as others should use them.
    private let advertisedHost: String
    private let boundPort = Atomic<Int>(0)
    /// Tells a restarted process from the one before it under the same name.
    private let boot = UUID().uuidString
    private let store: any ArenaStore
    private let mixes: MixRegistry
    private let battles: BattleDesk
    private let callbacks: CallbackOutbox
    private let load: MachineLoad
    private let logger = Logger(label: "arena.fleet")
    private let state = Mutex(State())
    /// The loops still running, and what ends each one's wait at once (when the instance stops).
    private let loops = Mutex<(running: Int, wakeups: [Wakeup])>((0, []))
    /// Another instance recorded a change.
    private let changed = Wakeup()

    private struct State {
        var stopping = false
        /// When the last renewal that succeeded was sent.
        var lastRenewal = Date()
        /// Mixes claimed and being started.
        var adopting: Set<String> = []
        /// Another process took this instance's name: this one takes and renews nothing more.
        var evicted = false
        /// The mixes are being stopped because the leases ran out (once, until a renewal succeeds).
        var leasesLost = false
        /// What was last published of each mix: who is connected in it, or that it ended.
        var published: [String: MixReport] = [:]
    }

    init(name: String, advertisedHost: String, store: any ArenaStore, mixes: MixRegistry, battles: BattleDesk, callbacks: CallbackOutbox,
         load: MachineLoad) {
        self.name = name
        self.advertisedHost = advertisedHost
        self.store = store
        self.mixes = mixes
        self.battles = battles
        self.callbacks = callbacks
        self.load = load
    }

    /// This instance as it announces itself.
    private var record: InstanceRecord {
        InstanceRecord(id: name, apiURL: "http://\(advertisedHost):\(boundPort.load(ordering: .relaxed))", ingestHost: advertisedHost,
                       capacity: mixes.limit, running: mixes.held.count)
    }

    /// Takes this instance's name in the store. A process killed under the same name holds it
    /// until its lease runs out, so this waits up to that long; a live one keeps it (thrown).
    func join() async throws {
        let deadline = Date().addingTimeInterval(MixRegistry.leaseSeconds + 1)
        while true {
            do {
                return try await store.announce(record, boot: boot, leaseSeconds: MixRegistry.leaseSeconds)
            } catch is InstanceNameTaken where Date() < deadline {
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// The first claims, before the service answers calls (its own mixes after a restart come
    /// back before anyone can ask for them); then loops: leases every second, and, on a shared
    /// store, the changes recorded elsewhere (at once, or every quarter second) and a watchdog
    /// on the leases (a loop of its own, which waits for no store call).
    func start(port: Int) async {
        if boundPort.load(ordering: .relaxed) == 0 { boundPort.store(port, ordering: .relaxed) }
        load.sample()
        await renewAndClaim(adoptingInline: true)
        loop(every: 1) { [self] in
            load.sample()
            await renewAndClaim(adoptingInline: false)
        }
        // Woken at once when another instance records a change (PostgreSQL's LISTEN/NOTIFY).
        store.watchChanges { [changed] in changed.signal() }
        // With its own SQLite file no other instance records changes: nothing to watch or read.
        guard store.isShared else { return }
        loop(every: 0.25, wake: changed) { [self] in
            await stopMixesNoLongerHeld()
            await mixes.applyChangesFromElsewhere()
        }
        loop(every: 0.25) { [self] in stopMixesPastTheirLease() }
    }

    /// Runs `work` until the instance stops, then waits `seconds` or until `wake` (signals
    /// that came meanwhile count once: one round covers them all).
    private func loop(every seconds: Double, wake: Wakeup = Wakeup(), _ work: @escaping @Sendable () async -> Void) {
        loops.withLock {
            $0.running += 1
            $0.wakeups.append(wake)
        }
        Task(executorPreference: ServiceExecutor.shared) { [self] in
            defer { loops.withLock { $0.running -= 1 } }
            while !state.withLock({ $0.stopping }) {
                await work()
                await wake.wait(upTo: seconds)
            }
        }
    }

    /// Stops the mixes removed through another instance, or claimed by one after their lease
    /// ran out: within a quarter second (a removal wakes this loop at once).
    private func stopMixesNoLongerHeld() async {
        // Taken before the store is asked: each of these had its record in the store by then.
        let recorded = mixes.recorded
        guard !recorded.isEmpty else { return }
        do {
            let lost = Set(recorded).subtracting(try await store.mixesHeld(by: name, among: recorded))
            guard !lost.isEmpty else { return }
            logger.info("mixes removed or taken over elsewhere stop here: \(lost.sorted().joined(separator: ", "))")
            // Not waited for: finalising the outputs takes a while, and the changes of the other mixes must not.
            Task(executorPreference: ServiceExecutor.shared) { [mixes] in await mixes.stop(Array(lost)) }
        } catch {
            logger.error("the fleet's store: \(error)")
        }
    }

    /// Past its lease, as the last renewal sent counts it, another instance may run these mixes:
    /// two must never run one mix, so they stop here (whether or not a renewal is still waiting
    /// for an answer). With its own SQLite file an instance keeps its mixes.
    private func stopMixesPastTheirLease() {
        guard store.isShared, Date().timeIntervalSince(state.withLock { $0.lastRenewal }) > MixRegistry.leaseSeconds - 0.5 else { return }
        let held = mixes.all.map(\.id)
        guard !held.isEmpty, !state.withLock({ state in defer { state.leasesLost = true }; return state.leasesLost }) else { return }
        logger.error("leases not renewed for \(MixRegistry.leaseSeconds - 0.5) s: stopping this instance's mixes")
        Task(executorPreference: ServiceExecutor.shared) { [mixes] in await mixes.stop(held) }
    }

    /// The port the API listens on, once bound (announced from the next renewal on).
    func listening(on port: Int) {
        boundPort.store(port, ordering: .relaxed)
    }

    /// Whether this instance takes new mixes, and if not, why: it holds its leases and has room.
    var readiness: (ready: Bool, reason: String) {
        if Date().timeIntervalSince(state.withLock { $0.lastRenewal }) > 3 { return (false, "store unreachable") }
        if state.withLock({ $0.stopping }) { return (false, "stopping") }
        if let full = mixes.fullness { return (false, full) }
        return (true, "ready")
    }

    /// Ends the loops (waiting up to 5 s for a round under way).
    func stop() async {
        let wasStopping = state.withLock { state in
            defer { state.stopping = true }
            return state.stopping
        }
        guard !wasStopping else { return }
        for wakeup in loops.withLock({ $0.wakeups }) { wakeup.signal() }
        for _ in 0..<100 where loops.withLock({ $0.running }) > 0 { try? await Task.sleep(for: .milliseconds(50)) }
    }

    /// After the mixes stopped: leases ended (other instances may claim the mixes at once)
    /// and the name let go.
    func leave() async {
        do {
            try await store.releaseMixes(instance: name)
            try await store.leave(instance: name)
        } catch {
            logger.warning("leaving the fleet: \(error)")
        }
    }

    private func renewAndClaim(adoptingInline: Bool) async {
        guard !state.withLock({ $0.evicted }) else { return }
        let sent = Date()
        let adopting = state.withLock { $0.adopting }
        let held = mixes.held
        do {
            // On its own SQLite file nothing else claims, so after the first round its leases and
            // name need no renewing: an idle instance writes (and syncs) nothing each second.
            if !store.isShared, !adoptingInline {
                state.withLock { $0.lastRenewal = sent }
                try await claim(held: held, adopting: adopting, inline: false)
                return
            }
            do {
                try await store.announce(record, boot: boot, leaseSeconds: MixRegistry.leaseSeconds)
            } catch is InstanceNameTaken {
                state.withLock { $0.evicted = true }
                logger.error("another process took this instance's name: its mixes stop here")
                Task(executorPreference: ServiceExecutor.shared) { [mixes] in await mixes.stop(mixes.held) }
                return
            }
            try await store.renewLeases(instance: name, running: held + adopting, leaseSeconds: MixRegistry.leaseSeconds)
            state.withLock { state in
                state.lastRenewal = sent
                state.leasesLost = false
            }
            try await publishReports()
            try await claim(held: held, adopting: adopting, inline: adoptingInline)
        } catch {
            logger.error("the fleet's store: \(error)")
        }
    }

    /// Claims as many mixes as there is room for, and starts them (`inline`: one after another
    /// here, else each in a task of its own).
    private func claim(held: [String], adopting: Set<String>, inline: Bool) async throws {
        let room = mixes.room - adopting.count
        guard room > 0, !state.withLock({ $0.stopping }) else { return }
        for claimed in try await store.claimMixes(instance: name, running: held + adopting, limit: room, leaseSeconds: MixRegistry.leaseSeconds) {
            // Stopping meanwhile: the claim runs out (or the leaving instance releases it) and another takes it.
            guard !state.withLock({ $0.stopping }) else { return }
            state.withLock { _ = $0.adopting.insert(claimed.id) }
            if inline {
                await adopt(claimed)
                // Each start takes a while: the leases already held must not run out meanwhile.
                try await store.renewLeases(instance: name, running: mixes.held, leaseSeconds: MixRegistry.leaseSeconds)
            } else {
                Task(executorPreference: ServiceExecutor.shared) { [self] in await adopt(claimed) }
            }
        }
    }

    /// Publishes what changed of the mixes here: who is connected in a running mix (the first
    /// publication after a claim also tells the fleet the mix runs), and that a mix ended or failed.
    private func publishReports() async throws {
        let now = Dictionary(uniqueKeysWithValues: mixes.all.compactMap { entry -> (String, MixReport)? in
            switch entry.status {
            case .running: entry.mix.map { (entry.id, .connected($0.session.connected)) }
            case .ended, .failed: (entry.id, .ended(failure: entry.error))
            case .starting, .stopping: nil
            }
        })
        let before = state.withLock { $0.published }
        for (id, report) in now where before[id] != report { try await store.publish(report, mixId: id, instance: name) }
        state.withLock { $0.published = now }
    }

    /// Starts a claimed mix as it was, its battle and scores included; a mix that moved from
    /// another instance is announced (`mix.moved`), with where its inputs must now be sent.
    private func adopt(_ claimed: MixRecord) async {
        defer { state.withLock { _ = $0.adopting.remove(claimed.id) } }
        let log: (String) -> Void = { [logger] in logger.warning("\($0)") }
        let adopted = await mixes.adopt(claimed, log: log) { [battles] _ in
            do {
                try await battles.resume(mixId: claimed.id, log: log)
            } catch {
                log("mix '\(claimed.id)': its battle cannot resume: \(error)")
            }
        }
        guard let entry = adopted else { return }
        if let previous = claimed.owner, previous != name {
            logger.info("mix '\(claimed.id)' moved here from instance '\(previous)'", metadata: ["mix": "\(claimed.id)"])
            callbacks.mixMoved(mixId: claimed.id, from: previous, to: name, ingest: await MixIngest.json(mixId: claimed.id, spec: entry.spec, host: advertisedHost, store: store, dataFolder: mixes.dataFolder))
        }
    }
}
