import ArenaSession
import Testing

private let s = second

/// A session with alice (owner), bob and carol connected; dave and erin known but not.
private func session(connected: [String] = ["alice", "bob", "carol"], maxHosts: Int = 9) -> Session {
    var session = Session(owner: "alice", knownUsers: ["alice", "bob", "carol", "dave", "erin"], maxHosts: maxHosts)
    for user in connected { _ = try! session.apply(.hostJoined(userId: user)) }
    return session
}

/// Applies events one after another at the current time, returning all notices' names.
@discardableResult
private func run(_ session: inout Session, _ events: [SessionEvent]) throws -> [String] {
    try events.flatMap { try session.apply($0).map(\.event) }
}

private func request(_ invitees: [String] = ["bob"], needResponse: Bool = true, duration: UInt64 = 30 * s) -> SessionEvent {
    .battleRequest(battleId: "b1", inviter: "alice", invitees: invitees,
                   config: BattleConfig(duration: duration, needResponse: needResponse), timeout: 10 * s)
}

@Suite struct CoHostTransitionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let events: [SessionEvent]
        let notices: [String]
        let connected: [String]
        var testDescription: String { name }
    }

    @Test(arguments: [
        Case(name: "request, accept, join", events: [.coHostRequest(inviter: "alice", invitee: "dave"), .coHostAccept(invitee: "dave"), .hostJoined(userId: "dave")],
             notices: ["onCoHostRequestReceived", "onCoHostRequestAccepted", "onCoHostUserJoined"], connected: ["alice", "bob", "carol", "dave"]),
        Case(name: "request, reject", events: [.coHostRequest(inviter: "alice", invitee: "dave"), .coHostReject(invitee: "dave")],
             notices: ["onCoHostRequestReceived", "onCoHostRequestRejected"], connected: ["alice", "bob", "carol"]),
        Case(name: "request, cancel", events: [.coHostRequest(inviter: "alice", invitee: "dave"), .coHostCancel(inviter: "alice", invitee: "dave")],
             notices: ["onCoHostRequestReceived", "onCoHostRequestCancelled"], connected: ["alice", "bob", "carol"]),
        Case(name: "join without a request", events: [.hostJoined(userId: "erin")], notices: ["onCoHostUserJoined"],
             connected: ["alice", "bob", "carol", "erin"]),
        Case(name: "leave closes the gap", events: [.hostLeft(userId: "bob")], notices: ["onCoHostUserLeft"], connected: ["alice", "carol"]),
        Case(name: "leave withdraws the leaver's requests", events: [.coHostRequest(inviter: "bob", invitee: "dave"), .hostLeft(userId: "bob")],
             notices: ["onCoHostRequestReceived", "onCoHostUserLeft", "onCoHostRequestCancelled"], connected: ["alice", "carol"]),
        Case(name: "camera and mic", events: [.cameraOff(userId: "bob"), .cameraOff(userId: "bob"), .micOff(userId: "bob"), .cameraOn(userId: "bob")],
             notices: ["onCameraOff", "onMicOff", "onCameraOn"], connected: ["alice", "bob", "carol"]),
    ])
    func transition(_ test: Case) throws {
        var state = session()
        #expect(try run(&state, test.events) == test.notices)
        #expect(state.connected == test.connected)
    }

    @Test func theOwnerTakesSlotZeroWheneverItJoins() throws {
        var state = session(connected: ["bob", "carol"])
        try run(&state, [.hostJoined(userId: "alice")])
        #expect(state.connected == ["alice", "bob", "carol"])
    }

    @Test func aRequestTimesOutAfterItsTimeout() throws {
        var state = session()
        try run(&state, [.coHostRequest(inviter: "alice", invitee: "dave", timeout: 3 * s)])
        #expect(state.advance(to: 3 * s - 1).isEmpty)
        #expect(state.advance(to: 3 * s).map(\.event) == ["onCoHostRequestTimeout"])
        #expect(state.coHostRequests.isEmpty)
    }

    @Test func cameraAndMicStateIsKept() throws {
        var state = session()
        try run(&state, [.cameraOff(userId: "bob"), .micOff(userId: "carol")])
        #expect(state.cameraOff == ["bob"])
        #expect(state.micOff == ["carol"])
    }
}

