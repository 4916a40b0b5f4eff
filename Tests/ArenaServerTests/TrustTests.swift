import Foundation
import Testing

/// What a caller of the API cannot make the service do: reach files outside its data folder
/// through symlinks or `file://` hosts, switch the private-address check off, forge metric
/// lines with a user id, or make the probes look dead by flooding other calls.
@Suite struct TrustTests {
    @Test func symlinksAndFileHostsCannotLeaveTheDataFolder() async throws {
        let service = try await RunningService()
        let outside = try newFolderOutside(named: "arena-outside")
        defer { try? FileManager.default.removeItem(at: outside) }
        try FileManager.default.createSymbolicLink(at: service.folder.appendingPathComponent("away"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(at: service.folder.appendingPathComponent("face.png"),
                                                   withDestinationURL: URL(fileURLWithPath: "/etc/passwd"))
        let ports = ServerTestPorts.pair()
        let base = idleMixSpec(ports: ports)
        let attempts: [(String, String)] = [
            (base.replacingOccurrences(of: #""path": "mix.mkv""#, with: #""path": "away/mix.mkv""#), "outputs[0] must write inside the data folder"),
            (base.replacingOccurrences(of: #"{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}"#,
                                       with: #"{"type": "hls", "folder": "away"}"#), "outputs[0] must write inside the data folder"),
            // Found by the fuzzer: an HLS folder "file:///etc/passwd" (a folder by that name in
            // the data folder) was accepted, and its output failed and was retried for good.
            (base.replacingOccurrences(of: #"{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}"#,
                                       with: #"{"type": "hls", "folder": "file:///etc/passwd"}"#), "outputs[0] writes to a folder that does not exist"),
            (base.replacingOccurrences(of: #""path": "mix.mkv""#, with: #""path": "nowhere/mix.mkv""#), "outputs[0] writes to a folder that does not exist"),
            (base.replacingOccurrences(of: #"{"userId": "bob","#, with: #"{"userId": "bob", "avatarUrl": "face.png","#),
             "hosts[1].avatarUrl must be"),
            (base.replacingOccurrences(of: #""input": {"rtp": {"video": {"port": \#(ports.1)}}}"#,
                                       with: #""input": "file://elsewhere\#(service.folder.path)/clip.mp4""#), "hosts[1].input must be"),
            (base.replacingOccurrences(of: #""live":"#, with: #""overlays": {"allowPrivateAvatarHosts": true}, "live":"#),
             "overlays.allowPrivateAvatarHosts is the operator's"),
            (base.replacingOccurrences(of: #""live":"#, with: #""images": {"logo": "/etc/passwd"}, "live":"#),
             "images.logo must be an http(s) URL or a file in the data folder"),
            (base.replacingOccurrences(of: #""live":"#, with: #""images": {"logo": "../\#(outside.lastPathComponent)/x.png"}, "live":"#),
             "images.logo must be an http(s) URL or a file in the data folder"),
            // An SRT caller would make the service connect out, to its own network as well.
            (base.replacingOccurrences(of: #""input": {"rtp": {"video": {"port": \#(ports.1)}}}"#,
                                       with: #""input": {"srt": {"uri": "srt://10.0.0.1:9000?mode=caller"}}"#),
             "hosts[1].input: the service takes SRT in listener mode only"),
            (base.replacingOccurrences(of: #""input": {"rtp": {"video": {"port": \#(ports.1)}}}"#,
                                       with: #""input": {"rtmp": {"url": "rtmp://169.254.169.254/live/x"}}"#),
             "hosts[1].input: RTMP inputs are pulled from a server, which the service does not do"),
        ]
        for (spec, message) in attempts {
            #expect(spec != base)
            let reply = try await service.call("POST", "/v1/mixes", spec)
            #expect(reply.status == 422 && reply.message.hasPrefix(message), "\(reply.text)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        #expect(try await service.call("GET", "/v1/mixes").text.contains(#""mixes":[]"#))
        await service.stop()
    }

    @Test func aHostileUserIdCannotForgeMetricLines() async throws {
        let service = try await RunningService()
        let spec = idleMixSpec(ports: ServerTestPorts.pair()).replacingOccurrences(
            of: #""userId": "bob""#, with: #""userId": "bob\"} 1\narena_forged_total{x=\"y\"} 99\nx""#)
        let created = try await service.call("POST", "/v1/mixes?id=room", spec)
        #expect(created.status == 201, "\(created.text)")
        try await Task.sleep(for: .seconds(1.5))
        let metrics = try await service.call("GET", "/metrics").text
        let samples = metrics.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!samples.contains { $0.hasPrefix("arena_forged_total") }, "\(metrics)")
        // Every sample line is one name, labels whose values are quoted and escaped, a value.
        let sample = /^[a-z_]+(\{([a-z_]+="([^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+$/
        for line in samples { #expect(line.wholeMatch(of: sample) != nil, "\(line)") }
        #expect(metrics.contains(#"host="bob\"} 1\narena_forged_total{x=\"y\"} 99\nx""#), "\(metrics)")
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)
        await service.stop()
    }

    @Test func probesAnswerWhileAClientIsRateLimited() async throws {
        // One call a second: the probes below come while the bucket is empty (unless the machine
        // is so loaded that a second has passed, when they prove nothing but still must pass).
        let service = try await RunningService(rateLimit: 1)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<30 { group.addTask { try await service.call("GET", "/v1/mixes").status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.contains(429))
        for _ in 0..<5 {
            #expect(try await service.call("GET", "/healthz", token: nil).status == 200)
            #expect(try await service.call("GET", "/readyz", token: nil).status == 200)
        }
        await service.stop()
    }
}

extension TrustTests {
    /// The same idempotency key in two battles is two updates; totals stop at 2^31 - 1; the
    /// reference's OpType 1 and 2 work as accumulate and overwrite.
    @Test func keysBelongToTheirBattleAndTotalsStayInRange() async throws {
        let service = try await RunningService()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await service.waitUntilRunning("room")
        func score(_ battle: String, _ key: String, op: String, _ value: Int) async throws -> RunningService.Reply {
            try await service.call("POST", "/v1/battles/\(battle)/scores",
                                   #"{"idempotencyKey": "\#(key)", "op": \#(op), "scores": [{"room": "bob", "score": \#(value)}]}"#)
        }
        func bobScore() async throws -> String {
            let status = try await service.call("GET", "/v1/rooms/bob/battle").text
            return status.firstMatch(of: /"room":"bob","score":([0-9]+)/).map { String($0.1) } ?? status
        }
        for battle in ["b1", "b3"] {
            // Five minutes, not the SDK's 30 s: a loaded test run must not see the battle end under it.
            let created = try await service.call("POST", "/v1/battles", #"{"battleId": "\#(battle)", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 300000}"#)
            #expect(created.status == 201, "\(created.text)")
            #expect(try await score(battle, "gift-1", op: "1", 7).status == 200)
            #expect(try await score(battle, "gift-1", op: "1", 7).status == 200)  // a retry: counted once
            #expect(try await bobScore() == "7", "battle \(battle)")
            #expect(try await service.call("POST", "/v1/battles/\(battle)/end").status == 200)
            try await Task.sleep(for: .seconds(0.2))
        }
        let created = try await service.call("POST", "/v1/battles", #"{"battleId": "b4", "fromRoom": "alice", "toRooms": ["bob"]}"#)
        #expect(created.status == 201, "\(created.text)")
        #expect(try await score("b4", "set", op: "2", 2_147_483_000).status == 200)
        let over = try await score("b4", "more", op: #""accumulate""#, 1_000)
        #expect(over.status == 422 && over.message.contains("more than 2147483647"), "\(over.text)")
        #expect(try await bobScore() == "2147483000")
        #expect(try await score("b4", "most", op: #""1""#, 647).status == 200)
        #expect(try await bobScore() == "2147483647")
        #expect(try await score("b4", "odd", op: "3", 1).status == 400)
        await service.stop()
    }

    /// A mix cannot write where another mix here writes (it would overwrite its recording's
    /// segments, or delete its HLS segments), whether it names the place as written or through
    /// a link, at its create or by a PATCH; once that mix is gone, the place is free.
    @Test func aMixCannotWriteWhereAnotherMixWrites() async throws {
        let service = try await RunningService()
        let folder = service.folder
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("hls"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("alias").path, withDestinationPath: ".")
        func spec(_ outputs: String) -> String {
            idleMixSpec(ports: ServerTestPorts.pair()).replacingOccurrences(of: #"{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}"#, with: outputs)
        }
        let recording = #"{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}"#
        #expect(try await service.call("POST", "/v1/mixes?id=first", spec(recording + #", {"type": "hls", "folder": "hls"}"#)).status == 201)
        for (outputs, index) in [(recording, 0), (#"{"type": "recording", "path": "alias/mix.mkv"}"#, 0),
                                 (#"{"type": "recording", "path": "own.mkv"}, {"type": "hls", "folder": "alias/hls"}"#, 1)] {
            let refused = try await service.call("POST", "/v1/mixes?id=second", spec(outputs))
            #expect(refused.status == 409 && refused.message == "outputs[\(index)] writes where mix 'first' writes; a file or folder is one mix's",
                    "\(outputs): \(refused.text)")
        }
        #expect(try await service.call("POST", "/v1/mixes?id=second", spec(#"{"type": "recording", "path": "own.mkv"}"#)).status == 201)
        try await service.waitUntilRunning("second")
        let patch = #"{"outputs": [{"type": "hls", "folder": "hls"}]}"#
        let patched = try await service.call("PATCH", "/v1/mixes/second", patch)
        #expect(patched.status == 409 && patched.message.contains("mix 'first' writes"), "\(patched.text)")
        let outputs = try await service.call("GET", "/v1/mixes/second").body["mix"] as? [String: Any]
        #expect((outputs?["outputs"] as? [String])?.first?.hasSuffix("/own.mkv") == true, "\(String(describing: outputs))")
        #expect(try await service.call("DELETE", "/v1/mixes/first").status == 200)
        #expect(try await service.call("PATCH", "/v1/mixes/second", patch).status == 200)
        #expect(try await service.call("DELETE", "/v1/mixes/second").status == 200)
        await service.stop()
    }
}
