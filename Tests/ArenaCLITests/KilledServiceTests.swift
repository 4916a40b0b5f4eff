import Foundation
import GStreamerTestSupport
import Testing

/// kill -9 of `arena serve` and a start on the same data folder bring each mix back as it
/// was: template and hosts, who is connected, outputs, the battle and its scores (from the
/// REST API and from events posted to the mix), and so the same picture in the output's cells.
@Suite struct KilledServiceTests {
    /// Expects `status` from `answer`, showing the answer's body (and `what`) when it differs.
    private func expect(_ status: Int, _ answer: (Int, String), _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.0 == status, "\(what) answered \(answer.0): \(answer.1)", sourceLocation: sourceLocation)
    }

    @Test func aKilledServiceBringsItsMixBackAsItWas() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-killed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let server = try ServeProcess(folder: folder, port: freePort())
        let (alice, bob, carol) = (freePort(SOCK_DGRAM), freePort(SOCK_DGRAM), freePort(SOCK_DGRAM))
        let spec = """
            {"canvas": {"width": 360, "height": 640}, "output": {"video": {"preset": "ultrafast"}}, "live": {"disconnectTimeoutMs": 600000},
             "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(alice)}}}}, {"userId": "bob", "input": {"rtp": {"video": {"port": \(bob)}}}}],
             "outputs": [{"type": "recording", "path": "mix.mkv", "segmentSeconds": 1}]}
            """
        #expect(try server.call("POST", "/v1/mixes?id=room", spec).0 == 201)
        server.waitUntilRunning("room")
        let carolHost = #"{"userId": "carol", "input": {"rtp": {"video": {"port": \#(carol)}}}}"#
        expect(200, try server.call("PATCH", "/v1/mixes/room", #"{"template": 601, "addHosts": [\#(carolHost)]}"#))
        for event in [#"{"event": "hostJoined", "userId": "carol"}"#, #"{"event": "cameraOff", "userId": "carol"}"#,
                      #"{"event": "micOff", "userId": "alice"}"#] {
            expect(200, try server.call("POST", "/v1/mixes/room/events", event), event)
        }
        expect(201, try server.call("POST", "/v1/battles", #"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 600000}"#))
        expect(200, try server.call("POST", "/v1/battles/pk/scores", #"{"idempotencyKey": "g1", "scores": [{"room": "alice", "score": 30}]}"#))
        expect(200, try server.call("POST", "/v1/mixes/room/events", #"{"event": "score", "battleId": "pk", "userId": "bob", "score": 12}"#))
        // A segment closed after every change above (a loaded machine may take a while).
        let changed = segments(in: folder).count
        for _ in 0..<200 where segments(in: folder).count < changed + 2 { Thread.sleep(forTimeInterval: 0.1) }
        let mixBefore = try server.call("GET", "/v1/mixes/room").1
        let battleBefore = try server.call("GET", "/v1/battles/pk").1
        let segmentsBefore = segments(in: folder)
        let open = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix(".mix-") }
        server.kill()

        try server.start()
        server.waitUntilRunning("room")
        // The segment open at the kill is published with what was written of it.
        #expect(open.count == 1, "\(open)")
        for name in open {
            let published = String(name.dropFirst().dropLast(".partial".count))
            let frames = (try? VideoFrames.decode(path: folder.appendingPathComponent(published).path).count) ?? 0
            #expect(segments(in: folder).contains(published) && frames > 0, "\(name) left at the kill: \(frames) frames")
        }
        Thread.sleep(forTimeInterval: 3)
        let mixAfter = try server.call("GET", "/v1/mixes/room").1
        let battleAfter = try server.call("GET", "/v1/battles/pk").1
        #expect(try server.call("DELETE", "/v1/mixes/room").0 == 200)
        server.stop()

        #expect(Self.fields(mixAfter, ["state", "owner", "connected", "outputs", "battleId"]) ==
                Self.fields(mixBefore, ["state", "owner", "connected", "outputs", "battleId"]), "before: \(mixBefore)\nafter: \(mixAfter)")
        #expect(mixAfter.contains(#""connected":["alice","bob","carol"]"#), "\(mixAfter)")
        #expect(Self.fields(battleAfter, ["status", "scores"]) == Self.fields(battleBefore, ["status", "scores"]), "before: \(battleBefore)\nafter: \(battleAfter)")
        #expect(battleAfter.contains(#""scores":[{"room":"alice","score":30,"rank":1},{"room":"bob","score":12,"rank":2}]"#), "\(battleAfter)")

        // The last frame recorded before the kill and the last one after: the same cells.
        let before = try lastFrame(of: try #require(segmentsBefore.last, "\((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])"), in: folder)
        let after = try lastFrame(of: try #require(segments(in: folder).last), in: folder)
        var differing: [String] = []
        for y in stride(from: 20, to: 640, by: 40) {
            for x in stride(from: 20, to: 360, by: 40) {
                let (a, b) = (before.rgb(x: x, y: y), after.rgb(x: x, y: y))
                if abs(Int(a.red) - Int(b.red)) + abs(Int(a.green) - Int(b.green)) + abs(Int(a.blue) - Int(b.blue)) > 40 { differing.append("(\(x), \(y))") }
            }
        }
        // The battle's timer text is the one thing that moves on its own.
        #expect(differing.count <= 4, "\(differing.count) of 144 probes differ: \(differing)")
    }

    private func lastFrame(of segment: String, in folder: URL) throws -> RGBFrame {
        let frames = try VideoFrames.decode(path: folder.appendingPathComponent(segment).path) { _ in true }.kept
        return try #require(frames.last, "\(segment) has no frames")
    }

    /// Closed segments, oldest first.
    private func segments(in folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("mix-") && $0.hasSuffix(".mkv") }.sorted()
    }

    /// The text of each named top-level field of the answer's object (`mix` or `battle`).
    static func fields(_ body: String, _ names: [String]) -> [String] {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        let inner = (object["mix"] ?? object["battle"]) as? [String: Any] ?? [:]
        return names.map { name in
            inner[name].flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed, .sortedKeys]) }
                .map { String(decoding: $0, as: UTF8.self) } ?? "-"
        }
    }
}
