import ArenaSpec
import Foundation
import Logging
import PostgresNIO

/// Battles, the score ledger and the callback outbox in PostgreSQL: the rules of
/// `SQLiteStore`, in PostgreSQL's SQL.
extension PostgresStore {
    private static func battle(_ row: PostgresRow) throws -> BattleRecord {
        let (id, mixIds, fromRoom, rooms, duration, createdAt, startedAt, result) =
            try row.decode((String, String, String, String, Int, Double, Double?, String?).self)
        return BattleRecord(id: id, mixIds: mixIds.split(separator: "\n").map(String.init), fromRoom: fromRoom,
                            rooms: rooms.split(separator: "\n").map(String.init), durationMilliseconds: duration, createdAt: createdAt,
                            startedAt: startedAt, result: result.flatMap { try? JSONDecoder().decode(BattleResult.self, from: Data($0.utf8)) })
    }

    func saveBattle(_ battle: BattleRecord) async throws {
        // The mixes' onBattleStarted may have made the record already: this one has every mix.
        try await run("""
            INSERT INTO battle (id, mix_ids, from_room, rooms, duration_ms, created_at)
            VALUES (\(battle.id), \(battle.mixIds.joined(separator: "\n")), \(battle.fromRoom), \(battle.rooms.joined(separator: "\n")),
                    \(battle.durationMilliseconds), \(battle.createdAt))
            ON CONFLICT (id) DO UPDATE SET mix_ids = excluded.mix_ids, from_room = excluded.from_room, rooms = excluded.rooms,
                                           duration_ms = excluded.duration_ms, created_at = excluded.created_at
            """)
    }

    func battle(id: String) async throws -> BattleRecord? {
        try await rows("SELECT id, mix_ids, from_room, rooms, duration_ms, created_at, started_at, result FROM battle WHERE id = \(id)")
            .first.map(Self.battle)
    }

    func endBattle(id: String) async throws {
        try await run("UPDATE battle SET ended = TRUE WHERE id = \(id)")
    }

    func openBattles() async throws -> [BattleRecord] {
        try await rows("SELECT id, mix_ids, from_room, rooms, duration_ms, created_at, started_at, result FROM battle WHERE NOT ended ORDER BY created_at")
            .map(Self.battle)
    }

    func battleStarted(_ battle: BattleRecord, mixId: String, at time: Double) async throws {
        let rooms = battle.rooms.joined(separator: "\n")
        try await transaction { connection, logger in
            try await connection.query("""
                INSERT INTO battle (id, mix_ids, from_room, rooms, duration_ms, created_at)
                VALUES (\(battle.id), \(mixId), \(battle.fromRoom), \(rooms), \(battle.durationMilliseconds), \(time))
                ON CONFLICT (id) DO NOTHING
                """, logger: logger)
            let rows = try await connection.query("SELECT mix_ids FROM battle WHERE id = \(battle.id) FOR UPDATE", logger: logger).collect()
            for row in rows {
                let ids = try row.decode(String.self).split(separator: "\n").map(String.init)
                if !ids.contains(mixId) {
                    try await connection.query("UPDATE battle SET mix_ids = \((ids + [mixId]).joined(separator: "\n")) WHERE id = \(battle.id)",
                                               logger: logger)
                }
            }
            try await connection.query("UPDATE battle SET started_at = \(time) WHERE id = \(battle.id) AND started_at IS NULL", logger: logger)
        }
    }

    func battleEnded(id: String, result: BattleResult) async throws {
        let text = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        try await run("UPDATE battle SET ended = TRUE, result = \(text), ended_at = \(result.endedAt) WHERE id = \(id) AND result IS NULL")
    }

    func forgetBattles(endedBefore time: Double) async throws {
        try await transaction { connection, logger in
            try await connection.query("DELETE FROM score_update WHERE battle_id IN (SELECT id FROM battle WHERE ended_at < \(time))", logger: logger)
            try await connection.query("DELETE FROM battle_score WHERE battle_id IN (SELECT id FROM battle WHERE ended_at < \(time))", logger: logger)
            try await connection.query("DELETE FROM battle WHERE ended_at < \(time)", logger: logger)
        }
    }

