import Foundation
import GRDB

/// A battle as the service records it.
struct BattleRecord: Equatable, Sendable {
    let id: String
    let mixIds: [String]
    let fromRoom: String
    let rooms: [String]
    let durationMilliseconds: Int
    /// Unix seconds.
    let createdAt: Double
    /// Unix seconds, once a mix started it.
    var startedAt: Double? = nil
    /// How it ended, once it did.
    var result: BattleResult? = nil
}

/// How a battle ended: why, when (Unix seconds), and the final scores.
struct BattleResult: Equatable, Sendable, Codable {
    let reason: String
    let endedAt: Double
    let scores: [String: Int64]
}

/// A score update as it was answered, so that a retry with the same key gets the same answer.
struct StoredAnswer: Equatable, Sendable {
    let status: Int
    let body: String
}

/// A callback waiting in the outbox.
struct StoredCallback: Sendable {
    let id: Int64
    let url: URL
    let body: String
    let attempts: Int
}

/// The store could not do what was asked, through no fault of the caller's (answered 503).
struct StoreError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The service's durable facts: the mixes it runs, battles, and the score ledger (every
/// accepted update with its idempotency key and the answer it got). One interface, so that
/// a PostgreSQL store can stand in for the embedded one.
protocol ArenaStore: Sendable {
    /// Records a new mix (a mix of that id before it, and its changes, are replaced).
    func saveMix(id: String, spec: Data) throws
    func removeMix(id: String) throws
    /// Every mix saved and not removed, oldest first: what a restarted service runs again.
    func mixes() throws -> [(id: String, spec: Data)]
    /// Appends a change to a running mix (`patch` or `event`, with its body), before it is
    /// applied; returns its number in the mix's sequence.
    func recordMixChange(mixId: String, kind: String, body: Data) throws -> Int64
    /// Drops a recorded change the mix then refused.
    func forgetMixChange(_ number: Int64) throws
    /// A mix's recorded changes, in the order they were accepted.
    func mixChanges(mixId: String) throws -> [(kind: String, body: Data)]
    func saveBattle(_ battle: BattleRecord) throws
    func battle(id: String) throws -> BattleRecord?
    /// Marks a battle as ended (early, or found over), so a restart does not resume it.
    func endBattle(id: String) throws
    /// Battles not marked ended, oldest first.
    func openBattles() throws -> [BattleRecord]
    /// A mix started `battle` (its record is made if the battle began by posted events, and the
    /// mix is added to it); the first start time is kept.
    func battleStarted(_ battle: BattleRecord, mixId: String, at: Double) throws
    /// Records how a battle ended, once: it is no longer resumed, and its result stays.
    func battleEnded(id: String, result: BattleResult) throws
    /// Forgets battles (and their ledgers) that ended before `time` (Unix seconds).
    func forgetBattles(endedBefore time: Double) throws
    /// Adds callbacks to the outbox: (order group, URL, body); a group's are sent in this order.
    func addCallbacks(_ callbacks: [(group: String, url: URL, body: String)]) throws
    /// The oldest undelivered callback of each group, if its next attempt is due.
    func dueCallbacks(now: Double) throws -> [StoredCallback]
    func callbackDelivered(id: Int64) throws
    func callbackFailed(id: Int64, retryAt: Double) throws
    /// Callbacks not yet delivered.
    func callbackBacklog() throws -> Int
    /// The request bodies of a battle's recorded score updates, in the order they were applied.
    func scoreRequests(battleId: String) throws -> [Data]
    /// The answer recorded for `key`, if an update with that key was answered before.
    func answer(forKey key: String, battleId: String) throws -> StoredAnswer?
    /// Records an update and its answer in one transaction, durable when this returns.
    func recordScoreUpdate(key: String, battleId: String, request: Data, answer: StoredAnswer) throws
}

