import Foundation
import FoundationNetworking

/// `arena serve` as its own process on a data folder, so that a test can kill it (-9) and
/// start it again on the same folder; spoken to over real HTTP with token `t`.
final class ServeProcess: @unchecked Sendable {  // `call` reads only constants; `start`/`kill`/`stop` are the test thread's
    let folder: URL
    let port: Int
    /// More `arena serve` options (a store, an instance name).
    private let options: [String]
    private let environment: [String: String]
    /// Where its standard error goes (nowhere by default).
    private let errors: Pipe?
    private var process: Process

    init(folder: URL, port: Int, options: [String] = [], environment: [String: String] = [:], errors: Pipe? = nil) throws {
        self.folder = folder
        self.port = port
        self.options = options
        self.environment = environment
        self.errors = errors
        process = Process()
        try start()
    }

    /// Starts a new process on the same folder and port (after `kill`), and waits until it answers.
    func start() throws {
        process = Process()
        process.executableURL = arena
        process.arguments = ["serve", "--data", folder.path, "--listen", "127.0.0.1:\(port)", "--rate-limit", "0"] + options
        process.environment = ProcessInfo.processInfo.environment.merging(["ARENA_TOKEN": "t"].merging(environment) { $1 }) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors ?? FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 where (try? call("GET", "/healthz")) == nil { Thread.sleep(forTimeInterval: 0.1) }
        guard process.isRunning else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "arena serve on port \(port) exited (\(process.terminationStatus))"])
        }
    }

    /// kill -9, as a crash or the OOM killer would.
    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, and waits for the service to finalise its mixes.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Waits (up to 20 s) until mix `id` is running: on a loaded machine a mix takes a while to start.
    func waitUntilRunning(_ id: String) {
        for _ in 0..<200 {
            if (try? call("GET", "/v1/mixes/\(id)"))?.1.contains(#""state":"running""#) == true { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// The status and body of one call (60 s at most).
    func call(_ method: String, _ path: String, _ body: String? = nil) throws -> (Int, String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        // As the in-process service tests allow: under a loaded make test, three debug-build instances on
        // one PostgreSQL answered a DELETE after 7 s once; a test times what it means to bound itself.
        request.timeoutInterval = 60
        request.setValue("Bearer t", forHTTPHeaderField: "Authorization")
        request.httpBody = body.map { Data($0.utf8) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Int, String), Error> = .failure(URLError(.timedOut))
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { result = .failure(error) } else {
                result = .success(((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self)))
            }
            done.signal()
        }.resume()
        done.wait()
        return try result.get()
    }
}

