@testable import ArenaServer
import ArenaTestSupport
import Foundation
import Testing

/// The two stores keep the same facts by the same rules: every test runs against SQLite and
/// against a real PostgreSQL 15.
@Suite struct StoreTests {
    enum Engine: String, CaseIterable, Sendable {
        case sqlite, postgres
    }

    /// The store under test: `store { try await $0.call() }` makes calls on it.
    struct Calls: Sendable {
        let store: any ArenaStore

        func callAsFunction<T: Sendable>(_ call: (any ArenaStore) async throws -> T) async throws -> T {
            try await call(store)
        }
    }

    /// A new, empty store of `engine` for `body`, closed after it.
    private func withStore(_ engine: Engine, _ body: (Calls) async throws -> Void) async throws {
        switch engine {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-store-\(UUID().uuidString)")
            try await body(Calls(store: try SQLiteStore(folder: folder)))
        case .postgres:
            let url = try await PostgresServer.database()
            let store = try await PostgresStore(url: url)
            defer { store.close() }
            try await body(Calls(store: store))
        }
    }

    @Test(arguments: Engine.allCases) func mixesAndTheirChangesComeBackInOrder(engine: Engine) async throws {
        try await withStore(engine) { store in
            #expect(try await store { try await $0.saveMix(id: "a", spec: Data("{1}".utf8), owner: "i1", leaseSeconds: 3_600) })
            #expect(try await store { try await $0.saveMix(id: "b", spec: Data("{2}".utf8), owner: nil, leaseSeconds: 0) })
            // An id is one mix's: made through two instances at once, the second is refused.
            #expect(try await store { try await $0.saveMix(id: "a", spec: Data("{3}".utf8), owner: "i2", leaseSeconds: 3_600) } == false)
            let mixes = try await store { try await $0.mixes().map { [$0.id, String(decoding: $0.spec, as: UTF8.self), $0.owner ?? "-"] } }
            #expect(mixes == [["a", "{1}", "i1"], ["b", "{2}", "-"]])
            let numbers = try await store { store in
                var numbers: [Int64?] = []
                for change in ["p1", "e1", "e2"] {
                    numbers.append(try await store.recordMixChange(mixId: "b", kind: change.hasPrefix("p") ? "patch" : "event", body: Data(change.utf8)))
                }
                return numbers
            }.compactMap { $0 }
            #expect(numbers.count == 3 && numbers == numbers.sorted() && Set(numbers).count == 3)
            #expect(try await store { try await $0.recordMixChange(mixId: "nope", kind: "event", body: Data()) } == nil)
            try await store { try await $0.forgetMixChange(numbers[1]) }
            let changes = try await store { try await $0.mixChanges(mixId: "b", after: 0).map { "\($0.kind) \(String(decoding: $0.body, as: UTF8.self))" } }
            #expect(changes == ["patch p1", "event e2"])
            #expect(try await store { try await $0.mixChanges(mixId: "b", after: numbers[0]).map(\.number) } == [numbers[2]])
            try await store { try await $0.removeMix(id: "b", heldBy: nil) }
            #expect(try await store { try await $0.mixes().map(\.id) } == ["a"])
            #expect(try await store { try await $0.mixChanges(mixId: "b", after: 0).isEmpty })
            // A mix made again under an old id starts without the old one's changes.
            try await store { store in
                _ = try await store.recordMixChange(mixId: "a", kind: "patch", body: Data("old".utf8))
                try await store.removeMix(id: "a", heldBy: nil)
                _ = try await store.saveMix(id: "a", spec: Data("{4}".utf8), owner: nil, leaseSeconds: 0)
            }
            #expect(try await store { try await $0.mixChanges(mixId: "a", after: 0).isEmpty })
        }
    }