/// The default store: SQLite through GRDB, in `arena.sqlite` of the data folder, written
/// ahead (WAL) and synced on every commit so that an acknowledged update survives a crash.
final class SQLiteStore: ArenaStore, Sendable {
    private let database: DatabasePool

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
        try migrator.migrate(database)
    }

    func addCallbacks(_ callbacks: [(group: String, url: URL, body: String)]) throws {
        try database.write { db in
            for callback in callbacks {
                try db.execute(sql: "INSERT INTO callback (grp, url, body) VALUES (?, ?, ?)",
                               arguments: [callback.group, callback.url.absoluteString, callback.body])
            }
        }
    }

    func dueCallbacks(now: Double) throws -> [StoredCallback] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.* FROM callback c
                JOIN (SELECT grp, MIN(id) AS first FROM callback WHERE delivered = 0 GROUP BY grp) g ON c.id = g.first
                WHERE c.next_at <= ? ORDER BY c.id
                """, arguments: [now]).compactMap { row in
                let url: String = row["url"]
                return URL(string: url).map { StoredCallback(id: row["id"], url: $0, body: row["body"], attempts: row["attempts"]) }
            }
        }
    }

    func callbackDelivered(id: Int64) throws {
        try database.write { db in try db.execute(sql: "UPDATE callback SET delivered = 1 WHERE id = ?", arguments: [id]) }
    }

    func callbackFailed(id: Int64, retryAt: Double) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE callback SET attempts = attempts + 1, next_at = ? WHERE id = ?", arguments: [retryAt, id])
        }
    }

    func callbackBacklog() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM callback WHERE delivered = 0") ?? 0 }
    }

    func mixes() throws -> [(id: String, spec: Data)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, spec FROM mix ORDER BY created_at").map { ($0["id"], $0["spec"]) }
        }
    }

    func endBattle(id: String) throws {
        try database.write { db in try db.execute(sql: "UPDATE battle SET ended = 1 WHERE id = ?", arguments: [id]) }
    }

    func openBattles() throws -> [BattleRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM battle WHERE ended = 0 ORDER BY created_at").map(Self.battle)
        }
    }

    func scoreRequests(battleId: String) throws -> [Data] {
        try database.read { db in
            try Data.fetchAll(db, sql: "SELECT request FROM score_update WHERE battle_id = ? AND status = 200 ORDER BY rowid", arguments: [battleId])
        }
    }

    private static func battle(_ row: Row) -> BattleRecord {
        let mixIds: String = row["mix_ids"], rooms: String = row["rooms"], result: String? = row["result"]
        return BattleRecord(id: row["id"], mixIds: mixIds.split(separator: "\n").map(String.init), fromRoom: row["from_room"],
                            rooms: rooms.split(separator: "\n").map(String.init), durationMilliseconds: row["duration_ms"],
                            createdAt: row["created_at"], startedAt: row["started_at"],
                            result: result.flatMap { try? JSONDecoder().decode(BattleResult.self, from: Data($0.utf8)) })
    }

    func battleStarted(_ battle: BattleRecord, mixId: String, at time: Double) throws {
        try database.write { db in
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

    func battleEnded(id: String, result: BattleResult) throws {
        let text = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
        try database.write { db in
            try db.execute(sql: "UPDATE battle SET ended = 1, result = ?, ended_at = ? WHERE id = ? AND result IS NULL",
                           arguments: [text, result.endedAt, id])
        }
    }

    func forgetBattles(endedBefore time: Double) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM score_update WHERE battle_id IN (SELECT id FROM battle WHERE ended_at < ?)", arguments: [time])
            try db.execute(sql: "DELETE FROM battle WHERE ended_at < ?", arguments: [time])
        }
    }

    func saveMix(id: String, spec: Data) throws {
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO mix (id, spec, created_at) VALUES (?, ?, ?)",
                           arguments: [id, spec, Date().timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM mix_change WHERE mix_id = ?", arguments: [id])
        }
    }

    func removeMix(id: String) throws {
        try database.write { db in
            try db.execute(sql: "DELETE FROM mix WHERE id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM mix_change WHERE mix_id = ?", arguments: [id])
        }
    }

    func recordMixChange(mixId: String, kind: String, body: Data) throws -> Int64 {
        try database.write { db in
            try db.execute(sql: "INSERT INTO mix_change (mix_id, kind, body, at) VALUES (?, ?, ?, ?)",
                           arguments: [mixId, kind, body, Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    func forgetMixChange(_ number: Int64) throws {
        try database.write { db in try db.execute(sql: "DELETE FROM mix_change WHERE seq = ?", arguments: [number]) }
    }

    func mixChanges(mixId: String) throws -> [(kind: String, body: Data)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, body FROM mix_change WHERE mix_id = ? ORDER BY seq", arguments: [mixId])
                .map { ($0["kind"], $0["body"]) }
        }
    }

    func saveBattle(_ battle: BattleRecord) throws {
        try database.write { db in
            // The mixes' onBattleStarted may have made the record already: this one has every mix.
            try db.execute(sql: """
                INSERT INTO battle (id, mix_ids, from_room, rooms, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET mix_ids = excluded.mix_ids, from_room = excluded.from_room, rooms = excluded.rooms,
                                               duration_ms = excluded.duration_ms, created_at = excluded.created_at
                """, arguments: [battle.id, battle.mixIds.joined(separator: "\n"), battle.fromRoom, battle.rooms.joined(separator: "\n"),
                                 battle.durationMilliseconds, battle.createdAt])
        }
    }

    func battle(id: String) throws -> BattleRecord? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM battle WHERE id = ?", arguments: [id]).map(Self.battle)
        }
    }

    func answer(forKey key: String, battleId: String) throws -> StoredAnswer? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT status, answer FROM score_update WHERE battle_id = ? AND idempotency_key = ?",
                             arguments: [battleId, key])
                .map { StoredAnswer(status: $0["status"], body: $0["answer"]) }
        }
    }

    func recordScoreUpdate(key: String, battleId: String, request: Data, answer: StoredAnswer) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO score_update (idempotency_key, battle_id, request, status, answer, at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [key, battleId, request, answer.status, answer.body, Date().timeIntervalSince1970])
        }
    }
}
