import ArenaLayout
import ArenaMixer
import ArenaSession
import ArenaSpec
import CArenaMemory
import Foundation
import Synchronization

/// The live mixes the service runs, each on a thread of its own, by id.
final class MixRegistry: Sendable {
    private let entries = Mutex<[String: MixEntry]>([:])
    /// Mixes this instance claimed that would not start, with why.
    private let unstartable = Mutex<[String: String]>([:])
    /// This instance's name in the store.
    let instance: String
    /// How long a claim on a mix lasts unless renewed (every second).
    static let leaseSeconds = 4.0
    private let load: MachineLoad
    private let cpuLimit: Double?
    private let templates: TemplateLibrary
    let dataFolder: URL
    private let store: any ArenaStore
    private let onNotices: @Sendable (String, [Notice]) -> Void
    /// How many mixes may run here at once.
    let limit: Int
    private let allowPrivateAvatarHosts: Bool
    /// Where the mixes' files must be: in the data folder, symbolic links resolved.
    let access: FileAccess
    /// The files each mix here writes: no two write one.
    private let files = OutputFiles()

    /// `instance`: this instance's name in the store. `limit`: how many mixes may run at once;
    /// `cpuLimit`: past this share of the machine's CPU busy (`load`), it takes no more (nil: no such limit).
    /// `onNotices` gets every mix's outbound events with its id, as they happen.
    init(instance: String, templates: TemplateLibrary, dataFolder: URL, store: any ArenaStore, limit: Int, load: MachineLoad, cpuLimit: Double?,
         allowPrivateAvatarHosts: Bool, onNotices: @escaping @Sendable (String, [Notice]) -> Void) {
        self.instance = instance
        self.load = load
        self.cpuLimit = cpuLimit
        self.allowPrivateAvatarHosts = allowPrivateAvatarHosts
        access = .inside(dataFolder)
        self.templates = templates
        self.dataFolder = dataFolder.standardized
        self.limit = limit
        self.store = store
        self.onNotices = onNotices
    }

    /// Starts a mix this instance has just claimed (its own after a restart, or one whose
    /// instance died) as it was: its recorded changes (PATCHes, posted co-host, camera and mic
    /// events) are applied again in order. Battles come back from their own records, with their
    /// totals from the store (`BattleDesk.resume`), so battle and score events are not applied
    /// again here. A mix that no longer starts is reported and kept out (still held, so no
    /// other instance tries it).
    /// `resume` runs once the changes are applied, still before any other change: it brings
    /// the battle back (`BattleDesk.resume`).
    func adopt(_ record: MixRecord, log: (String) -> Void, resume: (MixEntry) async -> Void) async -> MixEntry? {
        if let running = local(record.id) { return running }  // made here, claimed before its record committed
        var entry: MixEntry?
        do {
            let (spec, plan) = try await offload { try self.prepare(record.spec) }
            let started = try await start(id: record.id, spec: spec, plan: plan, replaying: true)
            entry = started
            // Under the mix's change lock from before it runs: no change applies before the replay.
            try await started.serially { last in
                guard await started.waitForPipeline(), let mix = started.mix else { throw APIError(.conflict, "it did not start") }
                for change in try await store.mixChanges(mixId: record.id, after: last) {
                    do {
                        try await applyRecorded(change, to: started, mix: mix, battles: false)
                    } catch {
                        log("mix '\(record.id)': a recorded \(change.kind) no longer applies: \(error)")
                    }
                    last = change.number
                }
                await resume(started)
                started.replayed()
            }
            return started
        } catch {
            if let entry {
                entry.stopSoon()
                entries.withLock { if $0[record.id] === entry { $0[record.id] = nil } }
                files.release(entry)
            }
            unstartable.withLock { $0[record.id] = "\(error)" }
            log("mix '\(record.id)' cannot be started: \(error)")
            return nil
        }
    }

    /// The kind of change that tells a mix to show its battle's totals from the store again
    /// (its body is the battle's id): a score updated through another instance.
    static let totalsChange = "totals"

    /// Shows a battle's totals, read from the store now, in a mix; under its change lock, so
    /// the totals shown last are the latest read.
    func showTotals(of battleId: String, in entry: MixEntry) async -> [Notice] {
        await entry.serially { _ in
            guard let mix = entry.mix else { return [] }
            do {
                return try await applyTotals(of: battleId, to: mix)
            } catch {
                entry.warn("battle '\(battleId)': its totals cannot be shown: \(error)")
                return []
            }
        }
    }