    func scoreBattle(battleId: String, key: String, request: Data, updates: [(room: String, value: Int64)], replace: Bool, showIn: [String],
                     answer: @escaping @Sendable ([String: Int64]) -> StoredAnswer) async throws -> (answer: StoredAnswer, totals: [String: Int64]?) {
        let updates = updates.map { ($0.room, $0.value) }
        return try await transaction { connection, logger -> (answer: StoredAnswer, totals: [String: Int64]?) in
            // The battle's row lock: its updates run one at a time, whichever instance took them.
            for try await ended in try await connection.query("SELECT ended FROM battle WHERE id = \(battleId) FOR UPDATE", logger: logger)
                .decode(Bool.self) where ended {
                throw APIError(.conflict, "battle '\(Redaction.value(battleId))' is not running")
            }
            // The key's earlier answer, if any, and the totals, in one round trip.
            var totals: [String: Int64] = [:]
            for try await (room, score, status, answer) in try await connection.query("""
                SELECT NULL, NULL, status, answer FROM score_update WHERE battle_id = \(battleId) AND idempotency_key = \(key)
                UNION ALL SELECT room, score, NULL, NULL FROM battle_score WHERE battle_id = \(battleId)
                """, logger: logger).decode((String?, Int64?, Int?, String?).self) {
                if let status, let answer { return (StoredAnswer(status: status, body: answer), nil) }
                if let room, let score { totals[room] = score }
            }
            try addScores(updates.map { (room: $0.0, value: $0.1) }, replace: replace, to: &totals)
            // Each room once, with its new total (a request may name a room twice).
            var rooms: [String] = []
            for (room, _) in updates where !rooms.contains(room) { rooms.append(room) }
            let scores = rooms.map { totals[$0] ?? 0 }
            try await connection.query("""
                INSERT INTO battle_score (battle_id, room, score) SELECT \(battleId), * FROM UNNEST(\(rooms)::text[], \(scores)::bigint[])
                ON CONFLICT (battle_id, room) DO UPDATE SET score = excluded.score
                """, logger: logger)
            let made = answer(totals)
            try await connection.query("""
                INSERT INTO score_update (idempotency_key, battle_id, request, status, answer, at)
                VALUES (\(key), \(battleId), \(request), \(made.status), \(made.body), \(Date().timeIntervalSince1970))
                """, logger: logger)
            if !showIn.isEmpty {
                // One `totals` change a mix (the latest replaces the one before), and a wake-up for their
                // instances. Under the mixes' row locks, as every change: a mix's changes commit in number order.
                _ = try await connection.query("SELECT 1 FROM mix WHERE id = ANY(\(showIn)) ORDER BY id FOR UPDATE", logger: logger).collect()
                try await connection.query("""
                    WITH gone AS (DELETE FROM mix_change WHERE mix_id = ANY(\(showIn)) AND kind = \(MixRegistry.totalsChange))
                    INSERT INTO mix_change (mix_id, kind, body, at)
                    SELECT id, \(MixRegistry.totalsChange), \(Data(battleId.utf8)), \(Date().timeIntervalSince1970) FROM mix WHERE id = ANY(\(showIn))
                    """, logger: logger)
                try await connection.query("SELECT pg_notify(\(Self.changesChannel), \(battleId))", logger: logger)
            }
            return (made, totals)
        }
    }

    func battleTotals(battleId: String) async throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try await rows("SELECT room, score FROM battle_score WHERE battle_id = \(battleId)").map { try $0.decode((String, Int64).self) })
    }

    func answer(forKey key: String, battleId: String) async throws -> StoredAnswer? {
        try await rows("SELECT status, answer FROM score_update WHERE battle_id = \(battleId) AND idempotency_key = \(key)").first.map { row in
            let (status, body) = try row.decode((Int, String).self)
            return StoredAnswer(status: status, body: body)
        }
    }

    func recordScoreUpdate(key: String, battleId: String, request: Data, answer: StoredAnswer) async throws {
        try await run("""
            INSERT INTO score_update (idempotency_key, battle_id, request, status, answer, at)
            VALUES (\(key), \(battleId), \(request), \(answer.status), \(answer.body), \(Date().timeIntervalSince1970))
            """)
    }

    func addCallbacks(_ callbacks: [(group: String, url: URL, body: String)]) async throws {
        let callbacks = callbacks.map { ($0.group, $0.url.absoluteString, $0.body) }
        try await transaction { connection, logger in
            for (group, url, body) in callbacks {
                try await connection.query("INSERT INTO callback (grp, url, body) VALUES (\(group), \(url), \(body))", logger: logger)
            }
        }
    }

    func dueCallbacks(instance: String, now: Double) async throws -> [StoredCallback] {
        try await rows("""
            WITH due AS (
                SELECT c.id FROM callback c
                JOIN (SELECT grp, MIN(id) AS first FROM callback WHERE NOT delivered GROUP BY grp) g ON c.id = g.first
                WHERE c.next_at <= \(now) AND (c.leased_by IS NULL OR c.leased_by = \(instance) OR c.lease_until < \(now))
                FOR UPDATE OF c SKIP LOCKED)
            UPDATE callback SET leased_by = \(instance), lease_until = \(now + 60) FROM due WHERE callback.id = due.id
            RETURNING callback.id, callback.url, callback.body, callback.attempts
            """).map { try $0.decode((Int64, String, String, Int).self) }.sorted { $0.0 < $1.0 }.compactMap { id, url, body, attempts in
            URL(string: url).map { StoredCallback(id: id, url: $0, body: body, attempts: attempts) }
        }
    }

    func callbackDelivered(id: Int64) async throws {
        try await run("UPDATE callback SET delivered = TRUE, leased_by = NULL WHERE id = \(id)")
    }

    func callbackFailed(id: Int64, retryAt: Double) async throws {
        try await run("UPDATE callback SET attempts = attempts + 1, next_at = \(retryAt), leased_by = NULL WHERE id = \(id)")
    }

    func callbackBacklog() async throws -> Int {
        try await rows("SELECT COUNT(*) FROM callback WHERE NOT delivered").first?.decode(Int.self) ?? 0
    }
}
