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
    private let finished = DispatchGroup()

    private struct State {
        var stopping = false
        /// When the last renewal that succeeded was sent.
        var lastRenewal = Date()
        /// Mixes claimed and being started.
        var adopting: Set<String> = []
        /// Mixes the last renewal did not find held.
        var missing: Set<String> = []
        /// Another process took this instance's name: this one takes and renews nothing more.
        var evicted = false
        /// Who was connected in each mix when last published.
        var published: [String: [String]] = [:]
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
    func join() throws {
        let deadline = Date().addingTimeInterval(MixRegistry.leaseSeconds + 1)
        while true {
            do {
                return try store.announce(record, boot: boot, leaseSeconds: MixRegistry.leaseSeconds)
            } catch is InstanceNameTaken where Date() < deadline {
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    /// The first claims, before the service answers calls (its own mixes after a restart come
    /// back before anyone can ask for them); then two threads: leases every second, and, on a
    /// shared store, the changes recorded elsewhere (at once, or every quarter second) and a
    /// watchdog on the leases.
    func start(port: Int) {
        if boundPort.load(ordering: .relaxed) == 0 { boundPort.store(port, ordering: .relaxed) }
        load.sample()
        renewAndClaim(adoptingInline: true)
        loop(every: 1) { [self] in
            load.sample()
            renewAndClaim(adoptingInline: false)
        }
        // Woken at once when another instance records a change (PostgreSQL's LISTEN/NOTIFY).
        let changed = DispatchSemaphore(value: 0)
        store.watchChanges { changed.signal() }
        // With its own SQLite file no other instance records changes: nothing to watch or read.
        guard store.isShared else { return }
        loop(every: 0.25, wake: changed) { [self] in
            stopMixesPastTheirLease()
            mixes.applyChangesFromElsewhere()
        }
    }

    private func loop(every seconds: Double, wake: DispatchSemaphore? = nil, _ work: @escaping @Sendable () -> Void) {
        finished.enter()
        Thread { [self] in
            defer { finished.leave() }
            while !state.withLock({ $0.stopping }) {
                work()
                if let wake {
                    _ = wake.wait(timeout: .now() + seconds)
                    while wake.wait(timeout: .now()) == .success {}  // one round covers every wake-up so far
                } else {
                    Thread.sleep(forTimeInterval: seconds)
                }
            }
        }.start()
    }

    /// Past its lease, as the last renewal sent counts it, another instance may run these mixes:
    /// two must never run one mix, so they stop here (whether or not a renewal is still waiting
    /// for an answer). With its own SQLite file an instance keeps its mixes.
    private func stopMixesPastTheirLease() {
        guard store.isShared, Date().timeIntervalSince(state.withLock { $0.lastRenewal }) > MixRegistry.leaseSeconds - 0.5 else { return }
        let held = mixes.all.map(\.id)
        guard !held.isEmpty else { return }
        logger.error("leases not renewed for \(MixRegistry.leaseSeconds - 0.5) s: stopping this instance's mixes")
        Task { await mixes.stop(held) }
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

    /// Ends the loop, then (once the mixes have stopped) lets other instances claim them at once.
    func stop() {
        let wasStopping = state.withLock { state in
            defer { state.stopping = true }
            return state.stopping
        }
        guard !wasStopping else { return }
        _ = finished.wait(timeout: .now() + 5)
    }

    /// After the mixes stopped: leases ended and the name let go.
    func leave() {
        do {
            try store.releaseMixes(instance: name)
            try store.leave(instance: name)
        } catch {
            logger.warning("leaving the fleet: \(error)")
        }
    }

    private func renewAndClaim(adoptingInline: Bool) {
        guard !state.withLock({ $0.evicted }) else { return }
        let sent = Date()
        let adopting = state.withLock { $0.adopting }
        let held = mixes.held
        do {
            // On its own SQLite file nothing else claims, so after the first round its leases and
            // name need no renewing: an idle instance writes (and syncs) nothing each second.
            if !store.isShared, !adoptingInline {
                state.withLock { $0.lastRenewal = sent }
                try claim(held: held, adopting: adopting, inline: false)
                return
            }
            do {
                try store.announce(record, boot: boot, leaseSeconds: MixRegistry.leaseSeconds)
            } catch is InstanceNameTaken {
                state.withLock { $0.evicted = true }
                logger.error("another process took this instance's name: its mixes stop here")
                Task { await mixes.stop(mixes.held) }
                return
            }
            let renewed = Set(try store.renewLeases(instance: name, running: held + adopting, leaseSeconds: MixRegistry.leaseSeconds))
            // Given up after two renewals in a row miss it: the first may be a create whose record has not committed yet.
            let missing = Set(held).subtracting(renewed)
            let lost = state.withLock { state in
                state.lastRenewal = sent
                defer { state.missing = missing }
                return missing.intersection(state.missing)
            }
            if !lost.isEmpty {
                logger.info("mixes removed or taken over elsewhere stop here: \(lost.sorted().joined(separator: ", "))")
                Task { await mixes.stop(Array(lost)) }
            }
            try publishConnected()
            try claim(held: held, adopting: adopting, inline: adoptingInline)
        } catch {
            logger.error("the fleet's store: \(error)")
        }
    }

    /// Claims as many mixes as there is room for, and starts them (`inline`: one after another
    /// on this thread, else each on a thread of its own).
    private func claim(held: [String], adopting: Set<String>, inline: Bool) throws {
        let room = mixes.room - adopting.count
        for claimed in try store.claimMixes(instance: name, running: held + adopting, limit: room, leaseSeconds: MixRegistry.leaseSeconds) {
            state.withLock { _ = $0.adopting.insert(claimed.id) }
            if inline {
                adopt(claimed)
                // Each start takes a while: the leases already held must not run out meanwhile.
                _ = try store.renewLeases(instance: name, running: mixes.held, leaseSeconds: MixRegistry.leaseSeconds)
            } else {
                Thread { [self] in adopt(claimed) }.start()
            }
        }
    }

    /// Publishes, for the mixes whose connected rooms changed, who is connected now.
    private func publishConnected() throws {
        let now = Dictionary(uniqueKeysWithValues: mixes.all.compactMap { entry in entry.mix.map { (entry.id, $0.session.connected) } })
        let before = state.withLock { $0.published }
        for (id, rooms) in now where before[id] != rooms { try store.publishConnected(mixId: id, rooms: rooms) }
        state.withLock { $0.published = now }
    }

    /// Starts a claimed mix as it was, its battle and scores included; a mix that moved from
    /// another instance is announced (`mix.moved`), with where its inputs must now be sent.
    private func adopt(_ claimed: MixRecord) {
        defer { state.withLock { _ = $0.adopting.remove(claimed.id) } }
        let log: (String) -> Void = { [logger] in logger.warning("\($0)") }
        let adopted = mixes.adopt(claimed, log: log) { [battles] _ in
            do {
                try battles.resume(mixId: claimed.id, log: log)
            } catch {
                log("mix '\(claimed.id)': its battle cannot resume: \(error)")
            }
        }
        guard let entry = adopted else { return }
        if let previous = claimed.owner, previous != name {
            logger.info("mix '\(claimed.id)' moved here from instance '\(previous)'", metadata: ["mix": "\(claimed.id)"])
            callbacks.mixMoved(mixId: claimed.id, from: previous, to: name, ingest: MixIngest.json(mixId: claimed.id, spec: entry.spec, host: advertisedHost, store: store, dataFolder: mixes.dataFolder))
        }
    }
}
