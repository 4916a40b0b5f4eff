import ArenaSession
import Testing

private func roster(max: Int = 9) -> CoHostState {
    CoHostState(owner: "owner", knownUsers: ["owner", "b", "c", "d"], maxHosts: max)
}

@Suite struct CoHostStateTests {
    @Test func joinsKeepTheOwnerFirstThenJoinOrder() throws {
        var state = roster()
        try state.apply(.hostJoined(userId: "c"))
        try state.apply(.hostJoined(userId: "owner"))
        try state.apply(.hostJoined(userId: "b"))
        #expect(state.connected == ["owner", "c", "b"])
    }

    @Test func leaveRemovesOnlyThatHost() throws {
        var state = roster()
        for user in ["owner", "b", "c"] { try state.apply(.hostJoined(userId: user)) }
        try state.apply(.hostLeft(userId: "b"))
        #expect(state.connected == ["owner", "c"])
    }

    @Test func cameraStateIsTrackedPerHost() throws {
        var state = roster()
        try state.apply(.hostJoined(userId: "b"))
        try state.apply(.cameraOff(userId: "b"))
        #expect(state.cameraOff == ["b"])
        try state.apply(.cameraOn(userId: "b"))
        #expect(state.cameraOff.isEmpty)
    }

    @Test(arguments: [
        (SessionEvent.hostJoined(userId: "stranger"), SessionError.unknownUser("stranger")),
        (SessionEvent.hostJoined(userId: "b"), SessionError.alreadyConnected("b")),
        (SessionEvent.hostLeft(userId: "c"), SessionError.notConnected("c")),
        (SessionEvent.hostJoined(userId: "c"), SessionError.full(maxHosts: 2, userId: "c")),
    ])
    func invalidEventsAreRefusedAndChangeNothing(event: SessionEvent, expected: SessionError) throws {
        var state = roster(max: 2)
        try state.apply(.hostJoined(userId: "owner"))
        try state.apply(.hostJoined(userId: "b"))
        let before = state
        #expect(throws: expected) { try state.apply(event) }
        #expect(state == before)
    }
}

@Suite struct RosterScheduleTests {
    private let second: UInt64 = 1_000_000_000

    @Test func stateAtAnyTimeIsTheOneAfterTheLastEventBeforeIt() throws {
        var initial = roster()
        try initial.apply(.hostJoined(userId: "owner"))
        let schedule = try RosterSchedule(initial: initial, events: [
            TimedEvent(at: 2 * second, event: .hostLeft(userId: "b")),
            TimedEvent(at: 1 * second, event: .hostJoined(userId: "b")),
        ])
        #expect(schedule.state(at: 0).connected == ["owner"])
        #expect(schedule.state(at: second - 1).connected == ["owner"])
        #expect(schedule.state(at: second).connected == ["owner", "b"])
        #expect(schedule.state(at: 2 * second).connected == ["owner"])
        #expect(schedule.state(at: 100 * second).connected == ["owner"])
    }

    @Test func eventsAtTheSameTimeApplyInTheOrderWritten() throws {
        let schedule = try RosterSchedule(initial: roster(), events: [
            TimedEvent(at: second, event: .hostJoined(userId: "c")),
            TimedEvent(at: second, event: .hostJoined(userId: "b")),
        ])
        #expect(schedule.state(at: second).connected == ["c", "b"])
        #expect(schedule.changes.count == 2)
    }

    @Test func theFirstInvalidEventIsReportedWithItsIndexAsWritten() {
        #expect(throws: TimelineError(index: 1, reason: .notConnected("c"))) {
            try RosterSchedule(initial: roster(), events: [
                TimedEvent(at: 3 * second, event: .hostJoined(userId: "b")),
                TimedEvent(at: 1 * second, event: .hostLeft(userId: "c")),
            ])
        }
    }

    @Test func theSameTimelineGivesTheSameStates() throws {
        let events = (0..<50).map { index in
            TimedEvent(at: UInt64(index) * second / 10, event: index % 2 == 0 ? .hostJoined(userId: "b") : .hostLeft(userId: "b"))
        }
        let once = try RosterSchedule(initial: roster(), events: events)
        let again = try RosterSchedule(initial: roster(), events: events)
        #expect(once.changes.map(\.state) == again.changes.map(\.state))
        #expect(once.changes.map(\.at) == again.changes.map(\.at))
    }
}