    /// Live leases last an hour here: on a loaded machine the test's steps can take over a
    /// minute, and only the dead instance's lease (-1 s) is meant to have run out.
    @Test(arguments: Engine.allCases) func leasesGiveEachMixToOneInstance(engine: Engine) async throws {
        try await withStore(engine) { store in
            try await store { store in
                for (id, owner, lease) in [("m1", "i1" as String?, 3_600.0), ("m2", nil, 0), ("m3", nil, 0), ("m4", "dead", -1)] {
                    _ = try await store.saveMix(id: id, spec: Data("{}".utf8), owner: owner, leaseSeconds: lease)
                }
            }
            // i2 has room for 2: the oldest unplaced mix and the dead instance's are next in line.
            let first = try await store { try await $0.claimMixes(instance: "i2", running: [], limit: 2, leaseSeconds: 3_600) }
            #expect(first.map(\.id) == ["m2", "m3"] && first.map(\.owner) == [nil, nil])
            let second = try await store { try await $0.claimMixes(instance: "i3", running: [], limit: 5, leaseSeconds: 3_600) }
            #expect(second.map(\.id) == ["m4"] && second.first?.owner == "dead")
            #expect(try await store { try await $0.claimMixes(instance: "i3", running: ["m4"], limit: 5, leaseSeconds: 3_600) }.isEmpty)
            // A restarted i1 takes its own mix back at once; a live i1 (running it) does not claim it again.
            #expect(try await store { try await $0.claimMixes(instance: "i1", running: ["m1"], limit: 5, leaseSeconds: 3_600) }.isEmpty)
            #expect(try await store { try await $0.claimMixes(instance: "i1", running: [], limit: 5, leaseSeconds: 3_600) }.map(\.id) == ["m1"])
            // A removal for its holder only: i3 does not hold m2, so m2 stays.
            try await store { try await $0.removeMix(id: "m2", heldBy: "i3") }
            #expect(try await store { try await $0.mix(id: "m2") }?.owner == "i2")
            // What is still held: m3 removed, m2 not i3's.
            try await store { try await $0.removeMix(id: "m3", heldBy: nil) }
            #expect(try await store { try await $0.mixesHeld(by: "i2", among: ["m2", "m3"]) } == ["m2"])
            #expect(try await store { try await $0.mixesHeld(by: "i3", among: ["m2", "m4"]) } == ["m4"])
            #expect(try await store { try await $0.mixesHeld(by: "i3", among: []) }.isEmpty)
            // A renewal extends the renewer's own leases only: m5's ran out, and no longer has; m2 is not i4's.
            try await store { _ = try await $0.saveMix(id: "m5", spec: Data("{}".utf8), owner: "i4", leaseSeconds: -1) }
            try await store { try await $0.renewLeases(instance: "i4", running: ["m5", "m2"], leaseSeconds: 3_600) }
            try await store { try await $0.renewLeases(instance: "i4", running: ["m2"], leaseSeconds: -1) }
            #expect(try await store { try await $0.claimMixes(instance: "i5", running: [], limit: 5, leaseSeconds: 3_600) }.isEmpty)
            // A stopping instance lets its mixes go at once.
            try await store { try await $0.releaseMixes(instance: "i2") }
            #expect(try await store { try await $0.claimMixes(instance: "i3", running: ["m4"], limit: 5, leaseSeconds: 3_600) }.map(\.id) == ["m2"])
        }
    }

    /// What the instance holding a mix publishes (who is connected, then that it failed) reads
    /// back the same from either engine; another instance cannot publish for it; a claim clears it.
    @Test(arguments: Engine.allCases) func aMixsPublishedStateIsItsHoldersUntilAClaim(engine: Engine) async throws {
        try await withStore(engine) { store in
            _ = try await store { try await $0.saveMix(id: "m", spec: Data("{}".utf8), owner: "i1", leaseSeconds: -1) }
            try await store { try await $0.publish(.connected(["alice", "bob"]), mixId: "m", instance: "i1") }
            try await store { try await $0.publish(.connected(["mallory"]), mixId: "m", instance: "i2") }
            let running = try await store { try await $0.mix(id: "m") }
            #expect(running?.connected == ["alice", "bob"] && running?.ended == false && running?.failure == nil, "\(String(describing: running))")
            try await store { try await $0.publish(.ended(failure: "hosts[0] 'alice' input failed"), mixId: "m", instance: "i1") }
            let failed = try await store { try await $0.mixes().first }
            #expect(failed?.connected == nil && failed?.ended == true && failed?.failure == "hosts[0] 'alice' input failed", "\(String(describing: failed))")
            // Its lease ran out: i2 claims it, and runs it afresh.
            #expect(try await store { try await $0.claimMixes(instance: "i2", running: [], limit: 1, leaseSeconds: 3_600) }.map(\.ended) == [false])
            let claimed = try await store { try await $0.mix(id: "m") }
            #expect(claimed?.owner == "i2" && claimed?.connected == nil && claimed?.ended == false && claimed?.failure == nil, "\(String(describing: claimed))")
        }
    }

