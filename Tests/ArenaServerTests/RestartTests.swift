import Foundation
import Testing

/// What a mix became while it ran (PATCHes, added hosts, posted events) comes back after a
/// restart, not just its original spec.
@Suite struct RestartTests {
    @Test func aRestartedServiceBringsBackEveryAcceptedChange() async throws {
        let service = try await RunningService()
        let (alice, bob) = ServerTestPorts.pair()
        let (carol, _) = ServerTestPorts.pair()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: (alice, bob))).status == 201)
        try await service.waitUntilRunning("room")
        let patched = try await service.call("PATCH", "/v1/mixes/room", """
            {"addHosts": [{"userId": "carol", "input": {"rtp": {"video": {"port": \(carol)}}}}],
             "outputs": [{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}, {"type": "hls", "folder": ".", "segmentSeconds": 1}]}
            """)
        #expect(patched.status == 200, "\(patched.text)")
        for event in [#"{"event": "hostJoined", "userId": "carol"}"#, #"{"event": "hostLeft", "userId": "bob"}"#,
                      #"{"event": "cameraOff", "userId": "carol"}"#] {
            #expect(try await service.call("POST", "/v1/mixes/room/events", event).status == 200, "\(event)")
        }
        let before = try await service.call("GET", "/v1/mixes/room")
        await service.stop()

        let again = try await RunningService(folder: service.folder)
        // Asked often: the first answer that says `running` has its recorded changes applied again
        // (on a restart they are applied before the service answers; PostgresServiceTests checks
        // a mix taken over by an instance that is already serving).
        let after = try #require(try await again.waitUntilRunning("room", every: .milliseconds(2)))
        func state(_ reply: RunningService.Reply) -> [String] {
            let mix = reply.body["mix"] as? [String: Any] ?? [:]
            return [(mix["connected"] as? [String] ?? []).sorted().joined(separator: ","), (mix["outputs"] as? [String] ?? []).joined(separator: ","),
                    mix["state"] as? String ?? "", mix["owner"] as? String ?? ""]
        }
        #expect(state(after) == state(before), "before: \(before.text)\nafter: \(after.text)")
        #expect(state(after).first == "alice,carol")
        let events = try await again.call("GET", "/v1/mixes/room/events")
        let replayed = (events.body["events"] as? [[String: Any]] ?? []).map { "\($0["event"] ?? "") \($0["userId"] ?? "")" }
        #expect(replayed.contains("onCameraOff carol") && replayed.contains("onCoHostUserLeft bob"), "\(replayed)")
        #expect(try await again.call("DELETE", "/v1/mixes/room").status == 200)
        await again.stop()
    }
}
