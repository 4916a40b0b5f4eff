import ArenaServer
import AsyncHTTPClient
import Foundation
import GStreamerKit
import GStreamerTestSupport
import HTTPTypes
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

// The PK score API under load, in one process so that one clock times everything:
//
//   ArenaScores [--updates N] [--concurrency C]
//
// Every call goes through a client generated from assets/openapi.yaml (swift-openapi-generator,
// at build time), over async-http-client, as a platform's backend would make them.
//
// 1. Throughput: N score updates (each with its own idempotency key) sent C at a time to a
//    running battle, against N calls of /healthz at the same concurrency (the HTTP floor), in
//    the same run.
// 2. Score to screen: 20 updates, one a second, each flipping which side leads; a receiver
//    decodes the mix's RTP output and finds the first frame whose score bar has moved. Prints
//    the time from each update's HTTP response to that frame (encode, RTP and decode included).

let arguments = CommandLine.arguments.dropFirst()
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), arguments.index(after: index) < arguments.endIndex else { return fallback }
    return Int(arguments[arguments.index(after: index)]) ?? fallback
}
let updates = option("--updates", 2_000)
let concurrency = option("--concurrency", 16)
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-scores-\(getpid())")
defer { try? FileManager.default.removeItem(at: folder) }

let service = try ArenaService(dataFolder: folder, token: "bench", host: "127.0.0.1", port: 0, rateLimit: nil)
let (ports, continuation) = AsyncStream<Int>.makeStream()
let serving = Task { try await service.run(onListening: { continuation.yield($0) }) }
var iterator = ports.makeAsyncIterator()
let port = await iterator.next() ?? 0

/// Adds the service's bearer token to every call.
struct BearerToken: ClientMiddleware {
    let token: String
    func intercept(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
                   next: (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}
var httpConfiguration = HTTPClient.Configuration()
httpConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = concurrency
let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration)
let client = Client(serverURL: URL(string: "http://127.0.0.1:\(port)")!, transport: AsyncHTTPClientTransport(configuration: .init(client: http)),
                    middlewares: [BearerToken(token: "bench")])

/// A score update's body, as the generated client types it.
func scores(_ json: String) throws -> Operations.updateScores.Input.Body.jsonPayload {
    try JSONDecoder().decode(Operations.updateScores.Input.Body.jsonPayload.self, from: Data(json.utf8))
}

/// Makes `count` calls with `call(i)` (true when answered 2xx), `concurrency` at a time; returns calls a second.
func rate(_ count: Int, _ call: @escaping @Sendable (Int) async throws -> Bool) async throws -> Double {
    let start = Date()
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        func add() {
            let index = next
            next += 1
            group.addTask { guard try await call(index) else { throw URLError(.badServerResponse) } }
        }
        for _ in 0..<min(concurrency, count) { add() }
        while try await group.next() != nil { if next < count { add() } }
    }
    return Double(count) / Date().timeIntervalSince(start)
}

// A 720x1280 mix of two idle hosts, its RTP output decoded here.
let output = 46_000
let spec = """
    {"output": {"video": {"preset": "veryfast", "keyframeIntervalSeconds": 1}}, "live": {"disconnectTimeoutMs": 600000},
     "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": 46010}}}}, {"userId": "bob", "input": {"rtp": {"video": {"port": 46012}}}}],
     "outputs": [{"type": "rtp", "videoPort": \(output), "audioPort": \(output + 2)}]}
    """
let mixSpec = try JSONDecoder().decode(Components.Schemas.MixSpec.self, from: Data(spec.utf8))
guard case .created = try await client.createMix(query: .init(id: "bench"), body: .json(mixSpec)) else { fatalError("the mix did not start") }
try await Task.sleep(for: .seconds(1))
let battle = try JSONDecoder().decode(Operations.createBattle.Input.Body.jsonPayload.self,
                                      from: Data(#"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 3600000}"#.utf8))
guard case .created = try await client.createBattle(body: .json(battle)) else { fatalError("the battle did not start") }

/// Where the bar turns from blue to red in each decoded frame, with the time it was decoded.
final class BarWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var splits: [(at: Date, x: Int)] = []
    func add(_ x: Int) { lock.lock(); splits.append((Date(), x)); lock.unlock() }
    /// The first frame after `time` whose split differs from `before` by more than 2 pixels.
    func firstMove(after time: Date, from before: Int) -> Date? {
        lock.lock()
        defer { lock.unlock() }
        return splits.first { $0.at > time && abs($0.x - before) > 2 }?.at
    }
    var latest: Int? { lock.lock(); defer { lock.unlock() }; return splits.last?.x }
}
let watch = BarWatch()
let receiver = try Pipeline(launch: """
    udpsrc port=\(output) buffer-size=4194304 caps="application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96" \
    ! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=I420 ! fakesink name=sink sync=false
    """)
try receiver.element(named: "sink")!.staticPad("sink").addWritableFrameProbe { frame in
    // The bar's top row is y = 277 on a 720-wide canvas: blue (left, low V) then red (high V).
    let width = frame.width
    let split = frame.withPlanes { planes, strides in
        let chroma = planes[2] + (277 / 2) * strides[2]
        return (0..<width / 2).first { chroma[$0] > 170 }.map { $0 * 2 } ?? width
    }
    watch.add(split)
}
try receiver.play()
try await Task.sleep(for: .seconds(2))

var delays: [Double] = []
for round in 0..<20 {
    let before = watch.latest ?? 0
    let (room, score) = round % 2 == 0 ? ("bob", 1_000_000 * (round + 1)) : ("alice", 1_000_000 * (round + 2) * 4)
    let update = try scores(#"{"idempotencyKey": "screen-\#(round)", "op": "overwrite", "scores": [{"room": "\#(room)", "score": \#(score)}]}"#)
    _ = try await client.updateScores(path: .init(id: "pk"), body: .json(update))
    let answered = Date()
    try await Task.sleep(for: .seconds(1))
    if let shown = watch.firstMove(after: answered, from: before) { delays.append(shown.timeIntervalSince(answered) * 1000) }
}
delays.sort()
let floor = try await rate(updates) { _ in
    if case .ok = try await client.health() { return true } else { return false }
}
let applied = try await rate(updates) { index in
    let update = try scores(#"{"idempotencyKey": "load-\#(index)", "scores": [{"room": "\#(index % 2 == 0 ? "alice" : "bob")", "score": 1}]}"#)
    if case .ok = try await client.updateScores(path: .init(id: "pk"), body: .json(update)) { return true } else { return false }
}
print(String(format: "score updates: %.0f a second (%d updates, %d at a time); /healthz: %.0f a second; ratio %.2f",
             applied, updates, concurrency, floor, applied / floor))
print(String(format: "score to screen (HTTP response to the first decoded output frame whose bar moved), %d of 20 seen: p50 %.0f ms, p95 %.0f ms, max %.0f ms",
             delays.count, delays.isEmpty ? .nan : delays[delays.count / 2], delays.isEmpty ? .nan : delays[min(delays.count - 1, delays.count * 95 / 100)],
             delays.last ?? .nan))
receiver.stop()
try await http.shutdown()
serving.cancel()
_ = await serving.result
