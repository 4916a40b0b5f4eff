import ArenaServer
import ArenaTestSupport
import Foundation
import Testing

/// Callbacks go to each receiver on its own: one that hangs holds up only its own.
@Suite struct CallbackDeliveryTests {
    @Test func aHangingReceiverDoesNotHoldUpAnother() async throws {
        let (silent, silentPort) = try silentListener()
        defer { close(silent) }
        let receiver = try await CallbackReceiver()
        let hanging = try #require(URL(string: "http://127.0.0.1:\(silentPort)/hook"))
        let service = try await RunningService(callbacks: CallbackSettings(urls: [hanging, receiver.url], secret: "s3cret"))
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await Task.sleep(for: .seconds(0.5))
        let created = Date()
        #expect(try await service.call("POST", "/v1/battles", #"{"fromRoom": "alice", "toRooms": ["bob"], "durationMs": 60000}"#).status == 201)
        func events() -> [String] {
            receiver.deliveries.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any])?["event"] as? String }
        }
        for _ in 0..<100 where !events().contains("battle.started") { try await Task.sleep(for: .milliseconds(50)) }
        // The hanging receiver's attempt takes 5 s before it times out; the other's callbacks do not wait for it.
        let waited = Date().timeIntervalSince(created)
        #expect(events() == ["battle.created", "battle.started"] && waited < 3, "\(events()) after \(waited) s")
        await service.stop()
        await receiver.stop()
    }
}

/// A loopback TCP port that takes connections (the kernel completes them) and never answers.
private func silentListener() throws -> (Int32, Int) {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && listen(socket, 64) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw URLError(.cannotConnectToHost) }
    return (socket, Int(UInt16(bigEndian: address.sin_port)))
}
