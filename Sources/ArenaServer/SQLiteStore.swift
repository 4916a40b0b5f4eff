import ArenaSpec
import Foundation
import GRDB

/// The default store: SQLite through GRDB, in `arena.sqlite` of the data folder, written
/// ahead (WAL) and synced on every commit so that an acknowledged update survives a crash.
final class SQLiteStore: ArenaStore, Sendable {
    let database: DatabasePool
    /// One instance's own file.
    var isShared: Bool { false }

    init(folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
        // A read or write that meets a lock (a checkpoint, say) waits for it instead of failing.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        database = try DatabasePool(path: folder.appendingPathComponent("arena.sqlite").path, configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE mix (id TEXT PRIMARY KEY, spec BLOB NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE battle (id TEXT PRIMARY KEY, mix_ids TEXT NOT NULL, from_room TEXT NOT NULL, rooms TEXT NOT NULL,
                                     duration_ms INTEGER NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE score_update (idempotency_key TEXT PRIMARY KEY, battle_id TEXT NOT NULL, request BLOB NOT NULL,
                                           status INTEGER NOT NULL, answer TEXT NOT NULL, at REAL NOT NULL);
                CREATE INDEX score_update_battle ON score_update (battle_id);
                """)
        }
        migrator.registerMigration("v2: battle end") { db in
            try db.execute(sql: "ALTER TABLE battle ADD COLUMN ended INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v3: callback outbox") { db in
            try db.execute(sql: """
                CREATE TABLE callback (id INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,
                                       attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL DEFAULT 0, delivered INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX callback_pending ON callback (delivered, grp, id);
                """)
        }
        // An idempotency key is a battle's own: the same key in two battles is two updates.
        migrator.registerMigration("v4: keys per battle") { db in
            try db.execute(sql: """
                CREATE TABLE score_update_v4 (battle_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, request BLOB NOT NULL,
                                              status INTEGER NOT NULL, answer TEXT NOT NULL, at REAL NOT NULL,
                                              PRIMARY KEY (battle_id, idempotency_key));
                INSERT INTO score_update_v4 (battle_id, idempotency_key, request, status, answer, at)
                    SELECT battle_id, idempotency_key, request, status, answer, at FROM score_update ORDER BY rowid;
                DROP TABLE score_update;
                ALTER TABLE score_update_v4 RENAME TO score_update;
                """)
        }
        migrator.registerMigration("v5: battle results") { db in
            try db.execute(sql: """
                ALTER TABLE battle ADD COLUMN started_at REAL;
                ALTER TABLE battle ADD COLUMN result TEXT;
                ALTER TABLE battle ADD COLUMN ended_at REAL;
                """)
        }
        migrator.registerMigration("v6: mix changes") { db in
            try db.execute(sql: """
                CREATE TABLE mix_change (seq INTEGER PRIMARY KEY AUTOINCREMENT, mix_id TEXT NOT NULL, kind TEXT NOT NULL,
                                         body BLOB NOT NULL, at REAL NOT NULL);
                CREATE INDEX mix_change_mix ON mix_change (mix_id, seq);
                """)
        }
        migrator.registerMigration("v7: leases") { db in
            try db.execute(sql: """
                ALTER TABLE mix ADD COLUMN owner TEXT;
                ALTER TABLE mix ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
                CREATE TABLE instance (id TEXT PRIMARY KEY, api_url TEXT NOT NULL, ingest_host TEXT NOT NULL, capacity INTEGER NOT NULL,
                                       running INTEGER NOT NULL, boot TEXT NOT NULL, seen_until REAL NOT NULL, seen_at REAL NOT NULL);
                ALTER TABLE callback ADD COLUMN leased_by TEXT;
                ALTER TABLE callback ADD COLUMN lease_until REAL NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v8: battle totals") { db in
            try db.execute(sql: """
                CREATE TABLE battle_score (battle_id TEXT NOT NULL, room TEXT NOT NULL, score INTEGER NOT NULL, PRIMARY KEY (battle_id, room));
                """)
        }
        migrator.registerMigration("v9: connected rooms") { db in
            try db.execute(sql: "ALTER TABLE mix ADD COLUMN connected TEXT")
        }
        migrator.registerMigration("v10: how a mix ended") { db in
            try db.execute(sql: "ALTER TABLE mix ADD COLUMN ended INTEGER NOT NULL DEFAULT 0; ALTER TABLE mix ADD COLUMN failure TEXT")
        }
        try migrator.migrate(database)
    }