@Suite struct RejectionTests {
    @Test(arguments: [
        (SessionEvent.hostJoined(userId: "stranger"), SessionError.unknownUser("stranger")),
        (.hostJoined(userId: "bob"), .alreadyConnected("bob")),
        (.hostLeft(userId: "dave"), .notConnected("dave")),
        (.coHostAccept(invitee: "dave"), .noCoHostRequest(invitee: "dave")),
        (.coHostReject(invitee: "dave"), .noCoHostRequest(invitee: "dave")),
        (.coHostCancel(inviter: "alice", invitee: "dave"), .noCoHostRequest(invitee: "dave")),
        (.coHostRequest(inviter: "dave", invitee: "erin"), .notConnected("dave")),
        (.coHostRequest(inviter: "alice", invitee: "bob"), .alreadyConnected("bob")),
        (.cameraOff(userId: "stranger"), .unknownUser("stranger")),
        (.battleRequest(battleId: "b1", inviter: "alice", invitees: ["dave"], config: BattleConfig()), .notConnected("dave")),
        (.battleRequest(battleId: "b1", inviter: "alice", invitees: [], config: BattleConfig()), .invalidBattle("no invitees")),
        (.battleRequest(battleId: "b1", inviter: "alice", invitees: ["alice"], config: BattleConfig()),
         .invalidBattle("invitees must be distinct and not the inviter")),
        (.battleAccept(battleId: "nope", userId: "bob"), .noSuchBattle("nope")),
        (.score(battleId: "b1", userId: "bob", value: 5, op: .add), .noSuchBattle("b1")),
        (.battleEnd(battleId: "b1"), .noSuchBattle("b1")),
    ])
    func refusedWithoutAnyChange(event: SessionEvent, expected: SessionError) {
        var state = session()
        let before = state
        #expect(throws: expected) { try state.apply(event) }
        #expect(state == before)
    }

    @Test func aJoinPastTheSeatsIsRefused() {
        var state = session(connected: ["alice", "bob"], maxHosts: 2)
        #expect(throws: SessionError.full(maxHosts: 2, userId: "carol")) { try state.apply(.hostJoined(userId: "carol")) }
    }

    @Test(arguments: [
        ([SessionEvent](), SessionEvent.battleAccept(battleId: "b1", userId: "carol"), SessionError.notInvited(userId: "carol", battleId: "b1")),
        ([.battleAccept(battleId: "b1", userId: "bob")], .battleAccept(battleId: "b1", userId: "bob"), .alreadyResponded(userId: "bob", battleId: "b1")),
        ([], .score(battleId: "b1", userId: "bob", value: 1, op: .add), .battleNotRunning("b1")),
        ([.battleAccept(battleId: "b1", userId: "bob")], .score(battleId: "b1", userId: "carol", value: 1, op: .add), .notInBattle(userId: "carol", battleId: "b1")),
        ([.battleAccept(battleId: "b1", userId: "bob")], .score(battleId: "b1", userId: "bob", value: -1, op: .add), .invalidScore("-1 is negative")),
        ([.battleAccept(battleId: "b1", userId: "bob")], .battleCancel(battleId: "b1"), .battleAlreadyStarted("b1")),
        ([], .battleExit(battleId: "b1", userId: "bob"), .battleNotRunning("b1")),
        ([], request(["carol"]), .battleInProgress("b1")),
    ])
    func battleEventsThatDoNotFitAreRefused(setup: [SessionEvent], event: SessionEvent, expected: SessionError) throws {
        var state = session()
        try run(&state, [request(["bob"])] + setup)
        let before = state
        #expect(throws: expected) { try state.apply(event) }
        #expect(state == before)
    }

    /// Totals stay within 0 to 2^31 - 1, the range the PK API's clients store.
    @Test func aScorePastTheLargestTotalIsRefused() throws {
        var state = session()
        try run(&state, [request(needResponse: false), .score(battleId: "b1", userId: "bob", value: Battle.maxScore, op: .set)])
        #expect(throws: SessionError.invalidScore("2147483647 + 1 is more than 2147483647")) {
            try state.apply(.score(battleId: "b1", userId: "bob", value: 1, op: .add))
        }
        #expect(throws: SessionError.invalidScore("2147483647 + \(Int64.max) is more than 2147483647")) {
            try state.apply(.score(battleId: "b1", userId: "bob", value: Int64.max, op: .add))
        }
        #expect(throws: SessionError.invalidScore("2147483648 is more than 2147483647")) {
            try state.apply(.score(battleId: "b1", userId: "bob", value: Battle.maxScore + 1, op: .set))
        }
        #expect(state.battle?.scores["bob"] == Battle.maxScore)
    }
}

@Suite struct BattleTests {
    @Test func startsAtTheFirstAcceptAndLaterAcceptsJoin() throws {
        var state = session()
        #expect(try run(&state, [request(["bob", "carol"])]) == ["onBattleRequestReceived", "onBattleRequestReceived"])
        _ = state.advance(to: 2 * s)
        #expect(try run(&state, [.battleAccept(battleId: "b1", userId: "bob")]) == ["onBattleRequestAccept", "onBattleStarted"])
        #expect(state.battle?.startTime == 2 * s)
        #expect(try run(&state, [.battleAccept(battleId: "b1", userId: "carol")]) == ["onBattleRequestAccept", "onUserJoinBattle"])
        #expect(state.battle?.active == ["alice", "bob", "carol"])
    }

    @Test func withoutResponseItStartsAtTheRequestWithEveryone() throws {
        var state = session()
        #expect(try run(&state, [request(["bob", "carol"], needResponse: false)]).last == "onBattleStarted")
        #expect(state.battle?.active == ["alice", "bob", "carol"])
    }

