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
        // All at once, while it starts: each waits for it on its own.
        async let first = service.call("GET", "/v1/mixes/room")
        async let metrics = service.call("GET", "/metrics")
        async let battle = service.call("POST", "/v1/battles", #"{"battleId": "pk", "fromRoom": "h0", "toRooms": ["h1"]}"#)
        async let patched = service.call("PATCH", "/v1/mixes/room", #"{"template": 600}"#)
        async let event = service.call("POST", "/v1/mixes/room/events", #"{"event": "micOff", "userId": "h1"}"#)
        let (looked, counted, battled, patch, micOff) = try await (first, metrics, battle, patched, event)
        let after = try await service.call("GET", "/v1/mixes/room")

        #expect(looked.text.contains(#""state":"starting""#), "the first look did not catch the start: \(looked.text)")
        #expect(counted.text.contains(#"arena_mixes{state="starting"} 1"#))
        #expect(patch.status == 200, "\(patch.text)")
        #expect(micOff.status == 200, "\(micOff.text)")
        #expect(battled.status == 201, "\(battled.text)")
        #expect(after.text.contains(#""state":"running""#), "\(after.text)")
        let events = try await service.call("GET", "/v1/mixes/room/events")
        #expect(events.text.contains(#""event":"onMicOff""#), "\(events.text)")
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)
        await service.stop()
    }
}
