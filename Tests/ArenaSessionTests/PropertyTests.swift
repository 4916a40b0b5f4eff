import ArenaSession
import Testing

/// A small, seedable generator (SplitMix64), so that a failing sequence can be replayed.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private let users = ["alice", "bob", "carol", "dave", "erin", "stranger"]

private func randomEvent(_ random: inout SplitMix) -> SessionEvent {
    let user = users.randomElement(using: &random)!
    let other = users.randomElement(using: &random)!
    let battle = ["b1", "b2"].randomElement(using: &random)!
    switch Int.random(in: 0..<17, using: &random) {
    case 0: return .coHostRequest(inviter: user, invitee: other, timeout: UInt64.random(in: 1...40, using: &random) * second)
    case 1: return .coHostCancel(inviter: user, invitee: other)
    case 2: return .coHostAccept(invitee: user)
    case 3: return .coHostReject(invitee: user)
    case 4, 5: return .hostJoined(userId: user)
    case 6: return .hostLeft(userId: user)
    case 7: return .cameraOff(userId: user)
    case 8: return .micOff(userId: user)
    case 9:
        let invitees = Array(users.shuffled(using: &random).prefix(Int.random(in: 0...3, using: &random)))
        return .battleRequest(battleId: battle, inviter: user, invitees: invitees,
                              config: BattleConfig(duration: UInt64.random(in: 1...60, using: &random) * second,
                                                   needResponse: Bool.random(using: &random)))
    case 10: return .battleAccept(battleId: battle, userId: user)
    case 11: return .battleReject(battleId: battle, userId: user)
    case 12: return .battleExit(battleId: battle, userId: user)
    case 13: return .battleCancel(battleId: battle)
    case 14: return .battleEnd(battleId: battle)
    default:
        return .score(battleId: battle, userId: user, value: Int64.random(in: -5...1_000, using: &random),
                      op: Bool.random(using: &random) ? .add : .set)
    }
}

@Suite struct PropertyTests {
    @Test(arguments: 0..<200)
    func randomSequencesKeepTheInvariants(seed: UInt64) {
        var random = SplitMix(state: seed)
        let maxHosts = Int.random(in: 1...4, using: &random)
        var state = Session(owner: "alice", knownUsers: ["alice", "bob", "carol", "dave", "erin"], maxHosts: maxHosts)
        var time: UInt64 = 0
        for _ in 0..<120 {
            time += UInt64.random(in: 0...3_000, using: &random) * 1_000_000
            _ = state.advance(to: time)
            let before = state
            do {
                _ = try state.apply(randomEvent(&random))
            } catch {
                #expect(state == before, "seed \(seed): a refused event changed the session")
            }
            #expect(state.connected.count <= maxHosts, "seed \(seed)")
            #expect(Set(state.connected).count == state.connected.count, "seed \(seed)")
            if state.connected.contains("alice") { #expect(state.connected.first == "alice", "seed \(seed)") }
            if let battle = state.battle, let remaining = state.remainingBattleTime(at: time) {
                #expect(remaining <= battle.config.duration, "seed \(seed)")
                #expect(battle.active.count >= 2 || !battle.isRunning, "seed \(seed): a running battle with fewer than two")
                #expect(battle.active.allSatisfy(state.connected.contains), "seed \(seed): a battler not connected")
            }
        }
    }

    @Test func theSameTimelineGivesTheSameSessions() throws {
        var random = SplitMix(state: 7)
        var events: [TimedEvent] = []
        var time: UInt64 = 0
        for _ in 0..<300 {
            time += UInt64.random(in: 0...2_000, using: &random) * 1_000_000
            events.append(TimedEvent(at: time, event: randomEvent(&random)))
        }
        var initial = Session(owner: "alice", knownUsers: ["alice", "bob", "carol", "dave", "erin"], maxHosts: 9)
        _ = try initial.apply(.hostJoined(userId: "alice"))
        // A random timeline mostly has events that do not fit; keep those that do, in order.
        var valid: [TimedEvent] = []
        var probe = initial
        for timed in events {
            _ = probe.advance(to: timed.at)
            if (try? probe.apply(timed.event)) != nil { valid.append(timed) }
        }
        let once = try SessionSchedule(initial: initial, events: valid, until: time + 60 * second)
        let again = try SessionSchedule(initial: initial, events: valid, until: time + 60 * second)
        #expect(valid.count > 20)
        #expect(once.notices == again.notices)
        #expect(once.changes.map(\.at) == again.changes.map(\.at))
        #expect(once.changes.map(\.session) == again.changes.map(\.session))
    }
}

@Suite struct SessionScheduleTests {
    @Test func statesAtAnyTimeAndDeadlinesRecordedAtTheirOwnTimes() throws {
        var initial = Session(owner: "alice", knownUsers: ["alice", "bob"], maxHosts: 9)
        _ = try initial.apply(.hostJoined(userId: "alice"))
        let schedule = try SessionSchedule(initial: initial, events: [
            TimedEvent(at: 1 * second, event: .hostJoined(userId: "bob")),
            TimedEvent(at: 2 * second, event: .battleRequest(battleId: "b1", inviter: "alice", invitees: ["bob"],
                                                             config: BattleConfig(duration: 3 * second, needResponse: false))),
        ], until: 20 * second)
        #expect(schedule.session(at: 0).connected == ["alice"])
        #expect(schedule.session(at: 1 * second).connected == ["alice", "bob"])
        #expect(schedule.session(at: 4 * second).battle?.isRunning == true)
        #expect(schedule.session(at: 5 * second).battle?.isEnded == true)   // time over at 2 + 3 s
        #expect(schedule.session(at: 10 * second - 1).battle != nil)
        #expect(schedule.session(at: 10 * second).battle == nil)           // result shown 5 s
        #expect(schedule.notices.map(\.event) == ["onCoHostUserJoined", "onBattleRequestReceived", "onBattleStarted", "onBattleEnded"])
        #expect(schedule.notices.last?.at == 5 * second)
    }

    @Test func theFirstInvalidEventIsReportedWithItsIndexAsWritten() {
        let initial = Session(owner: "alice", knownUsers: ["alice", "bob"], maxHosts: 9)
        #expect(throws: TimelineError(index: 1, reason: .notConnected("bob"))) {
            try SessionSchedule(initial: initial, events: [
                TimedEvent(at: 3 * second, event: .hostJoined(userId: "bob")),
                TimedEvent(at: 1 * second, event: .hostLeft(userId: "bob")),
            ], until: 10 * second)
        }
    }
}

@Suite struct TimeOrderedTests {
    @Test func lastIndexAtOrBeforeAMoment() {
        let times: [UInt64] = [0, 10, 10, 20, 30]
        #expect([UInt64]().lastIndex(atOrBefore: 5) { $0 } == nil)
        #expect([UInt64(7)].lastIndex(atOrBefore: 5) { $0 } == nil)
        #expect(times.lastIndex(atOrBefore: 0) { $0 } == 0)
        #expect(times.lastIndex(atOrBefore: 10) { $0 } == 2)   // the last of equal times
        #expect(times.lastIndex(atOrBefore: 19) { $0 } == 2)
        #expect(times.lastIndex(atOrBefore: 99) { $0 } == 4)
    }
}
