import Foundation
import Testing

/// Calls that arrive together: the mix limit holds, concurrent output changes leave no output
/// running unseen, and a mix the store could not save never runs.
@Suite struct RaceTests {
    @Test func createsAtOnceCannotPassTheMixLimit() async throws {
        let service = try await RunningService(maxMixes: 3)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<6 {
                let spec = idleMixSpec(ports: ServerTestPorts.pair(), recording: "mix\(index).mkv")
                group.addTask { try await service.call("POST", "/v1/mixes?id=m\(index)", spec).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.sorted() == [201, 201, 201, 409, 409, 409], "\(statuses)")
        let listed = try await service.call("GET", "/v1/mixes")
        #expect((listed.body["mixes"] as? [Any])?.count == 3, "\(listed.text)")
        for index in 0..<6 { _ = try await service.call("DELETE", "/v1/mixes/m\(index)") }
        await service.stop()
    }

    /// Eight PATCHes at once, each for a recording of its own: one wins, and once the mix is
    /// deleted every recording any of them started is finalised and still.
    @Test func outputChangesAtOnceLeaveNoRecordingBehind() async throws {
        let service = try await RunningService()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await service.waitUntilRunning("room")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<8 {
                let body = #"{"outputs": [{"type": "recording", "path": "patch\#(index).mkv", "segmentSeconds": 600}]}"#
                group.addTask { try await service.call("PATCH", "/v1/mixes/room", body).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 8), "\(statuses)")
        let mix = try await service.call("GET", "/v1/mixes/room").body["mix"] as? [String: Any] ?? [:]
        let outputs = mix["outputs"] as? [String] ?? []
        #expect(outputs.count == 1 && outputs[0].contains("/patch"), "\(outputs)")
        try await Task.sleep(for: .seconds(2))
        // The store has the changes in the order they were applied: a restart ends with the same output.
        await service.stop()
        let again = try await RunningService(folder: service.folder)
        let restored = try await again.call("GET", "/v1/mixes/room").body["mix"] as? [String: Any] ?? [:]
        #expect(restored["outputs"] as? [String] == outputs, "after a restart: \(restored)")
        #expect(try await again.call("DELETE", "/v1/mixes/room").status == 200)

        let sizes = recordingSizes(in: service.folder)
        try await Task.sleep(for: .seconds(1.5))
        #expect(recordingSizes(in: service.folder) == sizes, "a recording still grows after its mix was deleted")
        let names = try FileManager.default.contentsOfDirectory(atPath: service.folder.path)
        #expect(!names.contains { $0.hasSuffix(".partial") }, "\(names)")
        await again.stop()
    }

    /// While another process holds the store's write lock past the service's 5 s wait, a
    /// create and an event are answered 503, naming the store, and neither happens: no mix
    /// runs unsaved, no event applies unrecorded. Once the lock is gone both go through.
    @Test func whatTheStoreCannotRecordDoesNotHappen() async throws {
        let service = try await RunningService()
        let ports = ServerTestPorts.pair()
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ports)).status == 201)
        let holder = try StoreLockHolder(database: service.folder.appendingPathComponent("arena.sqlite"))

        let spec = idleMixSpec(ports: ServerTestPorts.pair(), recording: "unsaved.mkv")
        let create = try await service.call("POST", "/v1/mixes?id=unsaved", spec)
        #expect(create.status == 503 && create.message.contains("store"), "\(create.text)")
        let event = try await service.call("POST", "/v1/mixes/room/events", #"{"event": "hostLeft", "userId": "bob"}"#)
        #expect(event.status == 503, "\(event.text)")
        let mix = try await service.call("GET", "/v1/mixes/room").body["mix"] as? [String: Any] ?? [:]
        #expect(mix["connected"] as? [String] == ["alice", "bob"], "\(mix)")
        #expect(try await service.call("GET", "/v1/mixes/unsaved").status == 404)
        #expect(!FileManager.default.fileExists(atPath: service.folder.appendingPathComponent("unsaved-00001.mkv").path))

        holder.release()
        #expect(try await service.call("POST", "/v1/mixes?id=unsaved", spec).status == 201)
        #expect(try await service.call("POST", "/v1/mixes/room/events", #"{"event": "hostLeft", "userId": "bob"}"#).status == 200)
        for id in ["room", "unsaved"] { #expect(try await service.call("DELETE", "/v1/mixes/\(id)").status == 200) }
        await service.stop()
    }

    /// Another process (Python's sqlite3) that holds `database`'s write lock until `release()`.
    private final class StoreLockHolder {
        private let process = Process()
        private let commands = Pipe()

        init(database: URL) throws {
            let answers = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = ["-c", """
                import sqlite3, sys
                connection = sqlite3.connect(sys.argv[1], isolation_level=None)
                connection.execute("BEGIN IMMEDIATE")
                print("locked", flush=True)
                sys.stdin.read()
                """, database.path]
            process.standardInput = commands
            process.standardOutput = answers
            try process.run()
            let line = String(decoding: answers.fileHandleForReading.availableData, as: UTF8.self)
            guard line.hasPrefix("locked") else { throw CocoaError(.fileLocking, userInfo: [NSLocalizedDescriptionKey: "python3 did not lock \(database.path)"]) }
        }

        func release() {
            try? commands.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }

    private func recordingSizes(in folder: URL) -> [String: Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return Dictionary(uniqueKeysWithValues: names.filter { $0.contains("patch") || $0.hasPrefix("mix") }.map { name in
            (name, (try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)[.size] as? Int) ?? -1)
        })
    }
}
