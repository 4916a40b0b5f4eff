import ArenaMixer
import ArenaSession
import ArenaSpec
import Foundation
import Synchronization

/// The PK score API's rules: battles between co-host connected rooms (a room is its host's
/// user id), score updates applied exactly once per idempotency key, status by battle or by
/// room, and ending a battle early. A battle is applied to every running mix whose session
/// has its rooms, so each room's mix shows it.
///
/// Per-room result codes, as the reference service's: 0 ok, 1 no such room (not connected,
/// or not in the battle).
final class BattleDesk: Sendable {
    let mixes: MixRegistry
    let store: any ArenaStore
    private let callbacks: CallbackOutbox
    /// Writes the battles the mixes start and end to the store.
    let recorder: BattleRecorder
    /// Score updates applied here, and retries answered from the ledger.
    let scoring = Mutex<(applied: Int, replayed: Int)>((0, 0))
    /// Battles are created one at a time.
    private let creating = SerialLock(())

    init(mixes: MixRegistry, store: any ArenaStore, callbacks: CallbackOutbox, recorder: BattleRecorder) {
        self.mixes = mixes
        self.store = store
        self.callbacks = callbacks
        self.recorder = recorder
    }

    /// `POST /v1/battles`: starts a battle at once (no invitation round) between `fromRoom`
    /// and those of `toRooms` that can join.
    func create(_ body: Data) async throws -> JSONResponse {
        var fields = try decode(body)
        let fromRoom = try fields.requiredString("fromRoom")
        guard let toRooms = try fields.strings("toRooms"), !toRooms.isEmpty else {
            throw APIError(.badRequest, "toRooms is required: list at least one room")
        }
        let duration = try fields.integer("durationMs", in: 1_000...86_400_000) ?? 30_000
        let extensionInfo = try fields.string("extensionInfo")
        let id = try fields.string("battleId") ?? UUID().uuidString.lowercased()
        try fields.finish()
        guard ArenaService.isIdentifier(id) else {
            throw APIError(.badRequest, "battleId '\(Redaction.value(id))' must be 1 to 64 letters, digits, '-' or '_'")
        }
        // A mix here that names fromRoom but still starts is waited for, outside the lock below:
        // it holds up this battle only.
        await mixes.waitForStartingMixes(naming: fromRoom)
        // One creation at a time: the checks below then hold when the battle is applied, and
        // `battle.created` goes out before the mixes report `battle.started`.
        return try await creating.withLock { _ in
            try await start(id: id, fromRoom: fromRoom, toRooms: toRooms, durationMilliseconds: duration, extensionInfo: extensionInfo)
        }
    }

