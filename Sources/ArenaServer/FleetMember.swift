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
    private let state = Mutex<(stopping: Bool, lastRenewal: Date, adopting: Set<String>)>((false, Date(), []))
    private let finished = DispatchSemaphore(value: 0)

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
            } catch let error as StoreError where Date() < deadline && error.message.contains("is alive") {
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    /// The first claims, before the service answers calls (its own mixes after a restart come
    /// back before anyone can ask for them); then the loop, on a thread of its own.
    func start(port: Int) {
        if boundPort.load(ordering: .relaxed) == 0 { boundPort.store(port, ordering: .relaxed) }
        load.sample()
        renewAndClaim(adoptingInline: true)
        Thread { [self] in
            defer { finished.signal() }
            var nextRenewal = Date().addingTimeInterval(1)
            while !state.withLock({ $0.stopping }) {
                if Date() >= nextRenewal {
                    nextRenewal = Date().addingTimeInterval(1)
                    load.sample()
                    renewAndClaim(adoptingInline: false)
                }
                mixes.applyChangesFromElsewhere()
                Thread.sleep(forTimeInterval: 0.25)
            }
        }.start()
    }

    /// The port the API listens on, once bound (announced from the next renewal on).
    func listening(on port: Int) {
        boundPort.store(port, ordering: .relaxed)
    }

    /// Whether this instance takes new mixes, and if not, why: it holds its leases and has room.
    var readiness: (ready: Bool, reason: String) {
        if Date().timeIntervalSince(state.withLock { $0.lastRenewal }) > 2 * 1.0 + 1 { return (false, "store unreachable") }
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
        let held = mixes.held
        do {
            let renewed = try store.renewLeases(instance: name, running: held, leaseSeconds: MixRegistry.leaseSeconds)
            state.withLock { $0.lastRenewal = Date() }
            let adopting = state.withLock { $0.adopting }
            let lost = held.filter { !renewed.contains($0) && !adopting.contains($0) }
            if !lost.isEmpty {
                logger.info("mixes removed or taken over elsewhere stop here: \(lost.sorted().joined(separator: ", "))")
                Task { await mixes.stop(lost) }
            }
            try store.announce(record, boot: boot, leaseSeconds: MixRegistry.leaseSeconds)
            let room = mixes.room - adopting.count
            for claimed in try store.claimMixes(instance: name, running: held + adopting, limit: room, leaseSeconds: MixRegistry.leaseSeconds) {
                if adoptingInline {
                    adopt(claimed)
                } else {
                    state.withLock { _ = $0.adopting.insert(claimed.id) }
                    Thread { [self] in adopt(claimed) }.start()
                }
            }
        } catch {
            logger.error("the fleet's store: \(error)")
            // Past its lease another instance may run these mixes: two must never run one mix.
            if store.isShared, Date().timeIntervalSince(state.withLock { $0.lastRenewal }) > MixRegistry.leaseSeconds, !held.isEmpty {
                logger.error("leases not renewed for \(Int(MixRegistry.leaseSeconds)) s: stopping this instance's mixes")
                Task { await mixes.stop(held) }
            }
        }
    }

    /// Starts a claimed mix as it was, its battle and scores included; a mix that moved from
    /// another instance is announced (`mix.moved`), with where its inputs must now be sent.
    private func adopt(_ claimed: MixRecord) {
        defer { state.withLock { _ = $0.adopting.remove(claimed.id) } }
        let log: (String) -> Void = { [logger] in logger.warning("\($0)") }
        guard let entry = mixes.adopt(claimed, log: log) else { return }
        do {
            try battles.resume(mixId: claimed.id, log: log)
            try mixes.replayScoreEvents(entry, log: log)
        } catch {
            log("mix '\(claimed.id)': its battle cannot resume: \(error)")
        }
        if let previous = claimed.owner, previous != name {
            logger.info("mix '\(claimed.id)' moved here from instance '\(previous)'")
            callbacks.mixMoved(mixId: claimed.id, from: previous, to: name, ingest: MixIngest.json(mixId: claimed.id, spec: entry.spec, host: advertisedHost, store: store, dataFolder: mixes.dataFolder))
        }
    }
}
