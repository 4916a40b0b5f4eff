import ArenaServer
import ArenaTestSupport
import Foundation
import Synchronization
import Testing

/// Callbacks go to each receiver on its own: one that hangs holds up only its own.
@Suite struct CallbackDeliveryTests {
    @Test func aHangingReceiverDoesNotHoldUpAnother() async throws {
        let silent = try SilentReceiver()
        defer { silent.close() }
        let receiver = try await CallbackReceiver()
        let hanging = try #require(URL(string: "http://127.0.0.1:\(silent.port)/hook"))
        // Each attempt waits 30 s for an answer: the hanging receiver's first one outlasts anything a
        // loaded machine does to the other's deliveries.
        let service = try await RunningService(callbacks: CallbackSettings(urls: [hanging, receiver.url], secret: "s3cret", attemptTimeLimit: .seconds(30)))
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        for _ in 0..<200 where !(try await service.call("GET", "/v1/mixes/room").text.contains(#""connected":["alice","bob"]"#)) {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await service.call("POST", "/v1/battles", #"{"fromRoom": "alice", "toRooms": ["bob"], "durationMs": 60000}"#).status == 201)
        func events() -> [String] {
            receiver.deliveries.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any])?["event"] as? String }
        }
        for _ in 0..<600 where !events().contains("battle.started") { try await Task.sleep(for: .milliseconds(50)) }
        let delivered = Date()
        // The other receiver had both callbacks while the hanging one's first attempt still waited.
        let attempt = try #require(silent.firstConnection, "the hanging receiver was never called")
        #expect(events() == ["battle.created", "battle.started"], "\(events())")
        #expect(delivered.timeIntervalSince(attempt) < 20, "the other receiver had them \(delivered.timeIntervalSince(attempt)) s after the hanging one was called")
        await service.stop()
        await receiver.stop()
    }
}

/// A loopback HTTP receiver that takes connections and never answers; it notes when the first came.
private final class SilentReceiver: Sendable {
    let port: Int
    private let socket: Int32
    private let connections = Mutex<(first: Date?, open: [Int32])>((nil, []))

    init() throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let socket = socket
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && listen(socket, 64) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw URLError(.cannotConnectToHost) }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in
            while true {
                let connection = accept(socket, nil, nil)
                guard connection >= 0 else { return }
                connections.withLock { $0.first = $0.first ?? Date(); $0.open.append(connection) }
            }
        }.start()
    }

    var firstConnection: Date? { connections.withLock { $0.first } }

    func close() {
        shutdown(socket, Int32(SHUT_RDWR))
        Glibc.close(socket)
        connections.withLock { $0.open.forEach { Glibc.close($0) } }
    }
}
