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
    private let templates: TemplateLibrary
    private let dataFolder: URL
    private let store: any ArenaStore
    private let onNotices: @Sendable (String, [Notice]) -> Void
    private let limit: Int
    private let allowPrivateAvatarHosts: Bool
    /// Where the mixes' files must be: in the data folder, symbolic links resolved.
    private let access: FileAccess

    /// `limit`: how many mixes may run at once. `onNotices` gets every mix's outbound events
    /// with its id, as they happen.
    init(templates: TemplateLibrary, dataFolder: URL, store: any ArenaStore, limit: Int, allowPrivateAvatarHosts: Bool,
         onNotices: @escaping @Sendable (String, [Notice]) -> Void) {
        self.allowPrivateAvatarHosts = allowPrivateAvatarHosts
        access = .inside(dataFolder)
        self.templates = templates
        self.dataFolder = dataFolder.standardized
        self.limit = limit
        self.store = store
        self.onNotices = onNotices
    }

    /// Starts again every mix the store holds (after a restart); one that no longer starts is
    /// reported and left out.
    /// Each is brought back as it was: its recorded changes (PATCHes, posted co-host, camera
    /// and mic events) are applied again in order. Battles come back from their own records
    /// (`BattleDesk.resume`), so battle and score events are not applied again here (scores
    /// posted as events are, by `replayScoreEvents`, once their battles are back).
    func restore(log: (String) -> Void) throws {
        for (id, spec) in try store.mixes() {
            do {
                let entry = try start(id: id, spec: spec)
                guard entry.waitUntilRunning(), let mix = entry.mix else { throw APIError(.conflict, "it did not start") }
                for change in try store.mixChanges(mixId: id) {
                    do {
                        if change.kind == "patch" {
                            _ = try update(id, body: change.body, record: false)
                        } else {
                            let event = try MixSpec.event(json: change.body, source: "a recorded event")
                            if !event.isBattleEvent { _ = try mix.apply(event) }
                        }
                    } catch {
                        log("mix '\(id)': a recorded \(change.kind) no longer applies: \(error)")
                    }
                }
            } catch {
                log("mix '\(id)' cannot be started again: \(error)")
            }
        }
    }

    /// After battles have resumed (`BattleDesk.resume`): the `score` events posted to each
    /// mix are applied again, in order, to the battle that came back running in it.
    func replayScoreEvents(log: (String) -> Void) throws {
        for entry in all {
            guard let mix = entry.mix, let battle = mix.session.battle, !battle.isEnded else { continue }
            for change in try store.mixChanges(mixId: entry.id) where change.kind == "event" {
                guard let event = try? MixSpec.event(json: change.body, source: "a recorded event"),
                      case .score(let battleId, _, _, _) = event, battleId == battle.id else { continue }
                do {
                    _ = try mix.apply(event)
                } catch {
                    log("mix '\(entry.id)': a recorded score no longer applies: \(error)")
                }
            }
        }
    }

    /// `POST /v1/mixes/{id}/events`: records `event` (sent as `body`), then applies it, after
    /// any change already under way; an event the mix refuses is forgotten again.
    func post(_ event: SessionEvent, body: Data, to id: String) throws -> [Notice] {
        let entry = try entry(id)
        return try entry.serially {
            guard entry.takesChanges, let mix = entry.mix else { throw APIError(.conflict, "mix '\(id)' is not running") }
            let number = try store.recordMixChange(mixId: id, kind: "event", body: body)
            do {
                return try mix.apply(event)
            } catch {
                try? store.forgetMixChange(number)
                throw APIError(.conflict, "\(error)")
            }
        }
    }

    /// Checks `spec` (a mix spec, as for `arena run`; relative paths are taken from the data
    /// folder), records it and then starts it under `id`: a mix never runs unrecorded.
    func create(id: String, spec: Data) throws -> MixEntry {
        try start(id: id, spec: spec) { try store.saveMix(id: id, spec: spec) }
    }

    /// `record` runs once the mix is checked and registered, before it starts; if it throws,
    /// the mix is dropped.
    private func start(id: String, spec: Data, record: () throws -> Void = {}) throws -> MixEntry {
        var parsed: MixSpec
        do {
            parsed = try MixSpec.parse(spec, source: "body", baseDirectory: dataFolder)
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
        try confine(parsed)
        if parsed.allowPrivateAvatarHosts {
            throw APIError(.unprocessableContent, "overlays.allowPrivateAvatarHosts is the operator's to set (arena serve --allow-private-avatar-hosts), not a posted spec's")
        }
        parsed.allowPrivateAvatarHosts = allowPrivateAvatarHosts
        try checkLimit(counting: entries.withLock { Array($0.values) })
        let plan: MixPlan
        do {
            plan = try MixPlan(spec: parsed, templates: templates, live: true, access: access)
        } catch {
            throw APIError(.unprocessableContent, "\(error)")
        }
        let entry = MixEntry(id: id, plan: plan) { [onNotices] in onNotices(id, $0) }
        // Checked again where the entry is added: two creates at once cannot both pass the limit.
        // Lock order: the registry's Mutex, then an entry's.
        try entries.withLock { entries in
            guard entries[id] == nil else { throw APIError(.conflict, "mix '\(id)' already exists") }
            try checkLimit(counting: Array(entries.values))
            entries[id] = entry
        }
        do {
            try record()
        } catch {
            entries.withLock { _ = $0.removeValue(forKey: id) }
            throw error
        }
        entry.start()
        return entry
    }

    private func checkLimit(counting entries: [MixEntry]) throws {
        let running = entries.filter { $0.status == "running" }.count
        guard running < limit else { throw APIError(.conflict, "the service runs \(running) mixes, its limit; stop one first") }
    }

    /// Files a spec reads or writes must be in the data folder: a caller of the API cannot
    /// make the service read or overwrite files elsewhere.
    private func confine(_ spec: MixSpec) throws {
        for (index, host) in spec.hosts.enumerated() {
            if case .uri(let uri) = host.input {
                guard let url = URL(string: uri), url.isFileURL, (url.host ?? "").isEmpty || url.host == "localhost", access.contains(url.path) else {
                    throw APIError(.unprocessableContent, "hosts[\(index)].input must be an RTP input or a file in the data folder")
                }
            }
            try confineAvatar(of: host, field: "hosts[\(index)]")
        }
        try confine(spec.outputs)
    }

    private func confineAvatar(of host: MixSpec.Host, field: String) throws {
        if let avatar = host.avatarUrl, !avatar.hasPrefix("http://"), !avatar.hasPrefix("https://"), !access.contains(avatar) {
            throw APIError(.unprocessableContent, "\(field).avatarUrl must be an http(s) URL or a file in the data folder")
        }
    }

    private func confine(_ outputs: [OutputTarget]) throws {
        for (index, output) in outputs.enumerated() {
            switch output {
            case .recording(let path, _) where !access.contains(path), .hls(let path, _, _) where !access.contains(path + "/playlist.m3u8"):
                throw APIError(.unprocessableContent, "outputs[\(index)] must write inside the data folder")
            case .recording(let path, _) where !Self.isFolder(URL(fileURLWithPath: path).deletingLastPathComponent().path),
                 .hls(let path, _, _) where !Self.isFolder(path):
                // Else the output would fail and be retried for as long as the mix runs.
                throw APIError(.unprocessableContent, "outputs[\(index)] writes to a folder that does not exist in the data folder")
            default:
                break
            }
        }
    }

    /// `PATCH /v1/mixes/{id}`: `{template?, outputs?, addHosts?}` change a running mix's layout
    /// template (from its next frame) and its outputs (removed ones are finalised, new ones
    /// start at the next keyframe), and add hosts (with RTP inputs; they join the session
    /// when a `hostJoined` event is posted). Hosts are not removed: post `hostLeft`.
    /// The change is recorded before the answer (`record`), so a restart applies it again.
    func update(_ id: String, body: Data, record: Bool = true) throws -> MixEntry {
        let entry = try entry(id)
        var fields = try JSONFields.decode(body, source: "body")
        if fields.contains("hosts") {
            throw APIError(.badRequest, "hosts cannot be replaced while a mix runs: add hosts with addHosts; a host leaves by a hostLeft event")
        }
        let added = try fields.array("addHosts")?.enumerated().map { index, item throws in
            try MixSpec.host(item, path: "addHosts[\(index)]", relativeTo: dataFolder)
        } ?? []
        let templateId = try fields.integer("template", in: 0...99_999)
        let outputs = try fields.array("outputs").map { items throws in
            try MixSpec.outputTargets(items, audio: entry.plan.audio.codec, relativeTo: dataFolder)
        }
        try fields.finish()
        if let outputs {
            guard !outputs.isEmpty else { throw APIError(.badRequest, "outputs must list at least one output") }
            try confine(outputs)
        }
        for (index, host) in added.enumerated() { try confineAvatar(of: host, field: "addHosts[\(index)]") }
        var template: LayoutTemplate?
        if let templateId {
            do {
                let found = try templates.template(templateId)
                try found.validate(on: entry.plan.canvas.size)
                template = found
            } catch {
                throw APIError(.unprocessableContent, "template is \(templateId): \(error)")
            }
        }
        guard let mix = entry.mix else { throw APIError(.conflict, "mix '\(id)' is not running") }
        try entry.serially {
            guard !record || entry.takesChanges else { throw APIError(.conflict, "mix '\(id)' is not running") }
            // Recorded before it is applied. A change refused before any part of it applied is
            // forgotten; one refused partway stays, and a restart applies it as far again.
            let number = record ? try store.recordMixChange(mixId: id, kind: "patch", body: body) : nil
            var applied = false
            do throws(MixError) {
                // Hosts first (the likeliest to be refused), in order; then the template, then outputs.
                for host in added {
                    try mix.addHost(host)
                    applied = true
                }
                if let template {
                    try mix.switchTemplate(to: template)
                    applied = true
                }
                if let outputs { try mix.setOutputs(outputs) }
            } catch {
                if let number, !applied { try? store.forgetMixChange(number) }
                if case .ended = error { throw APIError(.conflict, "mix '\(id)' is not running") }
                throw APIError(.unprocessableContent, "\(error)")
            }
        }
        return entry
    }

    private static func isFolder(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    func entry(_ id: String) throws -> MixEntry {
        guard let entry = entries.withLock({ $0[id] }) else { throw APIError(.notFound, "no mix '\(id)'") }
        return entry
    }

    var all: [MixEntry] {
        entries.withLock { $0.values.sorted { $0.createdAt < $1.createdAt } }
    }

    /// Stops and forgets a mix.
    func remove(_ id: String) async throws {
        let entry = try entry(id)
        try await offload { try self.store.removeMix(id: id) }
        await entry.stop()
        entries.withLock { $0[id] = nil }
        // What the mix's threads freed goes back to the system, not kept in malloc's arenas
        // (where `make soak` saw a service that had run many mixes hold 200 MB more, idle).
        await offload { arena_release_free_memory() }
    }

    /// Running mixes whose session has `room` (a host's user id) connected.
    func mixes(connecting room: String) -> [MixEntry] {
        all.filter { $0.mix?.session.connected.contains(room) == true }
    }

    /// Stops every mix at once, finalising their outputs.
    func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for entry in all { group.addTask { await entry.stop() } }
        }
    }
}
