import Foundation
import GRDB

/// Leases and instances in SQLite: the same rules as in PostgreSQL, for the one instance
/// that uses a data folder's store (a restart takes its own mixes back at once).
extension SQLiteStore {
    func claimMixes(instance: String, running: [String], limit: Int, leaseSeconds: Double) async throws -> [MixRecord] {
        let now = Date().timeIntervalSince1970
        return try await write { db in
            let free = try Row.fetchAll(db, sql: """
                SELECT * FROM mix WHERE owner IS NULL OR lease_until < ? OR owner = ? ORDER BY created_at
                """, arguments: [now, instance]).map(Self.mix).filter { !running.contains($0.id) }.prefix(max(0, limit))
            return try free.map { mix in
                try db.execute(sql: "UPDATE mix SET owner = ?, lease_until = ?, connected = NULL, ended = 0, failure = NULL WHERE id = ?",
                               arguments: [instance, now + leaseSeconds, mix.id])
                return MixRecord(id: mix.id, spec: mix.spec, owner: mix.owner, leaseUntil: mix.leaseUntil)
            }
        }
    }

    func renewLeases(instance: String, running: [String], leaseSeconds: Double) async throws {
        let until = Date().timeIntervalSince1970 + leaseSeconds
        try await write { db in
            for id in try String.fetchAll(db, sql: "SELECT id FROM mix WHERE owner = ?", arguments: [instance]) where running.contains(id) {
                try db.execute(sql: "UPDATE mix SET lease_until = ? WHERE id = ?", arguments: [until, id])
            }
        }
    }

    func mixesHeld(by instance: String, among ids: [String]) async throws -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT id FROM mix WHERE owner = ?", arguments: [instance]).filter(ids.contains) }
    }

    /// One instance per SQLite file: nothing else records changes.
    func watchChanges(_ changed: @escaping @Sendable () -> Void) {}

    func publish(_ report: MixReport, mixId: String, instance: String) async throws {
        try await write { db in
            switch report {
            case .connected(let rooms):
                try db.execute(sql: "UPDATE mix SET connected = ? WHERE id = ? AND owner = ?", arguments: [rooms.joined(separator: "\n"), mixId, instance])
            case .ended(let failure):
                try db.execute(sql: "UPDATE mix SET connected = NULL, ended = 1, failure = ? WHERE id = ? AND owner = ?", arguments: [failure, mixId, instance])
            }
        }
    }

    func releaseMixes(instance: String) async throws {
        try await write { db in try db.execute(sql: "UPDATE mix SET lease_until = 0 WHERE owner = ?", arguments: [instance]) }
    }

    func announce(_ instance: InstanceRecord, boot: String, leaseSeconds: Double) async throws {
        let now = Date().timeIntervalSince1970
        let taken = try await write { db in
            try Row.fetchAll(db, sql: """
                INSERT INTO instance (id, api_url, ingest_host, capacity, running, boot, seen_until, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET api_url = excluded.api_url, ingest_host = excluded.ingest_host, capacity = excluded.capacity,
                    running = excluded.running, boot = excluded.boot, seen_until = excluded.seen_until, seen_at = excluded.seen_at
                WHERE instance.boot = excluded.boot OR instance.seen_until < ?
                RETURNING id
                """, arguments: [instance.id, instance.apiURL, instance.ingestHost, instance.capacity, instance.running, boot,
                                 now + leaseSeconds, now, now]).isEmpty
        }
        if taken { throw InstanceNameTaken(name: instance.id) }
    }

    func liveInstances() async throws -> [InstanceRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM instance WHERE seen_until >= ? ORDER BY id", arguments: [Date().timeIntervalSince1970]).map {
                InstanceRecord(id: $0["id"], apiURL: $0["api_url"], ingestHost: $0["ingest_host"], capacity: $0["capacity"],
                               running: $0["running"])
            }
        }
    }

    func leave(instance: String) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM instance WHERE id = ?", arguments: [instance]) }
    }
}