    @Test func countdownAndEndAtExactlyStartPlusDuration() throws {
        var state = session()
        _ = state.advance(to: 5 * s)
        try run(&state, [request(needResponse: false, duration: 300 * s)])
        #expect(state.remainingBattleTime(at: 5 * s) == 300 * s)
        #expect(state.remainingBattleTime(at: 6 * s + 500_000_000) == 298 * s + 500_000_000)
        #expect(state.advance(to: 305 * s - 1).isEmpty)
        #expect(state.battle?.isRunning == true)
        let ended = state.advance(to: 305 * s)
        #expect(ended.map(\.event) == ["onBattleEnded"])
        #expect(ended.first?.reason == "timeOver")
        #expect(ended.first?.endTime == 305 * s)
        #expect(state.remainingBattleTime(at: 305 * s) == nil)
    }

    @Test func theResultStaysFiveSecondsThenTheBattleIsGone() throws {
        var state = session()
        try run(&state, [request(needResponse: false, duration: 10 * s)])
        _ = state.advance(to: 15 * s - 1)
        #expect(state.battle?.isEnded == true)
        _ = state.advance(to: 15 * s)
        #expect(state.battle == nil)
    }

    @Test func aBattleEndsWhenAllButOneHaveExited() throws {
        var state = session()
        try run(&state, [request(["bob", "carol"], needResponse: false)])
        #expect(try run(&state, [.battleExit(battleId: "b1", userId: "bob")]) == ["onUserExitBattle"])
        let notices = try state.apply(.battleExit(battleId: "b1", userId: "carol"))
        #expect(notices.map(\.event) == ["onUserExitBattle", "onBattleEnded"])
        #expect(notices.last?.reason == "allMemberExit")
    }

    @Test func aCoHostLeavingExitsTheBattle() throws {
        var state = session()
        try run(&state, [request(["bob"], needResponse: false)])
        let notices = try state.apply(.hostLeft(userId: "bob"))
        #expect(notices.map(\.event) == ["onCoHostUserLeft", "onUserExitBattle", "onBattleEnded"])
        #expect(notices.last?.reason == "allMemberExit")
    }

    @Test func unansweredInvitationsTimeOutAndTheBattleNeverStarts() throws {
        var state = session()
        try run(&state, [request(["bob", "carol"])])
        let notices = state.advance(to: 10 * s)
        #expect(notices.map(\.event) == ["onBattleRequestTimeout", "onBattleRequestTimeout", "onBattleEnded"])
        #expect(notices.last?.reason == "neverStarted")
    }

    @Test func everyoneRejectingEndsTheRequest() throws {
        var state = session()
        try run(&state, [request(["bob"])])
        #expect(try run(&state, [.battleReject(battleId: "b1", userId: "bob")]) == ["onBattleRequestReject", "onBattleEnded"])
        try run(&state, [request(["carol"])])  // a new battle may be requested during the result period
        #expect(state.battle?.invitees == ["carol"])
    }

    @Test func scoresAddAndOverwrite() throws {
        var state = session()
        try run(&state, [request(needResponse: false),
                         .score(battleId: "b1", userId: "bob", value: 5, op: .add),
                         .score(battleId: "b1", userId: "bob", value: 8, op: .add),
                         .score(battleId: "b1", userId: "alice", value: 99, op: .set),
                         .score(battleId: "b1", userId: "alice", value: 12, op: .set)])
        #expect(state.battle?.scores == ["bob": 13, "alice": 12])
    }

    @Test func endingEarly() throws {
        var state = session()
        try run(&state, [request(needResponse: false)])
        let notices = try state.apply(.battleEnd(battleId: "b1"))
        #expect(notices.first?.reason == "endedEarly")
    }
}

@Suite struct RankingTests {
    private func battle(_ scores: [String: Int64]) throws -> Battle {
        var state = session()
        try run(&state, [request(["bob", "carol"], needResponse: false)])
        for (user, score) in scores { try run(&state, [.score(battleId: "b1", userId: user, value: score, op: .set)]) }
        return state.battle!
    }

    @Test func tiesShareARankAndTheNextSkips() throws {
        #expect(try battle(["alice": 10, "bob": 10, "carol": 3]).ranks == ["alice": 1, "bob": 1, "carol": 3])
        #expect(try battle(["alice": 1, "bob": 7, "carol": 7]).ranks == ["bob": 1, "carol": 1, "alice": 3])
        #expect(try battle([:]).ranks == ["alice": 1, "bob": 1, "carol": 1])
    }

    @Test func outcomeForTheOwner() throws {
        #expect(try battle(["alice": 10, "bob": 3, "carol": 1]).outcome(for: "alice") == .win)
        #expect(try battle(["alice": 1, "bob": 3, "carol": 1]).outcome(for: "alice") == .lose)
        #expect(try battle(["alice": 5, "bob": 5, "carol": 5]).outcome(for: "alice") == .draw)
        // First and last ranked differ, so not a draw even though the owner ties for first.
        #expect(try battle(["alice": 5, "bob": 5, "carol": 1]).outcome(for: "alice") == .win)
    }
}
