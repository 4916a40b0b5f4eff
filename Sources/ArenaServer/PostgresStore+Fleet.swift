import Foundation
import PostgresNIO

/// Leases and instances in PostgreSQL. Every time is the database's clock, so instances on
/// machines whose clocks disagree still agree on when a lease runs out; claims skip rows
/// another instance is claiming (`FOR UPDATE SKIP LOCKED`), so a mix is never given twice.
extension PostgresStore {
    func claimMixes(instance: String, running: [String], limit: Int, leaseSeconds: Double) async throws -> [MixRecord] {
        guard limit > 0 else { return [] }
        return try await rows("""
            WITH picked AS (
                SELECT id, owner FROM mix
                WHERE (owner IS NULL OR lease_until < \(unescaped: Self.clock) OR owner = \(instance)) AND id <> ALL(\(running))
                ORDER BY created_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            UPDATE mix SET owner = \(instance), lease_until = \(unescaped: Self.clock) + \(leaseSeconds), connected = NULL, ended = FALSE,
                failure = NULL
            FROM picked WHERE mix.id = picked.id
            RETURNING mix.id, mix.spec, picked.owner, mix.lease_until, NULL::text, FALSE, NULL::text
            """).map(Self.mix)
    }

    func renewLeases(instance: String, running: [String], leaseSeconds: Double) async throws {
        try await run("""
            UPDATE mix SET lease_until = \(unescaped: Self.clock) + \(leaseSeconds) WHERE owner = \(instance) AND id = ANY(\(running))
            """)
    }

    func mixesHeld(by instance: String, among ids: [String]) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        return try await rows("SELECT id FROM mix WHERE owner = \(instance) AND id = ANY(\(ids))").map { try $0.decode(String.self) }
    }

    /// LISTENs on one connection of its own (connected again after a second if it drops;
    /// `changed` is called then too, for what may have been missed).
    func watchChanges(_ changed: @escaping @Sendable () -> Void) {
        let task = Task(executorPreference: ServiceExecutor.shared) { [client, logger] in
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: Self.changesChannel) { notifications in
                            changed()
                            for try await _ in notifications { changed() }
                        }
                    }
                } catch {
                    logger.warning("listening for changes: \(Self.reason(error))")
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        watching.withLock { $0 = task }
    }

    func publish(_ report: MixReport, mixId: String, instance: String) async throws {
        switch report {
        case .connected(let rooms):
            try await run("UPDATE mix SET connected = \(rooms.joined(separator: "\n")) WHERE id = \(mixId) AND owner = \(instance)")
        case .ended(let failure):
            try await run("UPDATE mix SET connected = NULL, ended = TRUE, failure = \(failure) WHERE id = \(mixId) AND owner = \(instance)")
        }
    }

    func releaseMixes(instance: String) async throws {
        try await run("UPDATE mix SET lease_until = 0 WHERE owner = \(instance)")
    }

    func announce(_ instance: InstanceRecord, boot: String, leaseSeconds: Double) async throws {
        let answered = try await rows("""
            INSERT INTO instance (id, api_url, ingest_host, capacity, running, boot, seen_until, seen_at)
            VALUES (\(instance.id), \(instance.apiURL), \(instance.ingestHost), \(instance.capacity), \(instance.running), \(boot),
                    \(unescaped: Self.clock) + \(leaseSeconds), \(unescaped: Self.clock))
            ON CONFLICT (id) DO UPDATE SET api_url = excluded.api_url, ingest_host = excluded.ingest_host, capacity = excluded.capacity,
                running = excluded.running, boot = excluded.boot, seen_until = excluded.seen_until, seen_at = excluded.seen_at
            WHERE instance.boot = excluded.boot OR instance.seen_until < \(unescaped: Self.clock)
            RETURNING id
            """)
        if answered.isEmpty { throw InstanceNameTaken(name: instance.id) }
    }

    func liveInstances() async throws -> [InstanceRecord] {
        try await rows("""
            SELECT id, api_url, ingest_host, capacity, running FROM instance WHERE seen_until >= \(unescaped: Self.clock) ORDER BY id
            """).map { row in
            let (id, apiURL, ingestHost, capacity, running) = try row.decode((String, String, String, Int, Int).self)
            return InstanceRecord(id: id, apiURL: apiURL, ingestHost: ingestHost, capacity: capacity, running: running)
        }
    }

    func leave(instance: String) async throws {
        try await run("DELETE FROM instance WHERE id = \(instance)")
    }
}
