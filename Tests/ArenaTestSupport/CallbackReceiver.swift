import Foundation
import HTTPTypes
import Hummingbird

/// A callback receiver over real HTTP: records what arrives at `/hook`; while `down`, it
/// answers 503 (and counts the refusals).
public final class CallbackReceiver: @unchecked Sendable {
    public struct Delivery {
        public let timestamp: String
        public let signature: String
        /// `X-Arena-Delivery`: the same on every attempt of one callback.
        public let id: String
        public let body: String
        /// The query of the URL it was sent to.
        public let query: String
    }

    private let lock = NSLock()
    private var received: [Delivery] = []
    private var refusals = 0
    private var isDown = false
    private var task: Task<Void, Error>?
    public private(set) var url = URL(string: "http://127.0.0.1/")!

    public init() async throws {
        let router = Router()
        router.post("hook") { [self] request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let delivery = Delivery(timestamp: request.headers[HTTPField.Name("X-Arena-Timestamp")!] ?? "",
                                    signature: request.headers[HTTPField.Name("X-Arena-Signature")!] ?? "",
                                    id: request.headers[HTTPField.Name("X-Arena-Delivery")!] ?? "", body: body, query: request.uri.query ?? "")
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

    public var down: Bool {
        get { locked { isDown } }
        set { locked { isDown = newValue } }
    }
    public var deliveries: [Delivery] { locked { received } }
    public var refused: Int { locked { refusals } }

    public func stop() async {
        task?.cancel()
        _ = await task?.result
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}