    private func applyTotals(of battleId: String, to mix: RunningMix) async throws -> [Notice] {
        try await store.battleTotals(battleId: battleId).sorted { $0.key < $1.key }.flatMap { room, total -> [Notice] in
            // Only what changed: a room's score event is reported once per change. A room the mix
            // refuses (it left the battle here) does not hold up the others.
            guard let battle = mix.session.battle, battle.id == battleId, battle.allScores[room] != total else { return [] }
            return (try? mix.apply(.score(battleId: battleId, userId: room, value: total, op: .set))) ?? []
        }
    }

    /// Applies a recorded change (`battles`: battle and score events too).
    private func applyRecorded(_ change: MixChange, to entry: MixEntry, mix: RunningMix, battles: Bool) async throws {
        if change.kind == Self.totalsChange {
            if battles { _ = try await applyTotals(of: String(decoding: change.body, as: UTF8.self), to: mix) }
        } else if change.kind == "patch" {
            let change = try patch(change.body, spec: entry.spec)
            if let error = try await change.apply(to: mix, of: entry, files: files).error { throw error }
        } else {
            let event = try MixSpec.event(json: change.body, source: "a recorded event")
            if battles || !event.isBattleEvent { _ = try mix.apply(event) }
        }
    }

    /// Applies, in order, the changes other instances recorded for the mixes this one runs
    /// (events and PATCHes posted to them), each at most once. A mix busy with a change of its
    /// own is left for the next round.
    func applyChangesFromElsewhere() async {
        for entry in all {
            do {
                try await entry.ifIdle { last in
                    guard let mix = entry.mix else { return }
                    try await catchUp(entry, mix: mix, before: .max, last: &last)
                }
            } catch {
                entry.warn("recorded changes cannot be read: \(error)")
            }
        }
    }

    /// Applies the changes recorded after `last` and before `number`, moving `last` on.
    private func catchUp(_ entry: MixEntry, mix: RunningMix, before number: Int64, last: inout Int64) async throws {
        for change in try await store.mixChanges(mixId: entry.id, after: last) where change.number < number {
            do {
                try await applyRecorded(change, to: entry, mix: mix, battles: true)
            } catch {
                entry.warn("a \(change.kind) posted through another instance did not apply: \(error)")
            }
            last = change.number
        }
    }

    /// Before change `number` applies: the earlier ones recorded elsewhere. If they cannot be
    /// read, `number` is forgotten (the caller is answered 503, and nothing happened).
    private func catchUpOrForget(_ number: Int64, _ entry: MixEntry, mix: RunningMix, last: inout Int64) async throws {
        do {
            try await catchUp(entry, mix: mix, before: number, last: &last)
        } catch {
            try? await store.forgetMixChange(number)
            throw error
        }
        last = number
    }

    /// `POST /v1/mixes/{id}/events`: records `event` (sent as `body`), then applies it, after
    /// any change already under way; an event the mix refuses is forgotten again. For a mix
    /// another instance runs, the event is recorded for it to apply, and nil is returned.
    func post(_ event: SessionEvent, body: Data, to id: String) async throws -> [Notice]? {
        guard let entry = taking(id) else {
            guard try await store.recordMixChange(mixId: id, kind: "event", body: body) != nil else { throw APIError(.notFound, "no mix '\(id)'") }
            return nil
        }
        // Waited for before taking the change lock: each change queued behind it gets its own 10 s.
        guard await entry.waitUntilRunning() else { throw entry.refusal }
        return try await entry.serially { last in
            let mix = try entry.mixTakingChanges()
            guard let number = try await store.recordMixChange(mixId: id, kind: "event", body: body) else { throw APIError(.notFound, "no mix '\(id)'") }
            try await catchUpOrForget(number, entry, mix: mix, last: &last)
            do {
                return try mix.apply(event)
            } catch {
                try? await store.forgetMixChange(number)
                throw APIError(.conflict, "\(error)")
            }
        }
    }

    /// The share of the machine's CPU busy, 0 to 1.
    var cpuBusy: Double { load.busy }

    /// Why this instance takes no new mix, if it does not.
    var fullness: String? {
        if running >= limit { return "full" }
        return cpuIsBusy ? "cpu busy" : nil
    }

    /// Mixes this instance runs or is starting.
    var running: Int { entries.withLock { $0.values.filter(\.holdsASlot).count } }
    /// How many more mixes this instance would take now.
    var room: Int { cpuIsBusy ? 0 : max(0, limit - running) }

    private var cpuIsBusy: Bool { cpuLimit.map { load.busy >= $0 } ?? false }