    @Test(arguments: Engine.allCases) func anInstanceNameBelongsToOneLiveProcess(engine: Engine) async throws {
        try await withStore(engine) { store in
            let me = InstanceRecord(id: "box-1", apiURL: "http://10.0.0.1:8080", ingestHost: "10.0.0.1", capacity: 4, running: 1)
            try await store { try await $0.announce(me, boot: "first", leaseSeconds: 3_600) }
            try await store { try await $0.announce(me, boot: "first", leaseSeconds: 3_600) }
            let other = try await store { store in await outcome { try await store.announce(me, boot: "second", leaseSeconds: 3_600) } }
            #expect(throws: (any Error).self) { try other.get() }
            let live = try await store { try await $0.liveInstances() }
            #expect(live.map(\.id) == ["box-1"] && live.first?.ingestHost == "10.0.0.1" && live.first?.capacity == 4)
            // Once its lease runs out (a killed process), the name can be taken again.
            try await store { try await $0.announce(me, boot: "first", leaseSeconds: -1) }
            #expect(try await store { try await $0.liveInstances() }.isEmpty)
            try await store { try await $0.announce(me, boot: "second", leaseSeconds: 3_600) }
            try await store { try await $0.leave(instance: "box-1") }
            #expect(try await store { try await $0.liveInstances() }.isEmpty)
        }
    }

    @Test(arguments: Engine.allCases) func battlesStartEndOnceAndAreForgotten(engine: Engine) async throws {
        try await withStore(engine) { store in
            let battle = BattleRecord(id: "pk", mixIds: ["m1"], fromRoom: "alice", rooms: ["alice", "bob"], durationMilliseconds: 60_000, createdAt: 100)
            // A battle begun by posted events has no record until a mix starts it.
            let posted = BattleRecord(id: "posted", mixIds: [], fromRoom: "carol", rooms: ["carol", "dave"], durationMilliseconds: 30_000, createdAt: 0)
            try await store { store in
                try await store.saveBattle(battle)
                try await store.battleStarted(battle, mixId: "m2", at: 101)
                try await store.battleStarted(battle, mixId: "m2", at: 105)
                try await store.battleStarted(posted, mixId: "m3", at: 110)
            }
            let found = try #require(try await store { try await $0.battle(id: "pk") })
            #expect(found.mixIds == ["m1", "m2"] && found.startedAt == 101 && found.rooms == ["alice", "bob"] && found.result == nil)
            #expect(try await store { try await $0.battle(id: "posted")?.mixIds } == ["m3"])
            #expect(try await store { try await $0.openBattles().map(\.id) } == ["pk", "posted"])

            let result = BattleResult(reason: "timeOver", endedAt: 160, scores: ["alice": 3, "bob": 2_147_483_647])
            try await store { store in
                try await store.battleEnded(id: "pk", result: result)
                try await store.battleEnded(id: "pk", result: BattleResult(reason: "battleEnd", endedAt: 170, scores: [:]))
                try await store.endBattle(id: "posted")
            }
            #expect(try await store { try await $0.battle(id: "pk")?.result } == result)
            #expect(try await store { try await $0.openBattles().isEmpty })
            #expect(try await store { try await $0.battle(id: "nope") } == nil)

            try await store { store in
                try await store.recordScoreUpdate(key: "g1", battleId: "pk", request: Data("r".utf8), answer: StoredAnswer(status: 200, body: "{}"))
                try await store.forgetBattles(endedBefore: 165)
            }
            #expect(try await store { try await $0.battle(id: "pk") } == nil)
            #expect(try await store { try await $0.answer(forKey: "g1", battleId: "pk") } == nil)
            #expect(try await store { try await $0.battle(id: "posted") } != nil)  // no end time: kept
        }
    }