    private func start(id: String, fromRoom: String, toRooms: [String], durationMilliseconds duration: Int,
                       extensionInfo: String?) async throws -> JSONResponse {
        guard try await store.battle(id: id) == nil else { throw APIError(.conflict, "battle '\(Redaction.value(id))' already exists") }
        let entries = mixes.mixes(connecting: fromRoom)
        // Mixes other instances run with the room connected, as they last published it.
        let live = Set(try await store.liveInstances().map(\.id))
        let elsewhere = try await store.mixes().filter { $0.owner.map(live.contains) == true && mixes.local($0.id) == nil }
        let remote = elsewhere.filter { $0.connected?.contains(fromRoom) == true }
        let connected: [String]
        if let session = entries.first?.mix?.session {
            if let battle = session.battle, !battle.isEnded { throw APIError(.conflict, "room '\(Redaction.value(fromRoom))' is already in battle '\(Redaction.value(battle.id))'") }
            connected = session.connected
        } else if let first = remote.first {
            let now = Date().timeIntervalSince1970
            if let open = try await store.openBattles().first(where: { $0.rooms.contains(fromRoom) && $0.createdAt + Double($0.durationMilliseconds) / 1000 > now }) {
                throw APIError(.conflict, "room '\(Redaction.value(fromRoom))' is already in battle '\(Redaction.value(open.id))'")
            }
            connected = first.connected ?? []
        } else if let starting = mixes.startingMixes(naming: fromRoom).first?.id ?? mixes.startingMix(naming: fromRoom, among: elsewhere) {
            throw APIError(.conflict, "mix '\(starting)' with room '\(Redaction.value(fromRoom))' is still starting; try again")
        } else {
            throw APIError(.notFound, "room '\(Redaction.value(fromRoom))' is in no running mix")
        }

        var results: [(String, Int)] = []
        var joining: [String] = []
        for room in toRooms {
            if !connected.contains(room) || room == fromRoom || joining.contains(room) {
                results.append((room, 1))
            } else {
                results.append((room, 0))
                joining.append(room)
            }
        }
        guard !joining.isEmpty else {
            throw APIError(.conflict, "none of toRooms can battle: " + results.map { "\($0.0) (code \($0.1))" }.joined(separator: ", "))
        }
        let config = BattleConfig(duration: UInt64(duration) * 1_000_000, needResponse: false, extensionInfo: extensionInfo)
        callbacks.battleCreated(battleId: id, mixIds: entries.map(\.id) + remote.map(\.id), fromRoom: fromRoom, rooms: [fromRoom] + joining,
                                durationMilliseconds: duration, extensionInfo: extensionInfo)
        var applied: [String] = []
        for entry in entries {
            do {
                if try entry.mix?.apply(.battleRequest(battleId: id, inviter: fromRoom, invitees: joining, config: config)) != nil {
                    applied.append(entry.id)
                }
            } catch {
                if applied.isEmpty, remote.isEmpty { throw APIError(.conflict, "\(error)") }
            }
        }
        // Recorded for the instances that run the others: each applies it within a quarter second.
        var request: [(String, JSON)] = [("event", "battleRequest"), ("battleId", .string(id)), ("inviter", .string(fromRoom)),
                                         ("invitees", .array(joining.map(JSON.string))), ("duration", .double(Double(duration) / 1000)),
                                         ("needResponse", .raw("false"))]
        if let extensionInfo { request.append(("extensionInfo", .string(extensionInfo))) }
        for mix in remote {
            if try await store.recordMixChange(mixId: mix.id, kind: "event", body: Data(JSON.object(request).text.utf8)) != nil { applied.append(mix.id) }
        }
        guard !applied.isEmpty else { throw APIError(.conflict, "room '\(Redaction.value(fromRoom))' is in no mix that takes the battle") }
        // The mixes here recorded their start first (the record is then completed with every mix).
        await recorder.caughtUp(entries.map(\.id))
        try await store.saveBattle(BattleRecord(id: id, mixIds: applied, fromRoom: fromRoom, rooms: [fromRoom] + joining,
                                          durationMilliseconds: duration, createdAt: Date().timeIntervalSince1970))
        let status = try await statusJSON(id)
        return JSONResponse(["battle": status, "results": .array(results.map { ["room": .string($0.0), "code": .int($0.1)] })],
                            status: .created)
    }

    /// Each room in a battle that has not ended, with the battle's id: those the store has open
    /// (and not past their time) and those this instance's mixes run (begun by posted events too).
    func roomsInOpenBattles() async throws -> [String: String] {
        var rooms: [String: String] = [:]
        let now = Date().timeIntervalSince1970
        for record in try await store.openBattles() where (record.startedAt ?? record.createdAt) + Double(record.durationMilliseconds) / 1000 > now {
            for room in record.rooms { rooms[room] = record.id }
        }
        for case let battle? in mixes.all.map({ $0.mix?.session.battle }) where !battle.isEnded {
            for room in [battle.inviter] + battle.participants { rooms[room] = battle.id }
        }
        return rooms
    }

