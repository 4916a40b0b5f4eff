import ArenaServer
import ArenaSpec
import ArenaTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing
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
    /// `folder`: the data folder of an earlier service, to start again on it (default: a new one).
    /// `storeURL`: a PostgreSQL store instead of the data folder's SQLite one.
    init(folder: URL? = nil, storeURL: String? = nil, callbacks: CallbackSettings? = nil, rateLimit: Int? = nil, maxMixes: Int = 8,
         connections: ConnectionLimits = ConnectionLimits(), instance: String? = nil) async throws {
        self.folder = folder ?? FileManager.default.temporaryDirectory.appendingPathComponent("arena-serve-\(UUID().uuidString)")
        let service = try await ArenaService(dataFolder: self.folder, storeURL: storeURL, token: Self.token, host: "127.0.0.1", port: 0,
                                             callbacks: callbacks, rateLimit: rateLimit, maxMixes: maxMixes, connections: connections,
                                             instance: instance)
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

    /// Unchecked Sendable: `body` is parsed JSON, immutable Foundation values.
    struct Reply: @unchecked Sendable {
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

extension RunningService {
    /// Waits (up to 20 s: a loaded machine starts a mix slowly) until mix `id` says it runs
    /// (on `instance`, if given), asking every `interval`; the first answer that says so.
    @discardableResult
    func waitUntilRunning(_ id: String, on instance: String? = nil, every interval: Duration = .milliseconds(100),
                          sourceLocation: SourceLocation = #_sourceLocation) async throws -> Reply? {
        let deadline = ContinuousClock.now + .seconds(20)
        let running = #""state":"running""# + (instance.map { #","instance":"\#($0)""# } ?? "")
        while ContinuousClock.now < deadline {
            let reply = try await call("GET", "/v1/mixes/\(id)")
            if reply.text.contains(running) { return reply }
            try await Task.sleep(for: interval)
        }
        Issue.record("mix '\(id)' did not start in 20 s", sourceLocation: sourceLocation)
        return nil
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
    private static let next = Mutex(42_000 + Int(ProcessInfo.processInfo.processIdentifier % 500) * 20)

    static func pair() -> (Int, Int) {
        next.withLock { next in
            next += 4
            return (next, next + 2)
        }
    }
}


/// Reads Server-Sent Events from a plain socket (HTTP/1.1 GET, then `event:` / `data:` lines).
final class SSEReader {
    struct Event {
        let name: String
        let data: String
    }

    private let socket: Int32
    private var buffer = ""

    init(port: Int, path: String, token: String) throws {
        socket = try loopbackSocket(port: port)
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nAccept: text/event-stream\r\n\r\n"
        _ = request.withCString { send(socket, $0, strlen($0), 0) }
        // The service subscribes before it answers: once the headers are here, no event is missed.
        let deadline = Date().addingTimeInterval(10)
        while buffer.range(of: "\n\n") == nil {
            try receive(until: deadline)
        }
        buffer.removeSubrange(..<buffer.range(of: "\n\n")!.upperBound)
    }

    private func receive(until deadline: Date) throws {
        let left = deadline.timeIntervalSinceNow
        guard left > 0 else { throw URLError(.timedOut) }
        var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(left * 1000)) > 0 else { throw URLError(.timedOut) }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let got = recv(socket, &chunk, chunk.count, 0)
        guard got > 0 else { throw URLError(.networkConnectionLost) }
        buffer += String(decoding: chunk[..<got], as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    deinit { close(socket) }

    /// The next `count` events, waiting at most `timeout` seconds in all.
    func read(count: Int, timeout: Double) throws -> [Event] {
        let deadline = Date().addingTimeInterval(timeout)
        var events: [Event] = []
        while events.count < count {
            if let range = buffer.range(of: "\n\n") {
                let block = buffer[..<range.lowerBound]
                buffer.removeSubrange(..<range.upperBound)
                let lines = block.split(separator: "\n")
                if let name = lines.first(where: { $0.hasPrefix("event: ") }), let data = lines.first(where: { $0.hasPrefix("data: ") }) {
                    events.append(Event(name: String(name.dropFirst(7)), data: String(data.dropFirst(6))))
                }
                continue
            }
            try receive(until: deadline)
        }
        return events
    }
}

/// A TCP socket connected to 127.0.0.1:`port` (blocking).
func loopbackSocket(port: Int) throws -> Int32 {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(socket)
        throw URLError(.cannotConnectToHost)
    }
    return socket
}

/// A new, empty folder in the temporary directory (outside any service's data folder), where
/// an attack that escaped would leave files.
func newFolderOutside(named prefix: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}
