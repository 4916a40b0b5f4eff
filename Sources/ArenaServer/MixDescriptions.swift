import ArenaSpec
import Foundation

/// How the API shows a mix: one this instance runs from its running state; one another
/// instance runs (or none yet) from the store. Either way with the instance that runs it and
/// where its inputs must be sent.
struct MixDescriptions: Sendable {
    let mixes: MixRegistry
    let store: any ArenaStore
    let advertisedHost: String

    /// A mix stopping here because it was removed or taken over through another instance is
    /// described as the store has it (gone: 404; moved: where it runs now), not as "stopping"
    /// for as long as its outputs take to finalise. When the store cannot be read (the reason
    /// mixes stop when leases lapse), a stopping mix is described as it is here.
    func describe(_ id: String, _ entry: MixEntry?) async throws -> JSON {
        if let entry, !entry.isStopping { return await describe(entry) }
        let record: MixRecord?
        do {
            record = try await store.mix(id: id)
        } catch {
            guard let entry else { throw error }
            return await describe(entry)
        }
        guard let record else { throw APIError(.notFound, "no mix '\(id)'") }
        if let entry, record.owner == mixes.instance { return await describe(entry) }
        return await describe(record, live: try await store.liveInstances())
    }

    /// Every mix of the fleet: this instance's first, then the others', oldest first.
    func describeAll() async throws -> [JSON] {
        let records = try await store.mixes()
        let owners = Dictionary(records.map { ($0.id, $0.owner) }, uniquingKeysWith: { first, _ in first })
        let here = mixes.all.filter { !$0.isStopping || owners[$0.id] == mixes.instance }
        let describedHere = Set(here.map(\.id))
        var all: [JSON] = []
        for entry in here { all.append(await describe(entry)) }
        let live = try await store.liveInstances()
        for record in records where !describedHere.contains(record.id) { all.append(await describe(record, live: live)) }
        return all
    }

    func describe(_ entry: MixEntry) async -> JSON {
        var fields: [(String, JSON)] = [("id", .string(entry.id)), ("state", .string(entry.status.rawValue)), ("instance", .string(mixes.instance))]
        if let session = entry.mix?.session {
            fields.append(("owner", .string(session.owner)))
            fields.append(("connected", .array(session.connected.map(JSON.string))))
            if let battle = session.battle { fields.append(("battleId", .string(battle.id))) }
        }
        if let outputs = entry.mix?.outputs { fields.append(("outputs", .array(outputs.map { .string($0.label) }))) }
        let status = entry.mix?.status
        // Per RTP host: milliseconds its picture was broken (a loss or decoder error until the next whole picture).
        if let broken = status?.brokenPictureSeconds, !broken.isEmpty { fields.append(("brokenPictureMs", Self.milliseconds(broken))) }
        // Per live host: milliseconds later than its own time it is shown (its frames come in that late).
        if let delays = status?.inputDelaySeconds, !delays.isEmpty { fields.append(("inputDelayMs", Self.milliseconds(delays))) }
        if let error = entry.error { fields.append(("error", .string(error))) }
        fields.append(("ingest", await MixIngest.json(mixId: entry.id, spec: entry.spec, host: advertisedHost, store: store, dataFolder: mixes.dataFolder)))
        fields.append(("warnings", .array(entry.warnings.map(JSON.string))))
        return .object(fields)
    }

    /// A mix this instance does not run: `failed` if this one claimed it and it would not start,
    /// `starting` if this one or another live instance claimed it and has not yet run it (or
    /// published that it does), `running`, `ended` or `failed` on another live instance, as it
    /// published, else `placing` (an instance claims it within a second or two, once one has room).
    private func describe(_ record: MixRecord, live: [InstanceRecord]) async -> JSON {
        var fields: [(String, JSON)] = [("id", .string(record.id))]
        if record.owner == mixes.instance, let failure = mixes.startFailure(record.id) {
            fields += [("state", "failed"), ("instance", .string(mixes.instance)), ("error", .string(failure))]
        } else if record.owner == mixes.instance {
            fields += [("state", "starting"), ("instance", .string(mixes.instance))]
        } else if let owner = live.first(where: { $0.id == record.owner }) {
            if record.ended {
                fields += [("state", record.failure == nil ? "ended" : "failed"), ("instance", .string(owner.id))]
                if let failure = record.failure { fields.append(("error", .string(failure))) }
            } else {
                fields += [("state", record.connected == nil ? "starting" : "running"), ("instance", .string(owner.id)),
                           ("connected", .array((record.connected ?? []).map(JSON.string)))]
            }
            if let spec = try? MixSpec.parse(record.spec, source: "the stored spec", baseDirectory: mixes.dataFolder) {
                fields.append(("ingest", await MixIngest.json(mixId: record.id, spec: spec, host: owner.ingestHost, store: store, dataFolder: mixes.dataFolder)))
            }
        } else {
            fields.append(("state", "placing"))
        }
        fields.append(("warnings", []))
        return .object(fields)
    }

    /// Seconds by host as whole milliseconds, in user-id order.
    private static func milliseconds(_ seconds: [String: Double]) -> JSON {
        .object(seconds.sorted { $0.key < $1.key }.map { ($0.key, .int(Int(($0.value * 1_000).rounded()))) })
    }
}
