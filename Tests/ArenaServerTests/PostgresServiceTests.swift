import ArenaServer
import ArenaTestSupport
import Foundation
import GStreamerTestSupport
import Testing

/// `arena serve` on a PostgreSQL store: what it accepts survives its instance's stop (another
/// takes the mix over), and a second process under the same instance name is refused, not run
/// beside the first.
@Suite struct PostgresServiceTests {
    @Test func anotherInstanceOnPostgresBringsBackTheMixAndScores() async throws {
        let database = try await PostgresServer.database()
        let service = try await RunningService(storeURL: database, instance: "box-1")
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await service.waitUntilRunning("room")
        #expect(try await service.call("POST", "/v1/mixes/room/events", #"{"event": "cameraOff", "userId": "bob"}"#).status == 200)
        let battle = #"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 600000}"#
        #expect(try await service.call("POST", "/v1/battles", battle).status == 201)
        for (key, score) in [("g1", 5), ("g2", 7), ("g1", 5)] {
            let reply = try await service.call("POST", "/v1/battles/pk/scores", #"{"idempotencyKey": "\#(key)", "scores": [{"room": "bob", "score": \#(score)}]}"#)
            #expect(reply.status == 200, "\(reply.text)")
        }
        let second = await outcome { try await ArenaService(dataFolder: service.folder, storeURL: database, token: "t", port: 0, instance: "box-1") }
        #expect(throws: (any Error).self) { try second.get() }
        if case .failure(let error) = second {
            #expect("\(error)".contains("another arena serve named 'box-1' is alive"), "\(error)")
        }
        // Another instance, serving, takes the mix over once box-1 stops: the first answer that
        // says it runs there (asked often) shows its battle and events back, not a mix still
        // applying them.
        let again = try await RunningService(folder: service.folder, storeURL: database, instance: "box-2")
        await service.stop()
        let mix = try #require(try await again.waitUntilRunning("room", on: "box-2", every: .milliseconds(2)))
        #expect(mix.text.contains(#""state":"running""#) && mix.text.contains(#""battleId":"pk""#), "\(mix.text)")
        let status = try await again.call("GET", "/v1/battles/pk")
        #expect(status.text.contains(#"{"room":"bob","score":12"#), "\(status.text)")
        let events = try await again.call("GET", "/v1/mixes/room/events")
        #expect(events.text.contains("onCameraOff"), "\(events.text)")
        #expect(try await again.call("DELETE", "/v1/mixes/room").status == 200)
        await again.stop()
    }

    /// A battle that ends while another session holds its row (a long transaction, a backup,
    /// a migration) is recorded once the row is free; meanwhile the mix's compositor, which
    /// saw the battle end, goes on making frames: it never waits for the database.
    @Test func aLockedBattleRowDoesNotStallTheMix() async throws {
        let database = try await PostgresServer.database()
        let service = try await RunningService(storeURL: database)
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await service.waitUntilRunning("room")
        let battle = #"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 2000}"#
        #expect(try await service.call("POST", "/v1/battles", battle).status == 201)
        let holder = try Self.psql(database, "BEGIN; SELECT 1 FROM battle WHERE id = 'pk' FOR UPDATE; SELECT pg_sleep(6); COMMIT;")
        try await Task.sleep(for: .milliseconds(500))
        func framesEncoded() async throws -> Int {
            let metrics = try await service.call("GET", "/metrics").text
            let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"arena_mix_frames_encoded_total{mix="room"}"#) }
            return try #require(line.flatMap { Int($0.split(separator: " ").last!) })
        }
        // The battle's time is up 1.5 s into the lock, which lasts 4 s more.
        let before = try await framesEncoded()
        try await Task.sleep(for: .seconds(4))
        let made = try await framesEncoded() - before
        #expect(made >= 90, "\(made) frames in 4 s at 30 fps while the battle's row was locked")
        await onThread { holder.waitUntilExit() }
        #expect(holder.terminationStatus == 0)
        var status = ""
        // `endedAt` comes from the battle's record in the store (the mix alone shows no end time).
        for _ in 0..<50 where !status.contains(#""endedAt""#) {
            try await Task.sleep(for: .milliseconds(100))
            status = try await service.call("GET", "/v1/battles/pk").text
        }
        #expect(status.contains(#""endedAt""#) && status.contains(#""reason":"timeOver""#), "\(status)")
        await service.stop()
    }

    /// Another instance describes a mix as `starting` until the one that runs it has it running
    /// (and says so by publishing who is connected), and a battle posted through it meanwhile
    /// is told to try again, not that the room is in no mix.
    @Test func aMixStartingOnAnotherInstanceIsStartingThere() async throws {
        let (box1, box2) = try await Self.twoInstances()
        #expect(try await box1.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        let early = try await box2.call("GET", "/v1/mixes/room")
        let battle = #"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 600000}"#
        let tooEarly = try await box2.call("POST", "/v1/battles", battle)
        #expect(early.text.contains(#""state":"starting","instance":"box-1""#), "\(early.text)")
        #expect(tooEarly.status == 409 && tooEarly.message.contains("still starting"), "\(tooEarly.text)")
        let running = try await box2.waitUntilRunning("room", on: "box-1")
        #expect(running?.text.contains(#""connected":["alice","bob"]"#) == true, "\(running?.text ?? "")")
        #expect(try await box2.call("POST", "/v1/battles", battle).status == 201)
        await box2.stop()
        await box1.stop()
    }

    /// A mix removed through an instance that does not run it stops where it runs at once: the
    /// removal wakes that instance, which no longer waits for its lease renewals (every second)
    /// to miss the mix twice.
    @Test func aMixRemovedThroughAnotherInstanceStopsWhereItRunsAtOnce() async throws {
        let (box1, box2) = try await Self.twoInstances()
        #expect(try await box1.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        _ = try await box2.waitUntilRunning("room", on: "box-1")
        let removing = ContinuousClock.now
        #expect(try await box2.call("DELETE", "/v1/mixes/room").status == 200)
        while try await box1.call("GET", "/v1/mixes/room").status != 404, ContinuousClock.now < removing + .seconds(5) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let stopped = ContinuousClock.now - removing
        print("removed through box-2: stopped on box-1 \(stopped) after the DELETE")
        #expect(stopped < .seconds(2), "box-1 stopped the mix \(stopped) after its removal through box-2")
        let metrics = try await box1.call("GET", "/metrics").text
        #expect(!metrics.contains(#"arena_mixes{state="running"} 1"#), "\(metrics.split(separator: "\n").filter { $0.hasPrefix("arena_mixes{") })")
        await box2.stop()
        await box1.stop()
    }

    /// A mix that ends where it runs (its duration reached) is `ended` through every instance,
    /// not `running` through the others; a battle made through another no longer finds it.
    @Test func aMixThatEndedIsEndedThroughEveryInstance() async throws {
        let (box1, box2) = try await Self.twoInstances()
        let spec = idleMixSpec(ports: ServerTestPorts.pair()).replacingOccurrences(of: #"{"canvas""#, with: #"{"duration": 2, "canvas""#)
        #expect(try await box1.call("POST", "/v1/mixes?id=short", spec).status == 201)
        _ = try await box2.waitUntilRunning("short", on: "box-1")
        var there = ""
        for _ in 0..<100 where !there.contains(#""state":"ended""#) {
            try await Task.sleep(for: .milliseconds(100))
            there = try await box2.call("GET", "/v1/mixes/short").text
        }
        #expect(there.contains(#""state":"ended","instance":"box-1""#) && !there.contains("connected"), "\(there)")
        #expect(try await box1.call("GET", "/v1/mixes/short").text.contains(#""state":"ended""#))
        let battle = try await box2.call("POST", "/v1/battles", #"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 60000}"#)
        #expect(battle.status == 404, "\(battle.text)")
        await box2.stop()
        await box1.stop()
    }

    /// A DELETE that comes while the mix's create is still writing its record (held up here by
    /// another session inserting the same id, uncommitted) finds no record to remove; the mix
    /// must not come back once the record is written (its instance would claim it again, as a
    /// mix of its own it does not run).
    @Test func aMixRemovedWhileItsRecordIsWrittenStaysRemoved() async throws {
        let database = try await PostgresServer.database()
        let service = try await RunningService(storeURL: database, instance: "box-1")
        let holder = try Self.psql(database, "BEGIN; INSERT INTO mix (id, spec, created_at) VALUES ('late', '', 0); SELECT pg_sleep(5); ROLLBACK;")
        // The holder's session runs (its insert comes first), then the create has registered the mix and waits on that row.
        let holding = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'BEGIN; INSERT INTO mix%'"
        while try await onThread({ Result { try Self.psqlAnswer(database, holding) } }).get() != "1", holder.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        async let created = service.call("POST", "/v1/mixes?id=late", idleMixSpec(ports: ServerTestPorts.pair()))
        while try await !service.call("GET", "/v1/mixes/late").text.contains(#""state":"starting""#), holder.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        let deleting = ContinuousClock.now
        let deleted = try await service.call("DELETE", "/v1/mixes/late")
        let waited = ContinuousClock.now - deleting
        #expect(try await created.status == 201 && deleted.status == 200, "\(deleted.text)")
        #expect(waited > .milliseconds(500), "the DELETE took \(waited): the create was not held up, so the race was not tried")
        await onThread { holder.waitUntilExit() }
        try await Task.sleep(for: .seconds(3))
        let after = try await service.call("GET", "/v1/mixes/late")
        #expect(after.status == 404, "\(after.text)")
        await service.stop()
    }

    @Test func aStoreURLThatCannotBeUsedIsOneClearErrorWithoutItsPassword() async throws {
        let port = freePort()
        for (url, expected) in [("mysql://root@127.0.0.1/db", "must be postgres://"),
                                ("postgres://arena:hunter2@127.0.0.1:\(port)/db?sslmode=disable", "cannot be used"),
                                ("postgres://arena@127.0.0.1/db?sslmode=maybe", "sslmode must be")] {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-pgurl-\(UUID().uuidString)")
            let made = await outcome { try await ArenaService(dataFolder: folder, storeURL: url, token: "t", port: 0) }
            #expect(throws: (any Error).self, "\(url)") { try made.get() }
            if case .failure(let error) = made {
                #expect("\(error)".contains(expected) && !"\(error)".contains("hunter2"), "\(error)")
            }
        }
    }

    /// What psql answers to `sql` (one value, unaligned). Blocks.
    static func psqlAnswer(_ database: String, _ sql: String) throws -> String {
        let process = Process(), answer = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [database, "-tAc", sql]
        process.standardOutput = answer
        try process.run()
        let text = String(decoding: answer.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `sql` run by psql in a session of its own, started (not waited for).
    static func psql(_ database: String, _ sql: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [database, "-q", "-c", sql]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Two instances, box-1 and box-2, on one new database.
    static func twoInstances() async throws -> (RunningService, RunningService) {
        let database = try await PostgresServer.database()
        return (try await RunningService(storeURL: database, instance: "box-1"), try await RunningService(storeURL: database, instance: "box-2"))
    }
}
