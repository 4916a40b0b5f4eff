import ArenaSession
import ArenaSpec
import Foundation

/// Score updates, through any instance of a fleet: the totals live in the store, where a
/// battle's updates are applied one at a time and each idempotency key once; the mixes that
/// show the battle then show the store's totals (at once on this instance; on the others
/// through a `totals` change recorded in the same transaction, which wakes their instances).
extension BattleDesk {
    /// `POST /v1/battles/{id}/scores`: adds to (`accumulate`) or replaces (`overwrite`) rooms'
    /// scores. The same `idempotencyKey` again gets the first answer and changes nothing.
    func updateScores(battleId: String, _ body: Data) async throws -> JSONResponse {
        let request = try ScoreRequest(body)
        return try await score(battleId: battleId, key: request.key, body: body, updates: request.updates, op: request.op).answer
    }

    /// A `score` event posted to a mix for a battle the store has: counted in the battle's
    /// totals like an update of its own; returns the events it made in this instance's mixes
    /// (nil when the store has no such battle: then the mix alone applies the event).
    func scoreEvent(battleId: String, room: String, value: Int64, op: ScoreOperation, body: Data) async throws -> [Notice]? {
        guard try await store.battle(id: battleId) != nil else { return nil }
        let outcome = try await score(battleId: battleId, key: "event-\(UUID().uuidString)", body: body, updates: [(room, value)], op: op)
        guard outcome.refused.isEmpty else { throw APIError(.conflict, "'\(Redaction.value(room))' is not in battle '\(Redaction.value(battleId))'") }
        return outcome.notices
    }

    private func score(battleId: String, key: String, body: Data, updates: [(room: String, value: Int64)], op: ScoreOperation) async throws
        -> (answer: JSONResponse, notices: [Notice], refused: [String]) {
        // Answered from the ledger without the battle's checks (the transaction checks the key again).
        if let earlier = try await store.answer(forKey: key, battleId: battleId) { return (replayed(earlier), [], []) }
        guard let record = try await store.battle(id: battleId) else { throw APIError(.notFound, "no battle '\(Redaction.value(battleId))'") }
        let showing = record.mixIds.compactMap { mixes.local($0) }.filter { $0.mix?.session.battle?.id == battleId }
        let active: [String]
        if let battle = showing.first?.mix?.session.battle {
            // A mix here knows which rooms are still in the battle (one may have exited).
            guard battle.isRunning else { throw APIError(.conflict, "battle '\(Redaction.value(battleId))' is not running") }
            active = battle.active
        } else {
            guard record.result == nil, record.startedAt != nil else { throw APIError(.conflict, "battle '\(Redaction.value(battleId))' is not running") }
            active = record.rooms
        }
        let applying = updates.filter { active.contains($0.room) }
        let results: JSON = .array(updates.map { ["room": .string($0.room), "code": .int(active.contains($0.room) ? 0 : 1)] })
        let rooms = record.rooms
        let elsewhere = record.mixIds.filter { mixes.local($0) == nil }
        let outcome = try await store.scoreBattle(battleId: battleId, key: key, request: body, updates: applying, replace: op == .set,
                                            showIn: elsewhere) { totals in
            let scores = Self.scoresJSON(rooms: rooms, scores: rooms.reduce(into: totals) { $0[$1] = $0[$1] ?? 0 })
            let answer: JSON = ["battleId": .string(battleId), "results": results, "scores": scores]
            return StoredAnswer(status: 200, body: answer.text)
        }
        guard outcome.totals != nil else { return (replayed(outcome.answer), [], []) }
        scoring.withLock { $0.applied += 1 }
        var notices: [Notice] = []
        for entry in record.mixIds.compactMap({ mixes.local($0) }) { notices += await mixes.showTotals(of: battleId, in: entry) }
        return (JSONResponse(rawJSON: outcome.answer.body, status: .ok), notices, updates.map(\.room).filter { !active.contains($0) })
    }

    /// Score updates applied here so far, and retries answered from the ledger.
    var scoreUpdateCounts: (applied: Int, replayed: Int) { scoring.withLock { $0 } }

    private func replayed(_ answer: StoredAnswer) -> JSONResponse {
        scoring.withLock { $0.replayed += 1 }
        return JSONResponse(rawJSON: answer.body, status: .init(code: answer.status))
    }
}