    @Test(arguments: Engine.allCases) func eachScoreKeyIsItsBattlesOwnAndRecordedOnce(engine: Engine) async throws {
        try await withStore(engine) { store in
            try await store { store in
                try await store.recordScoreUpdate(key: "gift-1", battleId: "b1", request: Data("one".utf8), answer: StoredAnswer(status: 200, body: #"{"a":1}"#))
                try await store.recordScoreUpdate(key: "gift-2", battleId: "b1", request: Data("two".utf8), answer: StoredAnswer(status: 200, body: #"{"a":2}"#))
                try await store.recordScoreUpdate(key: "gift-3", battleId: "b1", request: Data("bad".utf8), answer: StoredAnswer(status: 422, body: "{}"))
                try await store.recordScoreUpdate(key: "gift-1", battleId: "b2", request: Data("other".utf8), answer: StoredAnswer(status: 200, body: #"{"b":1}"#))
            }
            #expect(try await store { try await $0.answer(forKey: "gift-1", battleId: "b1") } == StoredAnswer(status: 200, body: #"{"a":1}"#))
            #expect(try await store { try await $0.answer(forKey: "gift-1", battleId: "b2") } == StoredAnswer(status: 200, body: #"{"b":1}"#))
            #expect(try await store { try await $0.answer(forKey: "gift-9", battleId: "b1") } == nil)
            let again = try await store { store in
                await outcome { try await store.recordScoreUpdate(key: "gift-1", battleId: "b1", request: Data("again".utf8), answer: StoredAnswer(status: 200, body: "{}")) }
            }
            #expect(throws: (any Error).self) { try again.get() }
        }
    }

    @Test(arguments: Engine.allCases) func battleTotalsCountEachKeyOnceAndNeverPassTheCap(engine: Engine) async throws {
        try await withStore(engine) { store in
            let answer: @Sendable ([String: Int64]) -> StoredAnswer = { totals in
                StoredAnswer(status: 200, body: totals.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
            }
            let first = try await store { try await $0.scoreBattle(battleId: "pk", key: "g1", request: Data("1".utf8), updates: [("bob", 5), ("amy", 2)],
                                                             replace: false, showIn: [], answer: answer) }
            #expect(first.answer.body == "amy=2,bob=5" && first.totals == ["amy": 2, "bob": 5])
            // Mixes run elsewhere are told in the same transaction: one `totals` change each, the latest.
            _ = try await store { try await $0.saveMix(id: "m9", spec: Data("{}".utf8), owner: "i2", leaseSeconds: 3_600) }
            let added = try await store { try await $0.scoreBattle(battleId: "pk", key: "g2", request: Data("2".utf8), updates: [("bob", 7)], replace: false, showIn: ["m9"], answer: answer) }
            #expect(added.totals?["bob"] == 12)
            let told = try await store { try await $0.mixChanges(mixId: "m9", after: 0) }
            #expect(told.map(\.kind) == [MixRegistry.totalsChange] && told.first?.body == Data("pk".utf8))
            // The same key again: the first answer, nothing counted.
            let again = try await store { try await $0.scoreBattle(battleId: "pk", key: "g1", request: Data("1".utf8), updates: [("bob", 5)], replace: false, showIn: [], answer: answer) }
            #expect(again.answer.body == "amy=2,bob=5" && again.totals == nil)
            let set = try await store { try await $0.scoreBattle(battleId: "pk", key: "g3", request: Data("3".utf8), updates: [("amy", 40)], replace: true, showIn: ["m9"], answer: answer) }
            #expect(set.totals == ["amy": 40, "bob": 12])
            let latest = try await store { try await $0.mixChanges(mixId: "m9", after: 0) }
            #expect(latest.count == 1 && latest[0].number > told[0].number)
            // Past 2147483647: refused, and neither the total nor the key is kept.
            let over = try await store { store in
                await outcome { try await store.scoreBattle(battleId: "pk", key: "g4", request: Data("4".utf8), updates: [("bob", 2_147_483_640)], replace: false, showIn: [], answer: answer) }
            }
            #expect(throws: (any Error).self) { try over.get() }
            if case .failure(let error) = over { #expect((error as? APIError)?.status == .unprocessableContent, "\(error)") }
            #expect(try await store { try await $0.battleTotals(battleId: "pk") } == ["amy": 40, "bob": 12])
            // A room named twice in one update counts twice.
            let twice = try await store { try await $0.scoreBattle(battleId: "pk", key: "g5", request: Data("5".utf8), updates: [("bob", 1), ("bob", 2)], replace: false, showIn: [], answer: answer) }
            #expect(twice.totals?["bob"] == 15)
            #expect(try await store { try await $0.battleTotals(battleId: "pk") }["bob"] == 15)
            // An ended battle takes no more.
            let ended = try await store { store in
                try await store.saveBattle(BattleRecord(id: "done", mixIds: [], fromRoom: "amy", rooms: ["amy", "bob"], durationMilliseconds: 1_000, createdAt: 1))
                try await store.endBattle(id: "done")
                return await outcome { try await store.scoreBattle(battleId: "done", key: "late", request: Data(), updates: [("bob", 1)], replace: false, showIn: [], answer: answer) }
            }
            if case .failure(let error) = ended { #expect((error as? APIError)?.status == .conflict, "\(error)") } else { Issue.record("an ended battle took a score") }
            #expect(try await store { try await $0.answer(forKey: "g4", battleId: "pk") } == nil)
            #expect(try await store { try await $0.battleTotals(battleId: "other") }.isEmpty)
        }
    }

    @Test(arguments: Engine.allCases) func callbacksGoOutOldestFirstPerGroup(engine: Engine) async throws {
        try await withStore(engine) { store in
            let url = URL(string: "http://127.0.0.1:9/hook")!
            try await store { try await $0.addCallbacks([("pk", url, "c1"), ("pk", url, "c2"), ("room", url, "r1")]) }
            #expect(try await store { try await $0.callbackBacklog() } == 3)
            let due = try await store { try await $0.dueCallbacks(instance: "i1", now: 10) }
            #expect(due.map(\.body) == ["c1", "r1"] && due.allSatisfy { $0.attempts == 0 && $0.url == url })
            try await store { try await $0.callbackFailed(id: due[0].id, retryAt: 20) }
            // r1 is i1's for a minute: another instance does not send it too.
            #expect(try await store { try await $0.dueCallbacks(instance: "i2", now: 10).isEmpty })
            #expect(try await store { try await $0.dueCallbacks(instance: "i1", now: 10).map(\.body) } == ["r1"])  // c1 waits, and c2 waits behind it
            #expect(try await store { try await $0.dueCallbacks(instance: "i2", now: 20).first { $0.body == "c1" }?.attempts } == 1)
            try await store { store in
                try await store.callbackDelivered(id: due[0].id)
                try await store.callbackDelivered(id: due[1].id)
            }
            #expect(try await store { try await $0.dueCallbacks(instance: "i1", now: 20).map(\.body) } == ["c2"])
            // A lease that ran out (its instance died mid-delivery) lets another send it, under the same id.
            #expect(try await store { try await $0.dueCallbacks(instance: "i2", now: 100).map(\.body) } == ["c2"])
            #expect(try await store { try await $0.callbackBacklog() } == 1)
        }
    }
}

/// The CPU share an instance measures to refuse new mixes past its limit.
@Suite struct MachineLoadTests {
    @Test func idleAndTotalComeFromTheCPULine() {
        let stat = "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 12345\n"
        let times = MachineLoad.cpuTimes(stat)
        #expect(times?.idle == 840 && times?.total == 1_000)
        #expect(MachineLoad.cpuTimes("intr 1\n") == nil)
    }
}
