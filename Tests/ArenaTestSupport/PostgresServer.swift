import Foundation
import GStreamerTestSupport
import Synchronization

/// The PostgreSQL server's process id, for the exit handler that stops it.
private let serverProcess = Atomic<Int32>(0)

/// A PostgreSQL 15 server for the test run, from Debian's package: `initdb` into a temporary
/// folder and `postgres` on a free loopback port, run as the `postgres` user when the tests
/// run as root (PostgreSQL refuses root). Started once, when a test first asks for a
/// database; each test gets a database of its own; stopped when the test process exits.
///
/// The server is the test process's child, not a daemon started by `pg_ctl`: a daemon keeps
/// descriptors Foundation's `Process` waits on, and `waitUntilExit` never returns.
public final class PostgresServer: @unchecked Sendable {  // `server` is set once, in init
    /// Started on a thread of its own, not on one of Swift's cooperative threads.
    private static let shared = Task { try await onThread { Result { try PostgresServer() } }.get() }

    /// The URL of a new, empty database.
    public static func database() async throws -> String {
        let server = try await shared.value
        return try await onThread { Result { try server.newDatabase() } }.get()
    }

    public let folder: URL
    public let port: Int
    private let server = Process()
    private static let binaries = "/usr/lib/postgresql/15/bin"

    private init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if getuid() == 0 { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: folder.path) }
        port = freePort()
        try Self.run("initdb", ["-D", folder.appendingPathComponent("data").path, "-U", "arena", "-A", "trust", "-E", "UTF8", "--no-sync"])
        let arguments = ["-D", folder.appendingPathComponent("data").path, "-p", String(port), "-k", folder.path,
                         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        if getuid() == 0 {
            server.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")  // runs postgres itself, as postgres
            server.arguments = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", "\(Self.binaries)/postgres"] + arguments
        } else {
            server.executableURL = URL(fileURLWithPath: "\(Self.binaries)/postgres")
            server.arguments = arguments
        }
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        serverProcess.store(server.processIdentifier, ordering: .relaxed)
        atexit {
            let pid = serverProcess.load(ordering: .relaxed)
            if pid > 0 { kill(pid, SIGQUIT) }  // PostgreSQL's immediate shutdown
        }
        for _ in 0..<300 where (try? Self.run("pg_isready", ["-h", "127.0.0.1", "-p", String(port), "-q"])) == nil {
            Thread.sleep(forTimeInterval: 0.1)
        }
        try Self.run("pg_isready", ["-h", "127.0.0.1", "-p", String(port)])
    }

    private func newDatabase() throws -> String {
        let name = "arena_\(UUID().uuidString.prefix(8).lowercased())"
        try Self.run("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "arena", "-d", "postgres", "-q", "-c", "CREATE DATABASE \(name)"])
        return "postgres://arena@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Runs one of PostgreSQL's programs (as `postgres` when root) and waits for it.
    private static func run(_ program: String, _ arguments: [String]) throws {
        let process = Process()
        let path = "\(binaries)/\(program)"
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        }
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("arena-pg-\(program)-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        process.waitUntilExit()
        let text = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "\(program) failed: \(text)"])
        }
    }
}
