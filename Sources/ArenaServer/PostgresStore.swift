import ArenaSpec
import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The store in PostgreSQL (`arena serve --store postgres://...`): the same tables and rules
/// as `SQLiteStore`, for a database the platform already runs, backs up and fails over.
///
/// Many instances share one database: each runs the mixes it holds leases on (see
/// `PostgresStore+Fleet`). A call waits at most `timeLimit` for a connection, and its
/// statements at most `statementTimeLimit` in the database.
final class PostgresStore: ArenaStore, Sendable {
    let client: PostgresClient
    private let running: Task<Void, Never>
    let watching = Mutex<Task<Void, Never>?>(nil)
    /// The channel that tells instances a change or a score was recorded.
    static let changesChannel = "arena_changes"
    let logger = Logger(label: "arena.store")
    var isShared: Bool { true }
    /// How long a statement may run, or wait for a lock, in the database: it ends there, so
    /// that a call the service gave up on cannot commit later.
    static let statementTimeLimit = 8
    /// How long a call waits for a connection before it is given up (no statement has run).
    static let timeLimit: Double = 30

    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=disable|prefer|require`),
    /// and migrates the schema.
    convenience init(url: String) async throws {
        do {
            try await self.init(checkedURL: url)
        } catch {
            throw StoreError(message: "the store at \(Redaction.url(url)) cannot be used: \(Self.reason(error))")
        }
    }

    private init(checkedURL url: String) async throws {
        client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: Logger(label: "arena.store.pool"))
        running = Task(executorPreference: ServiceExecutor.shared) { [client] in await client.run() }
        do {
            try await bounded { [client, logger] in try await PostgresSchema.migrate(client, logger: logger) }
        } catch {
            close()
            throw error
        }
    }

    /// What went wrong, in a line: the server's message, else the client's error code and cause
    /// (PSQLError's own description says nothing, so that queries and values stay out of logs).
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        return error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
    }

    /// Lets the database go (every connection).
    func close() {
        watching.withLock { $0?.cancel() }
        running.cancel()
    }

    /// `postgres://user:password@host:port/database?sslmode=...`; the password is never shown.
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? ""),
              let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty else {
            throw StoreError(message: "the store URL must be postgres://user[:password]@host[:port]/database")
        }
        let database = String(parts.path.dropFirst())
        let mode = parts.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        default: throw StoreError(message: "the store URL's sslmode must be disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(host: host, port: parts.port ?? 5432, username: user, password: parts.password,
                                                         database: database.isEmpty ? user : database, tls: tls)
        let limit = "\(statementTimeLimit)s"
        configuration.options.additionalStartupParameters = [("statement_timeout", limit), ("lock_timeout", limit),
                                                             ("idle_in_transaction_session_timeout", "\(statementTimeLimit * 2)s")]
        return configuration
    }

    /// Runs `work` in a task of its own. Statements are bounded in the database
    /// (`statementTimeLimit`); past `timeLimit` (no connection free, the network gone) the call
    /// is given up, whether or not the client notices.
    private func bounded<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let value = try await withTimeLimit(Self.timeLimit, work) else {
            throw StoreError(message: "the database did not answer within \(Int(Self.timeLimit)) s")
        }
        return value
    }

    func run(_ query: PostgresQuery) async throws {
        try await bounded { [client, logger] in _ = try await client.query(query, logger: logger).collect() }
    }

    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await bounded { [client, logger] in try await client.query(query, logger: logger).collect() }
    }

    /// Runs `work` in a transaction and returns what it returns; an error thrown inside comes
    /// out as it was (a refusal stays a refusal), not wrapped in the client's transaction error.
    func transaction<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) async throws -> T {
        try await bounded { [client, logger] in
            do {
                return try await client.withTransaction(logger: logger) { connection in
                    let value = try await work(connection, logger)
                    try Task.checkCancellation()  // given up meanwhile (`timeLimit`): rolled back, as the caller was told
                    return value
                }
            } catch let error as PostgresTransactionError {
                throw error.closureError ?? error.commitError ?? error.beginError ?? error
            }
        }
    }

    /// The database's clock, in Unix seconds: every instance's leases are timed by this one clock.
    static let clock = "EXTRACT(EPOCH FROM clock_timestamp())::float8"

    func saveMix(id: String, spec: Data, owner: String?, leaseSeconds: Double) async throws -> Bool {
        let lease = owner == nil ? -1e9 : leaseSeconds
        return try await transaction { connection, logger in
            let rows = try await connection.query("""
                INSERT INTO mix (id, spec, created_at, owner, lease_until)
                VALUES (\(id), \(spec), \(unescaped: Self.clock), \(owner), \(unescaped: Self.clock) + \(lease))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """, logger: logger).collect()
            guard rows.count == 1 else { return false }
            try await connection.query("DELETE FROM mix_change WHERE mix_id = \(id)", logger: logger)
            return true
        }
    }

    /// Wakes the instances' change watchers: the one running the mix stops it at once.
    func removeMix(id: String, heldBy instance: String?) async throws {
        try await transaction { connection, logger in
            let removed = try await connection.query("""
                DELETE FROM mix WHERE id = \(id) AND (\(instance)::text IS NULL OR owner = \(instance)) RETURNING id
                """, logger: logger).collect()
            guard !removed.isEmpty || instance == nil else { return }
            try await connection.query("DELETE FROM mix_change WHERE mix_id = \(id)", logger: logger)
            try await connection.query("SELECT pg_notify(\(Self.changesChannel), \(id))", logger: logger)
        }
    }

    func mixes() async throws -> [MixRecord] {
        try await rows("SELECT id, spec, owner, lease_until, connected, ended, failure FROM mix ORDER BY created_at").map(Self.mix)
    }

    func mix(id: String) async throws -> MixRecord? {
        try await rows("SELECT id, spec, owner, lease_until, connected, ended, failure FROM mix WHERE id = \(id)").first.map(Self.mix)
    }

    static func mix(_ row: PostgresRow) throws -> MixRecord {
        let (id, spec, owner, leaseUntil, connected, ended, failure) = try row.decode((String, Data, String?, Double, String?, Bool, String?).self)
        return MixRecord(id: id, spec: spec, owner: owner, leaseUntil: leaseUntil,
                         connected: connected.map { $0.split(separator: "\n").map(String.init) }, ended: ended, failure: failure)
    }

    /// Numbered under the mix's row lock, so that a mix's changes commit in number order.
    func recordMixChange(mixId: String, kind: String, body: Data) async throws -> Int64? {
        let now = Date().timeIntervalSince1970
        return try await transaction { connection, logger -> Int64? in
            guard try await connection.query("SELECT 1 FROM mix WHERE id = \(mixId) FOR UPDATE", logger: logger).collect().count == 1 else { return nil }
            let rows = try await connection.query("""
                INSERT INTO mix_change (mix_id, kind, body, at) VALUES (\(mixId), \(kind), \(body), \(now)) RETURNING seq
                """, logger: logger).collect()
            try await connection.query("SELECT pg_notify(\(Self.changesChannel), \(mixId))", logger: logger)
            return try rows.first?.decode(Int64.self)
        }
    }

    func forgetMixChange(_ number: Int64) async throws {
        try await run("DELETE FROM mix_change WHERE seq = \(number)")
    }

    func mixChanges(mixId: String, after: Int64) async throws -> [MixChange] {
        try await rows("SELECT seq, kind, body FROM mix_change WHERE mix_id = \(mixId) AND seq > \(after) ORDER BY seq").map { row in
            let (number, kind, body) = try row.decode((Int64, String, Data).self)
            return MixChange(number: number, kind: kind, body: body)
        }
    }
}
