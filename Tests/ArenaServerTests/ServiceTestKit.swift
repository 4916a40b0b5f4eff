import ArenaServer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An `ArenaService` on a free loopback port with a fresh data folder, spoken to over real HTTP.
final class RunningService: @unchecked Sendable {
    static let token = "test-token"
    let folder: URL
    let port: Int
    private let task: Task<Void, Error>
    private let session: URLSession

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-serve-\(UUID().uuidString)")
        let service = try ArenaService(dataFolder: folder, token: Self.token, host: "127.0.0.1", port: 0)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        task = Task { try await service.run(onListening: { continuation.yield($0) }) }
        var iterator = ports.makeAsyncIterator()
        port = await iterator.next() ?? 0
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 16
        configuration.timeoutIntervalForRequest = 60
        session = URLSession(configuration: configuration)
    }

    /// Stops the service (as SIGTERM would): every mix is stopped and its outputs finalised.
    func stop() async {
        task.cancel()
        _ = await task.result
    }

    struct Reply {
        let status: Int
        let body: [String: Any]
        let text: String
    }

    /// Sends a request with the token (or `token`), `body` as JSON text.
    func call(_ method: String, _ path: String, _ body: String? = nil, token: String? = RunningService.token) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await session.data(for: request)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return Reply(status: (response as! HTTPURLResponse).statusCode, body: object, text: String(decoding: data, as: UTF8.self))
    }
}

extension RunningService.Reply {
    /// `error.message` of an error reply.
    var message: String { (body["error"] as? [String: Any])?["message"] as? String ?? "" }
}

/// A 2-host live mix spec whose hosts send nothing (their cells show the placeholder); the
/// overlays still draw names, the bar and the scores.
func idleMixSpec(ports: (Int, Int), canvas: (Int, Int) = (360, 640), recording: String = "mix.mkv") -> String {
    let outputs = #"[{"type": "recording", "path": "\#(recording)", "segmentSeconds": 600}]"#
    return """
        {"canvas": {"width": \(canvas.0), "height": \(canvas.1)}, "output": {"video": {"preset": "ultrafast"}},
         "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(ports.0)}}}},
                   {"userId": "bob", "input": {"rtp": {"video": {"port": \(ports.1)}}}}],
         "live": {"disconnectTimeoutMs": 600000},
         "outputs": \(outputs)}
        """
}

/// UDP ports for one test, apart from other test processes'.
enum ServerTestPorts {
    private static let lock = NSLock()
    private static var next = 42_000 + Int(ProcessInfo.processInfo.processIdentifier % 500) * 20

    static func pair() -> (Int, Int) {
        lock.lock()
        defer { lock.unlock() }
        next += 4
        return (next, next + 2)
    }
}
