import Foundation
import Testing

/// A battle's record outlives the mix's 5 s result, counts down while it runs, and covers
/// battles started by posted events as well as through the API.
@Suite struct BattleRecordTests {
    @Test func resultsStayTimesCountDownAndPostedBattlesAreScorable() async throws {
        let service = try await RunningService()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await service.waitUntilRunning("room")
        func field(_ reply: RunningService.Reply, _ name: String) -> Int? { (reply.body["battle"] as? [String: Any] ?? reply.body)[name] as? Int }

        // Five minutes: a loaded test run must not see the battle end before its /end.
        let created = try await service.call("POST", "/v1/battles", #"{"battleId": "b1", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 300000}"#)
        #expect(created.status == 201, "\(created.text)")
        #expect(try await service.call("POST", "/v1/battles/b1/scores", #"{"idempotencyKey": "g1", "scores": [{"room": "bob", "score": 9}]}"#).status == 200)
        let first = try await service.call("GET", "/v1/battles/b1")
        try await Task.sleep(for: .seconds(1))
        let second = try await service.call("GET", "/v1/battles/b1")
        let (before, after) = (try #require(field(first, "remainingMs")), try #require(field(second, "remainingMs")))
        #expect(before <= 300_000 && after <= before - 700 && after > 0, "\(first.text) then \(second.text)")
        #expect(try await service.call("POST", "/v1/battles/b1/end").status == 200)
        try await Task.sleep(for: .seconds(0.5))

        // A battle started by posted events is in the store and scorable through the API.
        let request = #"{"event": "battleRequest", "battleId": "e1", "inviter": "alice", "invitees": ["bob"], "needResponse": false, "duration": 60}"#
        #expect(try await service.call("POST", "/v1/mixes/room/events", request).status == 200)
        let scored = try await service.call("POST", "/v1/battles/e1/scores", #"{"idempotencyKey": "g1", "scores": [{"room": "alice", "score": 4}]}"#)
        #expect(scored.status == 200, "\(scored.text)")
        #expect(try await service.call("POST", "/v1/mixes/room/events", #"{"event": "battleEnd", "battleId": "e1"}"#).status == 200)

        // Past the mix's 5 s result, both records still say how they ended.
        try await Task.sleep(for: .seconds(6))
        let b1 = try await service.call("GET", "/v1/battles/b1")
        #expect(b1.text.contains(#""status":"ended","reason":"endedEarly""#), "\(b1.text)")
        #expect(b1.text.contains(#""scores":[{"room":"alice","score":0,"rank":2},{"room":"bob","score":9,"rank":1}]"#), "\(b1.text)")
        let now = Int(Date().timeIntervalSince1970)
        for name in ["createdAt", "startedAt", "endedAt"] {
            #expect(field(b1, name).map { now - 600 ... now ~= $0 } == true, "\(name) in \(b1.text)")
        }
        let e1 = try await service.call("GET", "/v1/battles/e1")
        #expect(e1.text.contains(#""status":"ended","reason":"endedEarly""#), "\(e1.text)")
        #expect(e1.text.contains(#"{"room":"alice","score":4,"rank":1}"#), "\(e1.text)")
        await service.stop()
    }
}
