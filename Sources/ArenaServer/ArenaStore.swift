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
}

/// A score update as it was answered, so that a retry with the same key gets the same answer.
struct StoredAnswer: Equatable, Sendable {
    let status: Int
    let body: String
}

/// The service's durable facts: the mixes it runs, battles, and the score ledger (every
/// accepted update with its idempotency key and the answer it got). One interface, so that
/// a PostgreSQL store can stand in for the embedded one.
protocol ArenaStore: Sendable {
    func saveMix(id: String, spec: Data) throws
    func removeMix(id: String) throws
    func saveBattle(_ battle: BattleRecord) throws
    func battle(id: String) throws -> BattleRecord?
    /// The answer recorded for `key`, if an update with that key was answered before.
    func answer(forKey key: String) throws -> StoredAnswer?
    /// Records an update and its answer in one transaction, durable when this returns.
    func recordScoreUpdate(key: String, battleId: String, request: Data, answer: StoredAnswer) throws
    /// How many score updates the ledger holds for `battleId`.
    func scoreUpdateCount(battleId: String) throws -> Int
}

/// The default store: SQLite through GRDB, in `arena.sqlite` of the data folder, written
/// ahead (WAL) and synced on every commit so that an acknowledged update survives a crash.
final class SQLiteStore: ArenaStore, @unchecked Sendable {
    private let database: DatabasePool

    init(folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var configuration = Configuration()
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
        try migrator.migrate(database)
    }

    func saveMix(id: String, spec: Data) throws {
        try database.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO mix (id, spec, created_at) VALUES (?, ?, ?)",
                           arguments: [id, spec, Date().timeIntervalSince1970])
        }
    }

    func removeMix(id: String) throws {
        try database.write { db in try db.execute(sql: "DELETE FROM mix WHERE id = ?", arguments: [id]) }
    }

    func saveBattle(_ battle: BattleRecord) throws {
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO battle (id, mix_ids, from_room, rooms, duration_ms, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [battle.id, battle.mixIds.joined(separator: "\n"), battle.fromRoom, battle.rooms.joined(separator: "\n"),
                                 battle.durationMilliseconds, battle.createdAt])
        }
    }

    func battle(id: String) throws -> BattleRecord? {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM battle WHERE id = ?", arguments: [id]) else { return nil }
            let mixIds: String = row["mix_ids"], rooms: String = row["rooms"]
            return BattleRecord(id: row["id"], mixIds: mixIds.split(separator: "\n").map(String.init), fromRoom: row["from_room"],
                                rooms: rooms.split(separator: "\n").map(String.init), durationMilliseconds: row["duration_ms"],
                                createdAt: row["created_at"])
        }
    }

    func answer(forKey key: String) throws -> StoredAnswer? {
        try database.read { db in
            try Row.fetchOne(db, sql: "SELECT status, answer FROM score_update WHERE idempotency_key = ?", arguments: [key])
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

    func scoreUpdateCount(battleId: String) throws -> Int {
        try database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM score_update WHERE battle_id = ?", arguments: [battleId]) ?? 0
        }
    }
}
