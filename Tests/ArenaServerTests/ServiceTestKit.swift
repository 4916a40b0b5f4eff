import ArenaServer
import Foundation
import HTTPTypes
import Hummingbird
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

    /// `rateLimit`: calls a second per client (none by default: the load tests need none).
    init(callbacks: CallbackSettings? = nil, rateLimit: Int? = nil) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-serve-\(UUID().uuidString)")
        let service = try ArenaService(dataFolder: folder, token: Self.token, host: "127.0.0.1", port: 0, callbacks: callbacks,
                                       rateLimit: rateLimit)
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

/// A callback receiver over real HTTP: records what arrives at `/hook`; while `down`, it
/// answers 503 (and counts the refusals).
final class CallbackReceiver: @unchecked Sendable {
    struct Delivery {
        let timestamp: String
        let signature: String
        let body: String
    }

    private let lock = NSLock()
    private var received: [Delivery] = []
    private var refusals = 0
    private var isDown = false
    private var task: Task<Void, Error>?
    private(set) var url = URL(string: "http://127.0.0.1/")!

    init() async throws {
        let router = Router()
        router.post("hook") { [self] request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let delivery = Delivery(timestamp: request.headers[HTTPField.Name("X-Arena-Timestamp")!] ?? "",
                                    signature: request.headers[HTTPField.Name("X-Arena-Signature")!] ?? "", body: body)
            return locked {
                if isDown {
                    refusals += 1
                    return Response(status: .serviceUnavailable)
                }
                received.append(delivery)
                return Response(status: .noContent)
            }
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) })
        task = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        url = URL(string: "http://127.0.0.1:\(await iterator.next() ?? 0)/hook")!
    }

    var down: Bool {
        get { locked { isDown } }
        set { locked { isDown = newValue } }
    }
    var deliveries: [Delivery] { locked { received } }
    var refused: Int { locked { refusals } }

    func stop() async {
        task?.cancel()
        _ = await task?.result
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}