import ArenaServer
import ArenaSpec
import ArenaTestSupport
import Crypto
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// `arena serve` through real HTTP on loopback.
@Suite(.serialized) struct ServiceTests {
    @Test func healthIsOpenAndEverythingElseNeedsTheToken() async throws {
        let service = try await RunningService()
        #expect(try await service.call("GET", "/healthz", token: nil).status == 200)
        #expect(try await service.call("GET", "/readyz", token: nil).status == 200)
        let missing = try await service.call("GET", "/v1/mixes", token: nil)
        #expect(missing.status == 401)
        #expect(missing.message.contains("Authorization: Bearer"))
        #expect(try await service.call("GET", "/v1/mixes", token: "wrong").status == 401)
        let listed = try await service.call("GET", "/v1/mixes")
        #expect(listed.status == 200)
        #expect((listed.body["mixes"] as? [Any])?.isEmpty == true)
        await service.stop()
    }

    /// `/readyz` says whether the instance takes another mix: not when it runs its limit.
    @Test func aFullInstanceIsNotReady() async throws {
        let service = try await RunningService(maxMixes: 1, instance: "solo")
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        let full = try await service.call("GET", "/readyz", token: nil)
        #expect(full.status == 503 && full.body["status"] as? String == "full" && full.body["instance"] as? String == "solo", "\(full.text)")
        let refused = try await service.call("POST", "/v1/mixes?id=more", idleMixSpec(ports: ServerTestPorts.pair(), recording: "more.mkv"))
        #expect(refused.status == 409 && refused.message.contains("its limit"), "\(refused.text)")
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)
        #expect(try await service.call("GET", "/readyz", token: nil).status == 200)
        await service.stop()
    }

    @Test func aClientOverTheRateLimitGets429UntilItSlowsDown() async throws {
        let service = try await RunningService(rateLimit: 20)
        let started = ContinuousClock.now
        let replies = try await withThrowingTaskGroup(of: RunningService.Reply.self) { group in
            // 200: even a burst slowed to 2 s by a loaded machine (which refills 40) is refused in part.
            for _ in 0..<200 { group.addTask { try await service.call("GET", "/v1/mixes") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let statuses = replies.map(\.status)
        // 20 at once, then one more each 50 ms the burst lasted (long on a loaded machine).
        let elapsed = ContinuousClock.now - started
        let allowed = statuses.filter { $0 == 200 }.count
        #expect(allowed >= 20 && Double(allowed) <= 21 + 20 * Double(elapsed.components.seconds) + 20 * Double(elapsed.components.attoseconds) / 1e18,
                "\(allowed) of 200 in \(elapsed)")
        // The rest of the burst was refused, each with its reason (what comes after the burst
        // depends on how long it took: the bucket refills one call each 50 ms).
        let refused = replies.filter { $0.status != 200 }
        #expect(!refused.isEmpty && refused.allSatisfy { $0.status == 429 })
        #expect(refused.allSatisfy { $0.message.hasPrefix("more than 20 calls a second from 127.0.0.1") })
        try await Task.sleep(for: .seconds(1))
        #expect(try await service.call("GET", "/v1/mixes").status == 200)
        await service.stop()
    }

    @Test func badRequestsGetA4xxNamingTheProblemAndChangeNothing() async throws {
        let service = try await RunningService()
        let cases: [(String, String, String?, Int, String)] = [
            ("POST", "/v1/mixes", "{not json", 400, "body is not valid JSON"),
            ("POST", "/v1/mixes", #"{"hosts": [{"userId": "a"}]}"#, 400, "hosts[0].input is required"),
            ("POST", "/v1/mixes", #"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": "x"}}}}], "outputs": []}"#, 400,
             "hosts[0].input.rtp.video.port must be a number"),
            ("POST", "/v1/mixes?id=a%20b", "{}", 400, "id 'a b' must be"),
            ("GET", "/v1/mixes/nope", nil, 404, "no mix 'nope'"),
            ("POST", "/v1/mixes/nope/events", #"{"event": "micOff", "userId": "a"}"#, 404, "no mix 'nope'"),
            ("GET", "/v1/battles/nope", nil, 404, "no battle 'nope'"),
            ("POST", "/v1/battles", #"{"fromRoom": "ghost", "toRooms": ["x"]}"#, 404, "room 'ghost' is in no running mix"),
            ("POST", "/v1/battles", #"{"fromRoom": "a"}"#, 400, "toRooms is required"),
            ("POST", "/v1/battles/nope/scores", #"{"idempotencyKey": "k", "scores": [{"room": "a", "score": 1}]}"#, 404, "no battle 'nope'"),
            ("POST", "/v1/battles/nope/scores", #"{"scores": [{"room": "a", "score": 1}]}"#, 400, "idempotencyKey is required"),
            ("POST", "/v1/battles/nope/scores", #"{"idempotencyKey": "k", "scores": [{"room": "a", "score": 1e12}]}"#, 400,
             "scores[0].score is 1000000000000"),
            ("GET", "/v1/rooms/ghost/battle", nil, 404, "room 'ghost' has no battle"),
        ]
        for (method, path, body, status, message) in cases {
            let reply = try await service.call(method, path, body)
            #expect(reply.status == status, "\(method) \(path): \(reply.text)")
            #expect(reply.message.contains(message), "\(method) \(path): \(reply.message)")
        }
        let huge = String(repeating: " ", count: 2 << 20)
        #expect(try await service.call("POST", "/v1/mixes", huge).status == 413)
        #expect((try await service.call("GET", "/v1/mixes").body["mixes"] as? [Any])?.isEmpty == true)
        await service.stop()
    }

    /// Co-host, battle, scores and end against a running mix; the recording shows the scores.
    @Test func coHostBattleScoresAndEndShowInTheMix() async throws {
        let service = try await RunningService()
        let created = try await service.call("POST", "/v1/mixes?id=room-1", idleMixSpec(ports: ServerTestPorts.pair(), canvas: (720, 1280)))
        #expect(created.status == 201, "\(created.text)")
        try await service.waitUntilRunning("room-1")
        // Events in the session's vocabulary; one that does not apply now is refused.
        // Bob leaves, is invited again, accepts and joins: the co-host flow, event by event.
        for event in [#"{"event": "hostLeft", "userId": "bob"}"#, #"{"event": "coHostRequest", "inviter": "alice", "invitee": "bob"}"#,
                      #"{"event": "coHostAccept", "invitee": "bob"}"#, #"{"event": "hostJoined", "userId": "bob"}"#,
                      #"{"event": "micOff", "userId": "bob"}"#] {
            let reply = try await service.call("POST", "/v1/mixes/room-1/events", event)
            #expect(reply.status == 200, "\(event): \(reply.text)")
        }
        let refused = try await service.call("POST", "/v1/mixes/room-1/events", #"{"event": "hostLeft", "userId": "carol"}"#)
        #expect(refused.status == 409, "\(refused.text)")

        let battle = try await service.call("POST", "/v1/battles",
                                            #"{"battleId": "pk-1", "fromRoom": "alice", "toRooms": ["bob", "nobody"], "durationMs": 60000}"#)
        #expect(battle.status == 201, "\(battle.text)")
        #expect(battle.text.contains(#""results":[{"room":"bob","code":0},{"room":"nobody","code":1}]"#))
        let again = try await service.call("POST", "/v1/battles", #"{"fromRoom": "alice", "toRooms": ["bob"]}"#)
        #expect(again.status == 409)

        for (key, room, score) in [("gift-1", "alice", 30), ("gift-2", "bob", 10)] {
            let reply = try await service.call("POST", "/v1/battles/pk-1/scores",
                                               #"{"idempotencyKey": "\#(key)", "op": "accumulate", "scores": [{"room": "\#(room)", "score": \#(score)}]}"#)
            #expect(reply.status == 200, "\(reply.text)")
        }
        let status = try await service.call("GET", "/v1/rooms/bob/battle")
        #expect(status.text.contains(#""status":"running""#))
        #expect(status.text.contains(#""scores":[{"room":"alice","score":30,"rank":1},{"room":"bob","score":10,"rank":2}]"#), "\(status.text)")
        try await Task.sleep(for: .seconds(1.5))
        let ended = try await service.call("POST", "/v1/battles/pk-1/end")
        #expect(ended.text.contains(#""status":"ended","reason":"endedEarly""#), "\(ended.text)")
        let events = try await service.call("GET", "/v1/mixes/room-1/events")
        let names = (events.body["events"] as? [[String: Any]])?.compactMap { $0["event"] as? String } ?? []
        #expect(names == ["onCoHostUserLeft", "onCoHostRequestReceived", "onCoHostRequestAccepted", "onCoHostUserJoined", "onMicOff",
                          "onBattleRequestReceived", "onBattleStarted", "onBattleScoreChanged", "onBattleScoreChanged", "onBattleEnded"], "\(names)")
        #expect(try await service.call("DELETE", "/v1/mixes/room-1").status == 200)

        // In the recording, the bar split at alice's share, 30 / 40 of 720 = 540, before the end.
        let recording = service.folder.appendingPathComponent("mix-00001.mkv").path
        let frames = try VideoFrames.decode(path: recording) { _ in true }.kept
        let scored = try #require(frames.last { frame in
            let pixel = frame.rgb(x: 560, y: 277)
            return pixel.red > 180 && pixel.blue < 150
        })
        let split = try #require((200..<700).first { x in
            let pixel = scored.rgb(x: x, y: 277)
            return pixel.red > 180 && pixel.blue < 150
        })
        #expect(abs(split - 540) <= 3, "the bar turns red at x = \(split)")
        await service.stop()
    }

    /// The same key sent 100 times at once counts once; 1,000 updates with their own keys over
    /// two rooms at once give exactly the expected totals.
    @Test func scoreUpdatesCountOncePerKeyUnderConcurrency() async throws {
        let service = try await RunningService()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await Task.sleep(for: .seconds(0.5))
        #expect(try await service.call("POST", "/v1/battles", #"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 600000}"#).status == 201)

        let same = try await withThrowingTaskGroup(of: RunningService.Reply.self) { group in
            for _ in 0..<100 {
                group.addTask {
                    try await service.call("POST", "/v1/battles/pk/scores", #"{"idempotencyKey": "once", "scores": [{"room": "alice", "score": 7}]}"#)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(same.allSatisfy { $0.status == 200 })
        #expect(Set(same.map(\.text)).count == 1, "every retry gets the first answer")

        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<1_000 {
                group.addTask {
                    let room = index % 2 == 0 ? "alice" : "bob"
                    return try await service.call("POST", "/v1/battles/pk/scores",
                                                  #"{"idempotencyKey": "gift-\#(index)", "scores": [{"room": "\#(room)", "score": 1}]}"#).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 })
        let status = try await service.call("GET", "/v1/battles/pk")
        #expect(status.text.contains(#""scores":[{"room":"alice","score":507,"rank":1},{"room":"bob","score":500,"rank":2}]"#), "\(status.text)")
        await service.stop()
    }

    /// Callbacks reach a test receiver signed, in order, and again after it was down.
    @Test func callbacksAreSignedInOrderAndRedeliveredAfterTheReceiverWasDown() async throws {
        let receiver = try await CallbackReceiver()
        receiver.down = true
        let service = try await RunningService(callbacks: CallbackSettings(urls: [receiver.url], secret: "s3cret"))
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await Task.sleep(for: .seconds(0.5))
        #expect(try await service.call("POST", "/v1/battles", #"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 60000}"#).status == 201)
        #expect(try await service.call("POST", "/v1/battles/pk/scores", #"{"idempotencyKey": "k", "scores": [{"room": "bob", "score": 9}]}"#).status == 200)
        #expect(try await service.call("POST", "/v1/battles/pk/end").status == 200)
        #expect(try await service.call("POST", "/v1/mixes/room/events", #"{"event": "hostLeft", "userId": "bob"}"#).status == 200)
        try await Task.sleep(for: .seconds(2))
        #expect(receiver.refused >= 2, "the receiver refused \(receiver.refused) deliveries while down")
        receiver.down = false
        for _ in 0..<100 where receiver.deliveries.count < 4 { try await Task.sleep(for: .seconds(0.1)) }

        let deliveries = receiver.deliveries
        let bodies = deliveries.map { try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any] }
        let names = bodies.map { $0?["event"] as? String ?? "?" }
        // In order per battle; the co-host event is in its own (the mix's) order.
        #expect(names.filter { $0.hasPrefix("battle.") } == ["battle.created", "battle.started", "battle.ended"], "\(names)")
        #expect(names.filter { $0.hasPrefix("cohost.") } == ["cohost.left"], "\(names)")
        let ended = bodies.first { $0?["event"] as? String == "battle.ended" }??["data"] as? [String: Any]
        #expect(ended?["reason"] as? String == "endedEarly")
        #expect((ended?["scores"] as? [String: Int]) == ["alice": 0, "bob": 9])
        for delivery in deliveries {
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(delivery.timestamp).\(delivery.body)".utf8), using: SymmetricKey(data: Data("s3cret".utf8)))
            #expect(delivery.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
            #expect(abs(Double(delivery.timestamp)! - Date().timeIntervalSince1970) < 60)
        }
        await service.stop()
        await receiver.stop()
    }

    /// The event stream (Server-Sent Events) and the metrics follow a running mix.
    @Test func eventStreamAndMetricsFollowTheMix() async throws {
        let service = try await RunningService()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await Task.sleep(for: .seconds(0.5))
        let stream = try SSEReader(port: service.port, path: "/v1/mixes/room/events/stream", token: RunningService.token)
        #expect(try await service.call("POST", "/v1/mixes/room/events", #"{"event": "cameraOff", "userId": "bob"}"#).status == 200)
        #expect(try await service.call("POST", "/v1/mixes/room/events", #"{"event": "hostLeft", "userId": "bob"}"#).status == 200)
        let events = try stream.read(count: 2, timeout: 5)
        #expect(events.map(\.name) == ["onCameraOff", "onCoHostUserLeft"])
        #expect(events.last?.data.contains(#""userId":"bob""#) == true)

        try await Task.sleep(for: .seconds(1))
        #expect(try await service.call("GET", "/metrics", token: nil).status == 401)
        let metrics = try await service.call("GET", "/metrics").text
        #expect(metrics.contains(#"arena_mixes{state="running"} 1"#))
        #expect(metrics.contains(#"arena_input_sending{mix="room",host="alice"} 0"#))
        let encoded = metrics.split(separator: "\n").first { $0.hasPrefix(#"arena_mix_frames_encoded_total{mix="room"}"#) }
        #expect(encoded.flatMap { Int($0.split(separator: " ").last!) }.map { $0 > 20 } == true, "\(metrics)")
        // The whole text parses as Prometheus' own client reads it, with the HTTP latency histogram by route.
        let families = try prometheusFamilies(metrics)
        #expect(families["arena_http_request_duration_seconds"]?.type == "histogram", "\(families.keys.sorted())")
        #expect(families["arena_http_request_duration_seconds"]?.routes.isSuperset(of: ["/v1/mixes", "/v1/mixes/{id}/events"]) == true,
                "\(String(describing: families["arena_http_request_duration_seconds"]))")
        #expect(families["arena_http_requests"]?.type == "counter" && families["arena_build_info"]?.type == "gauge")
        #expect(families["arena_mix_frames_encoded"]?.type == "counter" && families["arena_mixes"]?.type == "gauge")
        await service.stop()
    }

    /// A running mix's template and outputs change; its host list is not replaced.
    @Test func aRunningMixChangesTemplateAndOutputs() async throws {
        let service = try await RunningService()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await service.waitUntilRunning("room")
        try await Task.sleep(for: .seconds(1))  // a second of frames before the change
        let patched = try await service.call("PATCH", "/v1/mixes/room", """
            {"template": 601, "outputs": [{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600},
                                          {"type": "hls", "folder": ".", "segmentSeconds": 1}]}
            """)
        #expect(patched.status == 200, "\(patched.text)")
        #expect(patched.text.contains(#""outputs":["recording \#(service.folder.path)/mix.mkv","HLS \#(service.folder.path)"]"#), "\(patched.text)")
        let hosts = try await service.call("PATCH", "/v1/mixes/room", #"{"hosts": []}"#)
        #expect(hosts.status == 400 && hosts.message.contains("add hosts with addHosts"), "\(hosts.text)")
        #expect(try await service.call("PATCH", "/v1/mixes/room", #"{"template": 1234}"#).status == 422)
        #expect(try await service.call("PATCH", "/v1/mixes/room", #"{"outputs": [{"type": "recording", "path": "/tmp/x.mkv"}]}"#).status == 422)
        // Cells one by one, and decorations: checked like a spec's, naming the field.
        let cells = #"{"cells": [{"x": 0, "y": 0, "width": 1, "height": "full"}, {"x": 0.6, "y": 0.1, "width": 0.3, "height": 0.3, "zOrder": 9}]}"#
        let both = try await service.call("PATCH", "/v1/mixes/room", #"{"template": 600, "layout": \#(cells)}"#)
        #expect(both.status == 400 && both.message.contains("layout is given with template"), "\(both.text)")
        let outside = try await service.call("PATCH", "/v1/mixes/room", #"{"layout": {"units": "pixels", "cells": [{"x": 0, "y": 0, "width": 9000, "height": 10}]}}"#)
        #expect(outside.status >= 400 && outside.message.contains("layout.cells[0]"), "\(outside.text)")
        let unknown = try await service.call("PATCH", "/v1/mixes/room", #"{"decorations": {"watermarks": [{"image": "../../etc/passwd"}]}}"#)
        #expect(unknown.status >= 400 && unknown.message.contains("decorations.watermarks[0].image"), "\(unknown.text)")
        let caption = ##"{"captions": [{"text": "Room {name} 42", "anchor": "top", "offset": [0, 40], "fill": "#66000000"}]}"##
        let decorated = try await service.call("PATCH", "/v1/mixes/room", #"{"layout": \#(cells), "decorations": \#(caption)}"#)
        #expect(decorated.status == 200, "\(decorated.text)")
        try await Task.sleep(for: .seconds(2.5))
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)

        // Before: the grid (black above the cells); after: the float template (the owner full screen).
        let frames = try VideoFrames.decode(path: service.folder.appendingPathComponent("mix-00001.mkv").path) { _ in true }.kept
        expectColour(frames[10], x: 20, y: 20, 0x000000)
        expectColour(frames.last!, x: 20, y: 20, 0x1F2024)
        let playlist = try String(contentsOf: service.folder.appendingPathComponent("playlist.m3u8"), encoding: .utf8)
        #expect(playlist.contains("segment00000.ts"))
        await service.stop()
    }
}

extension ServiceTests {
    /// A host added to a running mix (with its own RTP input) joins it: three cells.
    @Test func aHostAddedToARunningMixJoinsIt() async throws {
        let service = try await RunningService()
        let ports = ServerTestPorts.pair()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ports)).status == 201)
        try await service.waitUntilRunning("room")
        try await Task.sleep(for: .seconds(1))  // a second of frames before the change
        let carol = #"{"userId": "carol", "userName": "Carol", "input": {"rtp": {"video": {"port": \#(ports.1 + 100)}}}}"#
        let added = try await service.call("PATCH", "/v1/mixes/room", #"{"addHosts": [\#(carol)]}"#)
        #expect(added.status == 200, "\(added.text)")
        #expect(try await service.call("PATCH", "/v1/mixes/room", #"{"addHosts": [\#(carol)]}"#).message.contains("'carol' is already a host"))
        let file = try await service.call("PATCH", "/v1/mixes/room", #"{"addHosts": [{"userId": "dave", "input": "dave.mp4"}]}"#)
        #expect(file.status == 422 && file.message.contains("needs an RTP input"), "\(file.text)")
        let joined = try await service.call("POST", "/v1/mixes/room/events", #"{"event": "hostJoined", "userId": "carol"}"#)
        #expect(joined.status == 200, "\(joined.text)")
        #expect(try await service.call("GET", "/v1/mixes/room").text.contains(#""connected":["alice","bob","carol"]"#))
        // The added host's placeholder layer starts with the PATCH; on a loaded machine (the
        // suite runs in parallel) its first frame has been seen to take over 3 s.
        try await Task.sleep(for: .seconds(5))
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)

        // Two cells (Bob's reaches down to y 460), then three (the small cells end at y 378).
        let frames = try VideoFrames.decode(path: service.folder.appendingPathComponent("mix-00001.mkv").path) { _ in true }.kept
        expectColour(frames[10], x: 200, y: 420, 0x1F2024)
        expectColour(frames.last!, x: 200, y: 420, 0x000000)
        expectColour(frames.last!, x: 300, y: 360, 0x1F2024)
        await service.stop()
    }
}

/// Expects the pixel at (x, y) to be `rgb` within `tolerance` per channel.
func expectColour(_ frame: RGBFrame, x: Int, y: Int, _ rgb: UInt32, tolerance: Int = 14, sourceLocation: SourceLocation = #_sourceLocation) {
    let (red, green, blue) = frame.rgb(x: x, y: y)
    let expected = (Int(rgb >> 16 & 0xFF), Int(rgb >> 8 & 0xFF), Int(rgb & 0xFF))
    let close = abs(Int(red) - expected.0) <= tolerance && abs(Int(green) - expected.1) <= tolerance && abs(Int(blue) - expected.2) <= tolerance
    #expect(close, "pixel (\(x), \(y)) is \(red),\(green),\(blue); expected \(expected)", sourceLocation: sourceLocation)
}
