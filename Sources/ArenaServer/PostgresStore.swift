import ArenaSpec
import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

/// The store in PostgreSQL (`arena serve --store postgres://...`): the same tables and rules
/// as `SQLiteStore`, for a database the platform already runs, backs up and fails over.
///
/// One instance per database for now: the store takes a session advisory lock when it opens
/// and refuses to open while another instance holds it (two instances would both restart
/// every mix). Calls block the calling thread (the service's blocking threads) for at most
/// `timeLimit`.
final class PostgresStore: ArenaStore, Sendable {
    private let client: PostgresClient
    private let running: Task<Void, Never>
    private let lock: Task<Void, Never>
    private let logger = Logger(label: "arena.store")
    /// How long a statement may run, or wait for a lock, in the database: it ends there, so
    /// that a call the service gave up on cannot commit later.
    static let statementTimeLimit = 8
    /// How long a call waits for a connection before it is given up (no statement has run).
    static let timeLimit: Double = 30
    /// The advisory lock key of "one arena serve per database".
    private static let instanceLock: Int64 = 0x4152_454E_4131

    /// Connects to `url` (`postgres://user:password@host:port/database?sslmode=disable|prefer|require`),
    /// migrates the schema, and takes the database for this instance.
    convenience init(url: String) throws {
        do {
            try self.init(checkedURL: url)
        } catch {
            throw StoreError(message: "the store at \(Redaction.url(url)) cannot be used: \(Self.reason(error))")
        }
    }

    private init(checkedURL url: String) throws {
        client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: Logger(label: "arena.store.pool"))
        running = Task { [client] in await client.run() }
        let (taken, answer) = AsyncStream<Result<Bool, Error>>.makeStream()
        lock = Task { [client, logger] in
            do {
                try await client.withConnection { connection in
                    var got = false
                    for try await value in try await connection.query("SELECT pg_try_advisory_lock(\(Self.instanceLock))", logger: logger)
                        .decode(Bool.self) { got = value }
                    answer.yield(.success(got))
                    // Held, with its connection, for as long as the store is open.
                    while got, !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
                }
            } catch {
                answer.yield(.failure(error))
            }
        }
        do {
            let gotLock = try wait {
                var iterator = taken.makeAsyncIterator()
                return try await iterator.next()?.get() ?? false
            }
            guard gotLock else { throw StoreError(message: "another arena serve already uses this database (one instance per database)") }
            try wait { [client, logger] in try await PostgresSchema.migrate(client, logger: logger) }
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

    /// Lets the database go (the lock and every connection).
    func close() {
        lock.cancel()
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

    /// Runs `work` on Swift's threads and waits for it here. Statements are bounded in the
    /// database (`statementTimeLimit`); past `timeLimit` the call is given up.
    private func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Mutex<Result<T, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            let result: Result<T, Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + Self.timeLimit) == .success else {
            task.cancel()
            throw StoreError(message: "the database did not answer within \(Int(Self.timeLimit)) s")
        }
        return try outcome.withLock { $0! }.get()
    }

    func run(_ query: PostgresQuery) throws {
        try wait { [client, logger] in _ = try await client.query(query, logger: logger).collect() }
    }

    func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
        try wait { [client, logger] in try await client.query(query, logger: logger).collect() }
    }

    func transaction(_ work: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void) throws {
        try wait { [client, logger] in try await client.withTransaction(logger: logger) { try await work($0, logger) } }
    }

    func saveMix(id: String, spec: Data) throws {
        let now = Date().timeIntervalSince1970
        try transaction { connection, logger in
            try await connection.query("""
                INSERT INTO mix (id, spec, created_at) VALUES (\(id), \(spec), \(now))
                ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, created_at = excluded.created_at
                """, logger: logger)
            try await connection.query("DELETE FROM mix_change WHERE mix_id = \(id)", logger: logger)
        }
    }

    func removeMix(id: String) throws {
        try transaction { connection, logger in
            try await connection.query("DELETE FROM mix WHERE id = \(id)", logger: logger)
            try await connection.query("DELETE FROM mix_change WHERE mix_id = \(id)", logger: logger)
        }
    }

    func mixes() throws -> [(id: String, spec: Data)] {
        try rows("SELECT id, spec FROM mix ORDER BY created_at").map { try $0.decode((String, Data).self) }
    }

    func recordMixChange(mixId: String, kind: String, body: Data) throws -> Int64 {
        try rows("""
            INSERT INTO mix_change (mix_id, kind, body, at) VALUES (\(mixId), \(kind), \(body), \(Date().timeIntervalSince1970)) RETURNING seq
            """).first?.decode(Int64.self) ?? 0
    }

    func forgetMixChange(_ number: Int64) throws {
        try run("DELETE FROM mix_change WHERE seq = \(number)")
    }

    func mixChanges(mixId: String) throws -> [(kind: String, body: Data)] {
        try rows("SELECT kind, body FROM mix_change WHERE mix_id = \(mixId) ORDER BY seq").map { try $0.decode((String, Data).self) }
    }
}
