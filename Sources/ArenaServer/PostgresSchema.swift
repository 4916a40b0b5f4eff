import Logging
import PostgresNIO

/// The PostgreSQL store's tables, made and brought up to date by numbered migrations, each
/// applied once, in a transaction, under an advisory lock (instances starting together take
/// turns).
enum PostgresSchema {
    /// Migration n is `migrations[n - 1]`: its statements, in order. Append; never edit one.
    static let migrations: [[String]] = [
        [
            "CREATE TABLE mix (id TEXT PRIMARY KEY, spec BYTEA NOT NULL, created_at DOUBLE PRECISION NOT NULL)",
            """
            CREATE TABLE mix_change (seq BIGSERIAL PRIMARY KEY, mix_id TEXT NOT NULL, kind TEXT NOT NULL, body BYTEA NOT NULL,
                                     at DOUBLE PRECISION NOT NULL)
            """,
            "CREATE INDEX mix_change_mix ON mix_change (mix_id, seq)",
            """
            CREATE TABLE battle (id TEXT PRIMARY KEY, mix_ids TEXT NOT NULL, from_room TEXT NOT NULL, rooms TEXT NOT NULL,
                                 duration_ms BIGINT NOT NULL, created_at DOUBLE PRECISION NOT NULL, ended BOOLEAN NOT NULL DEFAULT FALSE,
                                 started_at DOUBLE PRECISION, result TEXT, ended_at DOUBLE PRECISION)
            """,
            """
            CREATE TABLE score_update (seq BIGSERIAL, battle_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, request BYTEA NOT NULL,
                                       status INTEGER NOT NULL, answer TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
                                       PRIMARY KEY (battle_id, idempotency_key))
            """,
            """
            CREATE TABLE callback (id BIGSERIAL PRIMARY KEY, grp TEXT NOT NULL, url TEXT NOT NULL, body TEXT NOT NULL,
                                   attempts INTEGER NOT NULL DEFAULT 0, next_at DOUBLE PRECISION NOT NULL DEFAULT 0,
                                   delivered BOOLEAN NOT NULL DEFAULT FALSE)
            """,
            "CREATE INDEX callback_pending ON callback (delivered, grp, id)",
        ],
        [
            "ALTER TABLE mix ADD COLUMN owner TEXT, ADD COLUMN lease_until DOUBLE PRECISION NOT NULL DEFAULT 0",
            """
            CREATE TABLE instance (id TEXT PRIMARY KEY, api_url TEXT NOT NULL, ingest_host TEXT NOT NULL, capacity INTEGER NOT NULL,
                                   running INTEGER NOT NULL, boot TEXT NOT NULL, seen_until DOUBLE PRECISION NOT NULL,
                                   seen_at DOUBLE PRECISION NOT NULL)
            """,
            "ALTER TABLE callback ADD COLUMN leased_by TEXT, ADD COLUMN lease_until DOUBLE PRECISION NOT NULL DEFAULT 0",
        ],
        [
            "CREATE TABLE battle_score (battle_id TEXT NOT NULL, room TEXT NOT NULL, score BIGINT NOT NULL, PRIMARY KEY (battle_id, room))",
        ],
        [
            "ALTER TABLE mix ADD COLUMN connected TEXT",
        ],
        [
            "ALTER TABLE mix ADD COLUMN ended BOOLEAN NOT NULL DEFAULT FALSE, ADD COLUMN failure TEXT",
        ],
    ]
    private static let migrationLock: Int64 = 0x4152_454E_4132

    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS arena_schema (version INTEGER NOT NULL)", logger: logger)
            var applied = 0
            for try await version in try await connection.query("SELECT COALESCE(MAX(version), 0) FROM arena_schema", logger: logger)
                .decode(Int.self) { applied = version }
            for (index, statements) in migrations.enumerated() where index + 1 > applied {
                for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query("INSERT INTO arena_schema (version) VALUES (\(index + 1))", logger: logger)
            }
        }
    }
}
