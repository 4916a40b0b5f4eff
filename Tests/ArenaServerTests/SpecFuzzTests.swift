import Foundation
import Testing

/// Mutated mix specs, patches, events, battles and scores against a running service: never a
/// 5xx, a hang or a crash; a refusal is one clear error (one line naming what is wrong); what
/// is accepted is undone again (mixes deleted, battles ended), and the service still serves
/// its running mix at the end.
///
/// `make test` runs 1,000 cases; `make fuzz` runs 100,000 (`ARENA_FUZZ_CASES`). A run is
/// repeated exactly from its seed (`ARENA_FUZZ_SEED`); a failing case is printed whole.
@Suite struct SpecFuzzTests {
    static let cases = ProcessInfo.processInfo.environment["ARENA_FUZZ_CASES"].flatMap(Int.init) ?? 1_000
    static let seed = ProcessInfo.processInfo.environment["ARENA_FUZZ_SEED"].flatMap(UInt64.init) ?? 20_261_129

    /// What is fuzzed: the path it is sent to and the valid documents mutations start from.
    struct Target {
        let method: String
        let path: String
        let documents: [String]
    }

    static func targets(ports: (Int, Int)) throws -> [Target] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let pipelines = try FileManager.default.contentsOfDirectory(at: root.appendingPathComponent("pipelines"), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }.map { try String(contentsOf: $0, encoding: .utf8) }
        let host = #"{"userId": "carol", "userName": "Carol", "avatarUrl": "face.png", "input": {"rtp": {"video": {"port": \#(ports.1 + 40)}}}}"#
        return [
            Target(method: "POST", path: "/v1/mixes?id=fuzzed", documents: pipelines + [idleMixSpec(ports: (ports.0 + 20, ports.1 + 20))]),
            Target(method: "PATCH", path: "/v1/mixes/base", documents: [
                #"{"template": 601}"#, #"{"addHosts": [\#(host)]}"#,
                #"{"outputs": [{"type": "recording", "path": "base.mkv", "segmentSeconds": 600}, {"type": "hls", "folder": ".", "segmentSeconds": 2}]}"#,
            ]),
            Target(method: "POST", path: "/v1/mixes/base/events", documents: [
                #"{"event": "micOff", "userId": "bob"}"#, #"{"event": "cameraOn", "userId": "bob"}"#,
                #"{"event": "coHostRequest", "inviter": "alice", "invitee": "carol", "timeout": 10, "extensionInfo": "x"}"#,
                #"{"event": "battleRequest", "battleId": "ev-1", "inviter": "alice", "invitees": ["bob"], "duration": 30, "needResponse": false}"#,
                #"{"event": "score", "battleId": "ev-1", "userId": "alice", "score": 10, "op": "add"}"#,
                #"{"event": "battleEnd", "battleId": "ev-1"}"#, #"{"event": "hostLeft", "userId": "bob"}"#, #"{"event": "hostJoined", "userId": "bob"}"#,
            ]),
            Target(method: "POST", path: "/v1/battles", documents: [
                #"{"battleId": "fz", "fromRoom": "alice", "toRooms": ["bob", "nobody"], "durationMs": 60000, "extensionInfo": "x"}"#,
            ]),
            Target(method: "POST", path: "/v1/battles/fz/scores", documents: [
                #"{"idempotencyKey": "gift-1", "op": "accumulate", "scores": [{"room": "alice", "score": 5}, {"room": "bob", "score": 7}]}"#,
                #"{"idempotencyKey": "gift-2", "op": 2, "scores": [{"room": "bob", "score": 2147483647}]}"#,
            ]),
        ]
    }

    @Test func mutatedSpecsAndEventsGetOneClearAnswerAndNeverA5xx() async throws {
        let service = try await RunningService()
        let ports = ServerTestPorts.pair()
        #expect(try await service.call("POST", "/v1/mixes?id=base", idleMixSpec(ports: ports)).status == 201)
        let targets = try Self.targets(ports: ports)
        var random = SeededGenerator(seed: Self.seed)
        var statuses: [Int: Int] = [:]
        var undoTime = 0.0
        let started = Date()
        for number in 0..<Self.cases {
            let target = targets.randomElement(using: &random)!
            let body = JSONMutator.mutate(target.documents.randomElement(using: &random)!, using: &random)
            let asked = Date()
            let reply = try await service.call(target.method, target.path, body)
            let seconds = Date().timeIntervalSince(asked)
            statuses[reply.status, default: 0] += 1
            let failure = Self.problem(with: reply, seconds: seconds)
            let undoing = Date()
            #expect(failure == nil, "case \(number) (seed \(Self.seed)): \(target.method) \(target.path) \(body.prefix(2_000))\n→ \(failure ?? "")")
            if failure != nil { break }
            try await undo(reply, of: target, on: service)
            undoTime += Date().timeIntervalSince(undoing)
        }
        let mix = try await service.call("GET", "/v1/mixes/base")
        #expect(mix.text.contains(#""state":"running""#), "\(mix.text)")
        #expect(try await service.call("DELETE", "/v1/mixes/base").status == 200)
        await service.stop()
        print("spec fuzz: \(Self.cases) cases (seed \(Self.seed)) in \(Int(Date().timeIntervalSince(started))) s; answers \(statuses.sorted { $0.key < $1.key }); undoing took \(Int(undoTime)) s")
    }

    /// What is wrong with an answer, if anything.
    static func problem(with reply: RunningService.Reply, seconds: Double) -> String? {
        if reply.status >= 500 { return "answered \(reply.status): \(reply.text)" }
        // A hang, not a slow answer: under the whole suite a 2-core machine once took 10.2 s to start a mix.
        if seconds > 20 { return "took \(seconds) s" }
        guard reply.status >= 400 else { return nil }
        let message = reply.message
        if message.isEmpty { return "a \(reply.status) without an error message: \(reply.text.prefix(300))" }
        if message.contains("\n") || message.count > 400 { return "an unclear error message: \(message.prefix(500))" }
        return nil
    }

    /// Deletes a mix a mutated spec created and ends a battle a mutated body started, so that
    /// the next cases meet the same service.
    private func undo(_ reply: RunningService.Reply, of target: Target, on service: RunningService) async throws {
        guard reply.status == 201 || reply.status == 200 else { return }
        if target.path.hasPrefix("/v1/mixes?") {
            #expect(try await service.call("DELETE", "/v1/mixes/fuzzed").status == 200)
        } else if target.path == "/v1/battles" {
            let id = reply.body["battleId"] as? String ?? ""
            let path = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            _ = try await service.call("POST", "/v1/battles/\(path)/end")
        }
    }
}