    /// Checks `spec` (a mix spec, as for `arena run`; relative paths are taken from the data
    /// folder), records it and then starts it under `id`: a mix never runs unrecorded. When
    /// this instance is full and another has room, the mix is recorded unplaced (another
    /// instance claims it within a second) and nil is returned.
    func create(id: String, spec data: Data) async throws -> MixEntry? {
        let (spec, plan) = try await offload { try self.prepare(data) }
        let exists = APIError(.conflict, "mix '\(id)' already exists")
        guard try await store.mix(id: id) == nil else { throw exists }
        if fullness != nil {
            guard try await store.liveInstances().contains(where: { $0.id != instance && $0.running < $0.capacity }) else {
                try checkLimit(counting: all)
                throw APIError(.conflict, "this machine's CPU is \(Int(load.busy * 100)) % busy, past the limit set; stop a mix first")
            }
            guard try await store.saveMix(id: id, spec: data, owner: nil, leaseSeconds: 0) else { throw exists }
            return nil
        }
        return try await start(id: id, spec: spec, plan: plan, replaying: false) {
            guard try await store.saveMix(id: id, spec: data, owner: instance, leaseSeconds: Self.leaseSeconds) else { throw exists }
        }
    }

    /// Parses and checks a spec, and plans its mix (which may probe its input files: blocking).
    private func prepare(_ data: Data) throws -> (MixSpec, MixPlan) {
        var parsed: MixSpec
        do {
            parsed = try MixSpec.parse(data, source: "body", baseDirectory: dataFolder)
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        try confine(parsed)
        if parsed.allowPrivateAvatarHosts {
            throw APIError(.unprocessableContent, "overlays.allowPrivateAvatarHosts is the operator's to set (arena serve --allow-private-avatar-hosts), not a posted spec's")
        }
        parsed.allowPrivateAvatarHosts = allowPrivateAvatarHosts
        do {
            return (parsed, try MixPlan(spec: parsed, templates: templates, live: true, access: access))
        } catch {
            throw APIError(.unprocessableContent, "\(error)")
        }
    }

    /// Registers and starts a checked mix. `record` runs once the mix is registered, before
    /// it starts; if it throws, the mix is dropped.
    /// `replaying`: a taken-over mix, `starting` until its recorded changes are applied again.
    private func start(id: String, spec: MixSpec, plan: MixPlan, replaying: Bool, record: () async throws -> Void = {}) async throws -> MixEntry {
        let entry = MixEntry(id: id, spec: spec, plan: plan, replaying: replaying) { [onNotices] in onNotices(id, $0) }
        let places = OutputFiles.places(of: spec.outputs)
        // Checked again where the entry is added: two creates at once cannot both pass the limit.
        // Lock order: the registry's Mutex, then an entry's.
        try entries.withLock { entries in
            if let earlier = entries[id] {
                throw APIError(.conflict, earlier.isStopping ? "mix '\(id)' is still finalising its outputs here; try again in a few seconds"
                                                             : "mix '\(id)' already exists")
            }
            try checkLimit(counting: Array(entries.values))
            // A mix taken over was accepted where it was made (and its recorded PATCHes may have moved its outputs).
            try files.register(entry, places: places, checked: !replaying)
            entries[id] = entry
        }
        do {
            try await record()
        } catch {
            entry.drop()  // a change or a removal that found it meanwhile is answered at once
            entries.withLock { if $0[id] === entry { $0[id] = nil } }
            files.release(entry)
            throw error
        }
        entry.start()
        return entry
    }

    private func checkLimit(counting entries: [MixEntry]) throws {
        let running = entries.filter(\.holdsASlot).count
        guard running < limit else { throw APIError(.conflict, "the service runs \(running) mixes, its limit; stop one first") }
    }

    /// `PATCH /v1/mixes/{id}`: `{template? or layout?, decorations?, outputs?, addHosts?}` change a running mix's layout
    /// (a template or cells) and decorations from its next frame, its outputs (removed ones are finalised, new ones start
    /// at the next keyframe), and add hosts (with RTP inputs; they join when a `hostJoined` event is posted; hosts are
    /// not removed: post `hostLeft`). The change is recorded before the answer, so a restart applies it again. For a mix
    /// another instance runs, the checked change is recorded for it to apply, and nil returned.
    func update(_ id: String, body: Data) async throws -> MixEntry? {
        guard let entry = taking(id) else {
            guard let record = try await store.mix(id: id) else { throw APIError(.notFound, "no mix '\(id)'") }
            let spec = try await offload { try self.prepare(record.spec).0 }
            _ = try patch(body, spec: spec)
            guard try await store.recordMixChange(mixId: id, kind: "patch", body: body) != nil else { throw APIError(.notFound, "no mix '\(id)'") }
            return nil
        }
        let change = try patch(body, spec: entry.spec)
        guard await entry.waitUntilRunning() else { throw entry.refusal }
        try await entry.serially { last in
            let mix = try entry.mixTakingChanges()
            // Files another mix writes are refused (409) before anything is recorded; what it writes is settled however it ends.
            if let outputs = change.outputs { try files.add(outputs, for: entry) }
            defer { if change.outputs != nil { files.settle(entry, to: mix.outputs) } }
            // Recorded before it is applied. A change refused before any part of it applied is
            // forgotten; one refused partway stays, and a restart applies it as far again.
            guard let number = try await store.recordMixChange(mixId: id, kind: "patch", body: body) else { throw APIError(.notFound, "no mix '\(id)'") }
            try await catchUpOrForget(number, entry, mix: mix, last: &last)
            let outcome: (applied: Bool, error: MixError?)
            do {
                outcome = try await change.apply(to: mix, of: entry, files: files)
            } catch {
                try? await store.forgetMixChange(number)  // a file another mix took meanwhile
                throw error
            }
            if let error = outcome.error {
                if !outcome.applied { try? await store.forgetMixChange(number) }
                if case .ended = error { throw APIError(.conflict, "mix '\(id)' is not running") }
                throw APIError(.unprocessableContent, "\(error)")
            }
        }
        return entry
    }

    private func patch(_ body: Data, spec: MixSpec) throws -> MixPatch {
        try MixPatch(body, spec: spec, templates: templates, dataFolder: dataFolder) { outputs, hosts in
            try confine(outputs)
            for (index, host) in hosts.enumerated() { try confineAvatar(of: host, field: "addHosts[\(index)]") }
        }
    }

    func entry(_ id: String) throws -> MixEntry {
        guard let entry = entries.withLock({ $0[id] }) else { throw APIError(.notFound, "no mix '\(id)'") }
        return entry
    }

    /// The mix if this instance runs it.
    func local(_ id: String) -> MixEntry? { entries.withLock { $0[id] } }

    /// The mix here that changes to `id` go to: not one stopping (removed, or taken over by
    /// another instance, while its outputs finalise), whose changes go through the store.
    private func taking(_ id: String) -> MixEntry? { local(id).flatMap { $0.isStopping ? nil : $0 } }

    var all: [MixEntry] { entries.withLock { $0.values.sorted { $0.createdAt < $1.createdAt } } }

    /// Ids of the mixes this instance holds: those it runs, and those it claimed that would not start.
    var held: [String] { entries.withLock { Array($0.keys) } + unstartable.withLock { Array($0.keys) } }

    /// Ids of the mixes held here whose records were surely in the store: not one starting (a create's may not be yet) or stopping.
    var recorded: [String] {
        entries.withLock { $0.values.filter { ![.starting, .stopping].contains($0.status) }.map(\.id) } + unstartable.withLock { Array($0.keys) }
    }

    /// Why a mix this instance claimed would not start, if it did not.
    func startFailure(_ id: String) -> String? { unstartable.withLock { $0[id] } }

    /// Stops and forgets a mix wherever it runs (that instance is woken and stops it at once); returns the entry if it ran here.
    func remove(_ id: String) async throws -> MixEntry? {
        guard let entry = local(id) else {
            guard try await store.mix(id: id) != nil else { throw APIError(.notFound, "no mix '\(id)'") }
            try await store.removeMix(id: id, heldBy: nil)
            unstartable.withLock { _ = $0.removeValue(forKey: id) }
            return nil
        }
        // A create may still be writing its record (none to remove yet, on PostgreSQL); once the mix has ended the
        // create has written it or failed, and it is removed for good, unless made again elsewhere meanwhile.
        let creating = entry.status == .starting
        try await store.removeMix(id: id, heldBy: nil)
        await stop([id])
        if creating { try await store.removeMix(id: id, heldBy: instance) }
        return entry
    }

    /// Stops mixes here without forgetting them in the store: they were removed through another
    /// instance, or another instance holds them now.
    func stop(_ ids: [String]) async {
        let gone = entries.withLock { entries in ids.compactMap { entries[$0] } }
        unstartable.withLock { for id in ids { $0[id] = nil } }
        await withTaskGroup(of: Void.self) { group in
            for entry in gone { group.addTask { await entry.stop() } }
        }
        entries.withLock { entries in
            for entry in gone where entries[entry.id] === entry {
                entries[entry.id] = nil
                files.release(entry)
            }
        }
        // What the mix's threads freed goes back to the system, not kept in malloc's arenas
        // (where `make soak` saw a service that had run many mixes hold 200 MB more, idle).
        await offload { arena_release_free_memory() }
    }

    /// Stops every mix at once, finalising their outputs.
    func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for entry in all { group.addTask { await entry.stop() } }
        }
    }
}