    /// `POST /v1/battles/{id}/end`: ends a running battle now.
    func end(battleId: String) async throws -> JSONResponse {
        guard let record = try await store.battle(id: battleId) else { throw APIError(.notFound, "no battle '\(Redaction.value(battleId))'") }
        var ended = false
        for id in record.mixIds {
            guard let entry = mixes.local(id) else {
                // Run elsewhere: recorded for its instance.
                let body: JSON = ["event": "battleEnd", "battleId": .string(battleId)]
                if try await store.recordMixChange(mixId: id, kind: "event", body: Data(body.text.utf8)) != nil { ended = true }
                continue
            }
            do {
                if try entry.mix?.apply(.battleEnd(battleId: battleId)) != nil { ended = true }
            } catch {
                throw APIError(.conflict, "\(error)")
            }
        }
        guard ended else { throw APIError(.conflict, "battle '\(Redaction.value(battleId))' is in no running mix") }
        try await store.endBattle(id: battleId)
        // The result the mixes here recorded is in the answer.
        await recorder.caughtUp(record.mixIds.filter { mixes.local($0) != nil })
        return JSONResponse(["battle": try await statusJSON(battleId)])
    }

    /// When this instance takes mix `mixId` (after a restart, or from an instance that died):
    /// each of its battles not ended whose time is not up starts again in it with the time it
    /// had left and its totals from the store.
    func resume(mixId: String, log: (String) -> Void) async throws {
        for record in try await store.openBattles() where record.mixIds.contains(mixId) {
            let left = record.createdAt + Double(record.durationMilliseconds) / 1000 - Date().timeIntervalSince1970
            guard left >= 1 else {
                try await store.endBattle(id: record.id)
                continue
            }
            guard let entry = mixes.local(mixId), await entry.waitForPipeline() else { continue }  // still replaying: not `waitUntilRunning`
            let config = BattleConfig(duration: UInt64(left * 1e9), needResponse: false, extensionInfo: nil)
            let totals = try await store.battleTotals(battleId: record.id)
            do {
                _ = try entry.mix?.apply(.battleRequest(battleId: record.id, inviter: record.fromRoom,
                                                       invitees: Array(record.rooms.dropFirst()), config: config))
                for (room, total) in totals.sorted(by: { $0.key < $1.key }) {
                    _ = try? entry.mix?.apply(.score(battleId: record.id, userId: room, value: total, op: .set))
                }
            } catch {
                log("battle '\(record.id)' cannot resume in mix '\(entry.id)': \(error)")
            }
        }
    }

    /// `GET /v1/battles/{id}`.
    func status(battleId: String) async throws -> JSONResponse {
        guard try await store.battle(id: battleId) != nil else { throw APIError(.notFound, "no battle '\(Redaction.value(battleId))'") }
        return JSONResponse(["battle": try await statusJSON(battleId)])
    }

    /// `GET /v1/rooms/{room}/battle`: the room's ongoing (or latest) battle.
    func status(room: String) async throws -> JSONResponse {
        guard let battle = mixes.mixes(connecting: room).compactMap({ $0.mix?.session.battle }).first,
              battle.participants.contains(room) else {
            throw APIError(.notFound, "room '\(Redaction.value(room))' has no battle")
        }
        return try await status(battleId: battle.id)
    }