    /// GRDB's write, in a task of its own: a caller cancelled meanwhile (a service shutting
    /// down) does not stop it, so a change that commits is never reported as failed.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await toTheEnd { [database] in try await database.write(updates) }
    }

    /// GRDB's read, as `write`.
    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await toTheEnd { [database] in try await database.read(value) }
    }

    func addCallbacks(_ callbacks: [(group: String, url: URL, body: String)]) async throws {
        try await write { db in
            for callback in callbacks {
                try db.execute(sql: "INSERT INTO callback (grp, url, body) VALUES (?, ?, ?)",
                               arguments: [callback.group, callback.url.absoluteString, callback.body])
            }
        }
    }

    func dueCallbacks(instance: String, now: Double) async throws -> [StoredCallback] {
        try await write { db in
            try Row.fetchAll(db, sql: """
                UPDATE callback SET leased_by = ?, lease_until = ? WHERE id IN (
                    SELECT c.id FROM callback c
                    JOIN (SELECT grp, MIN(id) AS first FROM callback WHERE delivered = 0 GROUP BY grp) g ON c.id = g.first
                    WHERE c.next_at <= ? AND (c.leased_by IS NULL OR c.leased_by = ? OR c.lease_until < ?))
                RETURNING *
                """, arguments: [instance, now + 60, now, instance, now]).sorted { ($0["id"] as Int64) < $1["id"] }.compactMap { row in
                let url: String = row["url"]
                return URL(string: url).map { StoredCallback(id: row["id"], url: $0, body: row["body"], attempts: row["attempts"]) }
            }
        }
    }

    func callbackDelivered(id: Int64) async throws {
        try await write { db in try db.execute(sql: "UPDATE callback SET delivered = 1, leased_by = NULL WHERE id = ?", arguments: [id]) }
    }

    func callbackFailed(id: Int64, retryAt: Double) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE callback SET attempts = attempts + 1, next_at = ?, leased_by = NULL WHERE id = ?", arguments: [retryAt, id])
        }
    }

    func callbackBacklog() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM callback WHERE delivered = 0") ?? 0 }
    }

    func mixes() async throws -> [MixRecord] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM mix ORDER BY created_at").map(Self.mix) }
    }

    func mix(id: String) async throws -> MixRecord? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM mix WHERE id = ?", arguments: [id]).map(Self.mix) }
    }

    static func mix(_ row: Row) -> MixRecord {
        MixRecord(id: row["id"], spec: row["spec"], owner: row["owner"], leaseUntil: row["lease_until"],
                  connected: (row["connected"] as String?).map { $0.split(separator: "\n").map(String.init) }, ended: row["ended"], failure: row["failure"])
    }

    func endBattle(id: String) async throws {
        try await write { db in try db.execute(sql: "UPDATE battle SET ended = 1 WHERE id = ?", arguments: [id]) }
    }

    func openBattles() async throws -> [BattleRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM battle WHERE ended = 0 ORDER BY created_at").map(Self.battle)
        }
    }

    func scoreBattle(battleId: String, key: String, request: Data, updates: [(room: String, value: Int64)], replace: Bool, showIn: [String],
                     answer: @escaping @Sendable ([String: Int64]) -> StoredAnswer) async throws -> (answer: StoredAnswer, totals: [String: Int64]?) {
        try await write { db -> (answer: StoredAnswer, totals: [String: Int64]?) in
            if let earlier = try Row.fetchOne(db, sql: "SELECT status, answer FROM score_update WHERE battle_id = ? AND idempotency_key = ?",
                                              arguments: [battleId, key]) {
                return (StoredAnswer(status: earlier["status"], body: earlier["answer"]), nil)
            }
            if try Bool.fetchOne(db, sql: "SELECT ended FROM battle WHERE id = ?", arguments: [battleId]) == true {
                throw APIError(.conflict, "battle '\(Redaction.value(battleId))' is not running")
            }
            var totals = try Self.totals(db, battleId)
            try addScores(updates, replace: replace, to: &totals)
            for update in updates {
                try db.execute(sql: "INSERT OR REPLACE INTO battle_score (battle_id, room, score) VALUES (?, ?, ?)",
                               arguments: [battleId, update.room, totals[update.room]])
            }
            let made = answer(totals)
            try db.execute(sql: "INSERT INTO score_update (idempotency_key, battle_id, request, status, answer, at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [key, battleId, request, made.status, made.body, Date().timeIntervalSince1970])
            for mixId in showIn {
                try db.execute(sql: "DELETE FROM mix_change WHERE mix_id = ? AND kind = ?", arguments: [mixId, MixRegistry.totalsChange])
                try db.execute(sql: "INSERT INTO mix_change (mix_id, kind, body, at) SELECT id, ?, ?, ? FROM mix WHERE id = ?",
                               arguments: [MixRegistry.totalsChange, Data(battleId.utf8), Date().timeIntervalSince1970, mixId])
            }
            return (made, totals)
        }
    }

    func battleTotals(battleId: String) async throws -> [String: Int64] {
        try await read { db in try Self.totals(db, battleId) }
    }

    private static func totals(_ db: Database, _ battleId: String) throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT room, score FROM battle_score WHERE battle_id = ?", arguments: [battleId])
            .map { row -> (String, Int64) in (row["room"], row["score"]) })
    }

    private static func battle(_ row: Row) -> BattleRecord {
        let mixIds: String = row["mix_ids"], rooms: String = row["rooms"], result: String? = row["result"]
        return BattleRecord(id: row["id"], mixIds: mixIds.split(separator: "\n").map(String.init), fromRoom: row["from_room"],
                            rooms: rooms.split(separator: "\n").map(String.init), durationMilliseconds: row["duration_ms"],
                            createdAt: row["created_at"], startedAt: row["started_at"],
                            result: result.flatMap { try? JSONDecoder().decode(BattleResult.self, from: Data($0.utf8)) })
    }

    func battleStarted(_ battle: BattleRecord, mixId: String, at time: Double) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO battle (id, mix_ids, from_room, rooms, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [battle.id, mixId, battle.fromRoom, battle.rooms.joined(separator: "\n"), battle.durationMilliseconds, time])
            if let row = try Row.fetchOne(db, sql: "SELECT mix_ids FROM battle WHERE id = ?", arguments: [battle.id]) {
                let mixIds = (row["mix_ids"] as String).split(separator: "\n").map(String.init)
                if !mixIds.contains(mixId) {
                    try db.execute(sql: "UPDATE battle SET mix_ids = ? WHERE id = ?", arguments: [(mixIds + [mixId]).joined(separator: "\n"), battle.id])
                }
            }
            try db.execute(sql: "UPDATE battle SET started_at = ? WHERE id = ? AND started_at IS NULL", arguments: [time, battle.id])
        }
    }

    func battleEnded(id: String, result: BattleResult) async throws {
        let text = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        try await write { db in
            try db.execute(sql: "UPDATE battle SET ended = 1, result = ?, ended_at = ? WHERE id = ? AND result IS NULL",
                           arguments: [text, result.endedAt, id])
        }
    }

    func forgetBattles(endedBefore time: Double) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM score_update WHERE battle_id IN (SELECT id FROM battle WHERE ended_at < ?)", arguments: [time])
            try db.execute(sql: "DELETE FROM battle_score WHERE battle_id IN (SELECT id FROM battle WHERE ended_at < ?)", arguments: [time])
            try db.execute(sql: "DELETE FROM battle WHERE ended_at < ?", arguments: [time])
        }
    }

    func saveMix(id: String, spec: Data, owner: String?, leaseSeconds: Double) async throws -> Bool {
        let now = Date().timeIntervalSince1970
        return try await write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO mix (id, spec, created_at, owner, lease_until) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, spec, now, owner, owner == nil ? 0 : now + leaseSeconds])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "DELETE FROM mix_change WHERE mix_id = ?", arguments: [id])
            return true
        }
    }

    func removeMix(id: String, heldBy instance: String?) async throws {
        try await write { db in
            try db.execute(sql: "DELETE FROM mix WHERE id = ? AND (? IS NULL OR owner = ?)", arguments: [id, instance, instance])
            guard db.changesCount > 0 || instance == nil else { return }
            try db.execute(sql: "DELETE FROM mix_change WHERE mix_id = ?", arguments: [id])
        }
    }

    func recordMixChange(mixId: String, kind: String, body: Data) async throws -> Int64? {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM mix WHERE id = ?", arguments: [mixId]) == true else { return nil }
            try db.execute(sql: "INSERT INTO mix_change (mix_id, kind, body, at) VALUES (?, ?, ?, ?)",
                           arguments: [mixId, kind, body, Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    func forgetMixChange(_ number: Int64) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM mix_change WHERE seq = ?", arguments: [number]) }
    }

    func mixChanges(mixId: String, after: Int64) async throws -> [MixChange] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT seq, kind, body FROM mix_change WHERE mix_id = ? AND seq > ? ORDER BY seq", arguments: [mixId, after])
                .map { MixChange(number: $0["seq"], kind: $0["kind"], body: $0["body"]) }
        }
    }

    func saveBattle(_ battle: BattleRecord) async throws {
        try await write { db in
            // The mixes' onBattleStarted may have made the record already: this one has every mix.
            try db.execute(sql: """
                INSERT INTO battle (id, mix_ids, from_room, rooms, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET mix_ids = excluded.mix_ids, from_room = excluded.from_room, rooms = excluded.rooms,
                                               duration_ms = excluded.duration_ms, created_at = excluded.created_at
                """, arguments: [battle.id, battle.mixIds.joined(separator: "\n"), battle.fromRoom, battle.rooms.joined(separator: "\n"),
                                 battle.durationMilliseconds, battle.createdAt])
        }
    }

    func battle(id: String) async throws -> BattleRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM battle WHERE id = ?", arguments: [id]).map(Self.battle)
        }
    }

    func answer(forKey key: String, battleId: String) async throws -> StoredAnswer? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT status, answer FROM score_update WHERE battle_id = ? AND idempotency_key = ?",
                             arguments: [battleId, key])
                .map { StoredAnswer(status: $0["status"], body: $0["answer"]) }
        }
    }

    func recordScoreUpdate(key: String, battleId: String, request: Data, answer: StoredAnswer) async throws {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO score_update (idempotency_key, battle_id, request, status, answer, at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [key, battleId, request, answer.status, answer.body, Date().timeIntervalSince1970])
        }
    }
}
