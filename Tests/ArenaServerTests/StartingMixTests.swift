import Foundation
import Testing

/// A mix is `starting` until its pipeline runs; changes and battles posted meanwhile wait for it
/// instead of being refused, so a client may change a mix as soon as it is created.
@Suite struct StartingMixTests {
    @Test func changesPostedWhileAMixStartsWaitForIt() async throws {
        let service = try await RunningService()
        // Nine hosts on a large canvas: building the graph takes long enough to be caught starting.
        let hosts = (0..<9).map { #"{"userId": "h\#($0)", "input": {"rtp": {"video": {"port": \#(ServerTestPorts.pair().0)}}}}"# }
        let spec = """
            {"canvas": {"width": 1080, "height": 1920}, "output": {"video": {"preset": "ultrafast"}}, "live": {"disconnectTimeoutMs": 600000},
             "hosts": [\(hosts.joined(separator: ","))], "outputs": [{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}]}
            """
        #expect(try await service.call("POST", "/v1/mixes?id=room", spec).status == 201)
        let first = try await service.call("GET", "/v1/mixes/room")
        let metrics = try await service.call("GET", "/metrics").text
        let battle = try await service.call("POST", "/v1/battles", #"{"battleId": "pk", "fromRoom": "h0", "toRooms": ["h1"]}"#)
        let patched = try await service.call("PATCH", "/v1/mixes/room", #"{"template": 600}"#)
        let event = try await service.call("POST", "/v1/mixes/room/events", #"{"event": "micOff", "userId": "h1"}"#)
        let after = try await service.call("GET", "/v1/mixes/room")

        #expect(first.text.contains(#""state":"starting""#), "the first look did not catch the start: \(first.text)")
        #expect(metrics.contains(#"arena_mixes{state="starting"} 1"#))
        #expect(patched.status == 200, "\(patched.text)")
        #expect(event.status == 200, "\(event.text)")
        #expect(battle.status == 201, "\(battle.text)")
        #expect(after.text.contains(#""state":"running""#), "\(after.text)")
        let events = try await service.call("GET", "/v1/mixes/room/events")
        #expect(events.text.contains(#""event":"onMicOff""#), "\(events.text)")
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)
        await service.stop()
    }
}