    private func statusJSON(_ battleId: String) async throws -> JSON {
        guard let record = try await store.battle(id: battleId) else { throw APIError(.notFound, "no battle '\(Redaction.value(battleId))'") }
        let running = record.mixIds.lazy.compactMap { try? self.mixes.entry($0).mix }.first { $0.session.battle?.id == battleId }
        var fields: [(String, JSON)] = [("battleId", .string(battleId)), ("fromRoom", .string(record.fromRoom)),
                                        ("durationMs", .int(record.durationMilliseconds)), ("mixIds", .array(record.mixIds.map(JSON.string))),
                                        ("createdAt", .int(Int(record.createdAt)))]
        if let startedAt = record.startedAt { fields.append(("startedAt", .int(Int(startedAt)))) }
        // A battle's own record of its end outlives the mix's 5 s result.
        if let result = record.result {
            fields += [("status", "ended"), ("reason", .string(result.reason)), ("endedAt", .int(Int(result.endedAt))), ("remainingMs", .int(0)),
                       ("scores", Self.scoresJSON(rooms: record.rooms, scores: result.scores))]
            return .object(fields)
        }
        guard let mix = running, case let session = mix.session, let battle = session.battle else {
            // Its mixes run on other instances (or none): the store's record and totals.
            guard let startedAt = record.startedAt else {
                fields.append(("status", "unknown"))
                return .object(fields)
            }
            let left = startedAt + Double(record.durationMilliseconds) / 1000 - Date().timeIntervalSince1970
            let totals = try await store.battleTotals(battleId: battleId)
            fields += [("status", "running"), ("remainingMs", .int(max(0, Int(left * 1000)))),
                       ("scores", Self.scoresJSON(rooms: record.rooms, scores: record.rooms.reduce(into: totals) { $0[$1] = $0[$1] ?? 0 }))]
            return .object(fields)
        }
        switch battle.phase {
        case .requested: fields.append(("status", "requested"))
        case .running: fields.append(("status", "running"))
        case .ended(_, _, let reason): fields += [("status", "ended"), ("reason", .string(reason.rawValue))]
        }
        let now = max(mix.outputTime ?? session.now, session.now)
        fields.append(("remainingMs", .int(Int((session.remainingBattleTime(at: now) ?? 0) / 1_000_000))))
        fields.append(("scores", scoresJSON(battle)))
        return .object(fields)
    }

    /// Final scores with their ranks (highest first; equal scores share a rank).
    static func scoresJSON(rooms: [String], scores: [String: Int64]) -> JSON {
        let ordered = rooms.filter { scores[$0] != nil } + scores.keys.filter { !rooms.contains($0) }.sorted()
        return .array(ordered.map { room in
            let score = scores[room] ?? 0
            let rank = 1 + scores.values.filter { $0 > score }.count
            return ["room": .string(room), "score": .int(Int(score)), "rank": .int(rank)]
        })
    }

    private func scoresJSON(_ battle: Battle?) -> JSON {
        guard let battle else { return [] }
        let ranks = battle.ranks
        return .array(battle.participants.map { room in
            ["room": .string(room), "score": .int(Int(battle.allScores[room] ?? 0)), "rank": .int(ranks[room] ?? 0)]
        })
    }

    private func decode(_ body: Data) throws -> JSONFields {
        try JSONFields.decode(body, source: "body")
    }
}

/// The body of a score update: its idempotency key, how it combines, and the rooms' scores.
struct ScoreRequest {
    let key: String
    let op: ScoreOperation
    let updates: [(room: String, value: Int64)]

    init(_ body: Data) throws {
        var fields = try JSONFields.decode(body, source: "body")
        key = try fields.requiredString("idempotencyKey")
        guard key.count <= 200 else { throw APIError(.badRequest, "idempotencyKey is longer than 200 characters") }
        // The reference service's OpType: 1 accumulate, 2 overwrite, as a number or a string.
        switch fields.raw("op") {
        case nil, .string("accumulate"), .string("1"), .number(1): op = .add
        case .string("overwrite"), .string("2"), .number(2): op = .set
        default: throw APIError(.badRequest, "op must be \"accumulate\" or \"overwrite\" (or the reference's 1 or 2)")
        }
        guard let items = try fields.array("scores"), !items.isEmpty else { throw APIError(.badRequest, "scores is required: list at least one") }
        var updates: [(room: String, value: Int64)] = []
        for (index, item) in items.enumerated() {
            var entry = try JSONFields(item, path: "scores[\(index)]")
            let room = try entry.requiredString("room")
            guard let value = try entry.integer("score", in: 0...Int(Int32.max)) else {
                throw APIError(.badRequest, "scores[\(index)].score is required")
            }
            try entry.finish()
            updates.append((room, Int64(value)))
        }
        try fields.finish()
        self.updates = updates
    }
}
