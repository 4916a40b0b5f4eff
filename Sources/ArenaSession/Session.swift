/// The co-host and battle state of one mix: who is connected, in which slot, whose camera
/// and microphone are off, the pending co-host requests and the battle.
///
/// Time is a value: `advance(to:)` moves the session's clock, firing what falls due on the
/// way (request timeouts, the end of a battle's time, the end of its result period);
/// `apply(_:)` applies an event at the current time. Both return the notices (outbound
/// events) the change produced. An event that does not fit the current state throws and
/// leaves the session exactly as it was.
public struct Session: Equatable, Sendable {
    /// How long a battle's result stays after its end (the SDK shows it 5 s).
    public static let resultPeriod: UInt64 = 5 * second
    /// Co-host and battle invitations expire after this unless a request says otherwise
    /// (the UIKit's 10 s); the reference API caps requests at 30 s.
    public static let defaultRequestTimeout: UInt64 = 10 * second
    public static let maxRequestTimeout: UInt64 = 30 * second

    /// A co-host invitation waiting for its answer.
    public struct CoHostRequest: Equatable, Sendable {
        public let inviter: String
        public let invitee: String
        public let extensionInfo: String?
        public let deadline: UInt64
    }

    /// The mix's own host; slot 0 while connected.
    public let owner: String
    public private(set) var knownUsers: Set<String>
    public let maxHosts: Int
    public private(set) var now: UInt64 = 0
    /// Connected hosts: the owner first, then the others in join order.
    public private(set) var connected: [String] = []
    public private(set) var cameraOff: Set<String> = []
    public private(set) var micOff: Set<String> = []
    public private(set) var coHostRequests: [CoHostRequest] = []
    /// The current battle, from its request to the end of its result period.
    public private(set) var battle: Battle?

    public init(owner: String, knownUsers: Set<String>, maxHosts: Int) {
        self.owner = owner
        self.knownUsers = knownUsers.union([owner])
        self.maxHosts = maxHosts
    }

    /// Lets `user` take part from now on (a host added to a running mix).
    public mutating func addKnownUser(_ user: String) {
        knownUsers.insert(user)
    }

    // MARK: Time

    /// Moves the clock to `time` (never back), firing everything that falls due up to it
    /// in time order.
    public mutating func advance(to time: UInt64) -> [Notice] {
        var notices: [Notice] = []
        while let (deadline, fire) = nextDeadline(), deadline <= time {
            now = max(now, deadline)
            notices += fire(&self)
        }
        now = max(now, time)
        return notices
    }

    /// When the next thing falls due, if anything will.
    public func nextDueTime() -> UInt64? {
        nextDeadline()?.0
    }

    /// The earliest thing due, and what to do then.
    private func nextDeadline() -> (UInt64, (inout Session) -> [Notice])? {
        var candidates: [(UInt64, (inout Session) -> [Notice])] = coHostRequests.map { request in
            (request.deadline, { $0.expire(request) })
        }
        if let battle {
            switch battle.phase {
            case .requested, .running:
                if battle.invitees.contains(where: { battle.answers[$0] == nil }) {
                    candidates.append((battle.answerDeadline, { $0.expireInvitations() }))
                }
                if let end = battle.scheduledEnd {
                    candidates.append((end, { $0.endBattle(.timeOver) }))
                }
            case .ended(_, let end, _):
                candidates.append((end + Self.resultPeriod, { $0.battle = nil; return [] }))
            }
        }
        return candidates.min { $0.0 < $1.0 }
    }

    private mutating func expire(_ request: CoHostRequest) -> [Notice] {
        coHostRequests.removeAll { $0 == request }
        return [Notice(at: now, event: "onCoHostRequestTimeout", inviter: request.inviter, invitee: request.invitee)]
    }

    private mutating func expireInvitations() -> [Notice] {
        guard var battle else { return [] }
        var notices: [Notice] = []
        for invitee in battle.invitees where battle.answers[invitee] == nil {
            battle.answers[invitee] = .rejected
            notices.append(Notice(at: now, event: "onBattleRequestTimeout", inviter: battle.inviter, invitee: invitee, battleId: battle.id))
        }
        self.battle = battle
        if battle.phase == .requested { notices += endBattle(.neverStarted) }
        return notices
    }

    /// The battle's remaining time at `time`, while it runs.
    public func remainingBattleTime(at time: UInt64) -> UInt64? {
        guard let end = battle?.scheduledEnd else { return nil }
        return end > time ? end - time : 0
    }

    // MARK: Events

    /// Applies `event` at the current time, or throws and changes nothing.
    public mutating func apply(_ event: SessionEvent) throws(SessionError) -> [Notice] {
        var next = self
        let notices = try next.applyInPlace(event)
        self = next
        return notices
    }

    private mutating func applyInPlace(_ event: SessionEvent) throws(SessionError) -> [Notice] {
        switch event {
        case .coHostRequest(let inviter, let invitee, let timeout, let extensionInfo):
            try requireConnected(inviter)
            try requireKnown(invitee)
            guard !connected.contains(invitee) else { throw .alreadyConnected(invitee) }
            guard !coHostRequests.contains(where: { $0.inviter == inviter && $0.invitee == invitee }) else {
                throw .coHostRequestPending(inviter: inviter, invitee: invitee)
            }
            coHostRequests.append(CoHostRequest(inviter: inviter, invitee: invitee, extensionInfo: extensionInfo,
                                                deadline: now + min(timeout ?? Self.defaultRequestTimeout, Self.maxRequestTimeout)))
            return [Notice(at: now, event: "onCoHostRequestReceived", inviter: inviter, invitee: invitee, extensionInfo: extensionInfo)]

        case .coHostCancel(let inviter, let invitee):
            let request = try takeCoHostRequest(invitee: invitee, inviter: inviter)
            return [Notice(at: now, event: "onCoHostRequestCancelled", inviter: request.inviter, invitee: invitee)]

        case .coHostAccept(let invitee, let inviter):
            let request = try takeCoHostRequest(invitee: invitee, inviter: inviter)
            return [Notice(at: now, event: "onCoHostRequestAccepted", inviter: request.inviter, invitee: invitee)]

        case .coHostReject(let invitee, let inviter):
            let request = try takeCoHostRequest(invitee: invitee, inviter: inviter)
            return [Notice(at: now, event: "onCoHostRequestRejected", inviter: request.inviter, invitee: invitee)]

        case .hostJoined(let user):
            try requireKnown(user)
            guard !connected.contains(user) else { throw .alreadyConnected(user) }
            guard connected.count < maxHosts else { throw .full(maxHosts: maxHosts, userId: user) }
            if user == owner { connected.insert(user, at: 0) } else { connected.append(user) }
            coHostRequests.removeAll { $0.invitee == user }  // the join answers them
            return [Notice(at: now, event: "onCoHostUserJoined", userId: user)]

        case .hostLeft(let user):
            try requireConnected(user)
            connected.removeAll { $0 == user }
            var notices = [Notice(at: now, event: "onCoHostUserLeft", userId: user)]
            for request in coHostRequests where request.inviter == user || request.invitee == user {
                notices.append(Notice(at: now, event: "onCoHostRequestCancelled", inviter: request.inviter, invitee: request.invitee))
            }
            coHostRequests.removeAll { $0.inviter == user || $0.invitee == user }
            return notices + battleLoses(user)

        case .cameraOn(let user):
            try requireKnown(user)
            return cameraOff.remove(user) == nil ? [] : [Notice(at: now, event: "onCameraOn", userId: user)]
        case .cameraOff(let user):
            try requireKnown(user)
            return cameraOff.insert(user).inserted ? [Notice(at: now, event: "onCameraOff", userId: user)] : []
        case .micOn(let user):
            try requireKnown(user)
            return micOff.remove(user) == nil ? [] : [Notice(at: now, event: "onMicOn", userId: user)]
        case .micOff(let user):
            try requireKnown(user)
            return micOff.insert(user).inserted ? [Notice(at: now, event: "onMicOff", userId: user)] : []

        case .battleRequest(let id, let inviter, let invitees, let config, let timeout):
            return try requestBattle(id: id, inviter: inviter, invitees: invitees, config: config, timeout: timeout)

        case .battleCancel(let id):
            var battle = try currentBattle(id)
            guard battle.phase == .requested else { throw .battleAlreadyStarted(id) }
            let unanswered = battle.invitees.filter { battle.answers[$0] == nil }
            for invitee in unanswered { battle.answers[invitee] = .rejected }
            self.battle = battle
            return [Notice(at: now, event: "onBattleRequestCancelled", inviter: battle.inviter, invitees: unanswered, battleId: id)]
                + endBattle(.neverStarted)

        case .battleAccept(let id, let user):
            var battle = try invitation(id, for: user)
            battle.answers[user] = .accepted
            var notices = [Notice(at: now, event: "onBattleRequestAccept", inviter: battle.inviter, invitee: user, battleId: id)]
            if battle.phase == .requested {
                battle.phase = .running(startTime: now)
                battle.participants = [battle.inviter, user]
                notices.append(started(battle, invitees: [user]))
            } else {
                battle.participants.append(user)
                notices.append(Notice(at: now, event: "onUserJoinBattle", userId: user, battleId: id))
            }
            self.battle = battle
            return notices

        case .battleReject(let id, let user):
            _ = try invitation(id, for: user)
            return decline(user)

        case .battleExit(let id, let user):
            let battle = try currentBattle(id)
            guard battle.isRunning else { throw .battleNotRunning(id) }
            guard battle.active.contains(user) else { throw .notInBattle(userId: user, battleId: id) }
            return exitBattle(user)

        case .battleEnd(let id):
            guard try currentBattle(id).isRunning else { throw .battleNotRunning(id) }
            return endBattle(.endedEarly)

        case .score(let id, let user, let value, let op):
            var battle = try currentBattle(id)
            guard battle.isRunning else { throw .battleNotRunning(id) }
            guard battle.active.contains(user) else { throw .notInBattle(userId: user, battleId: id) }
            guard value >= 0 else { throw .invalidScore("\(value) is negative") }
            let old = battle.scores[user] ?? 0
            let total = op == .set ? value : old + min(value, Battle.maxScore + 1)
            guard total <= Battle.maxScore else {
                throw .invalidScore(op == .set ? "\(value) is more than \(Battle.maxScore)" : "\(old) + \(value) is more than \(Battle.maxScore)")
            }
            battle.scores[user] = total
            self.battle = battle
            return [Notice(at: now, event: "onBattleScoreChanged", battleId: id, scores: battle.allScores)]
        }
    }

    private mutating func requestBattle(id: String, inviter: String, invitees: [String], config: BattleConfig,
                                        timeout: UInt64?) throws(SessionError) -> [Notice] {
        if let battle, !battle.isEnded { throw .battleInProgress(battle.id) }
        guard !id.isEmpty else { throw .invalidBattle("the battle id is empty") }
        guard !invitees.isEmpty else { throw .invalidBattle("no invitees") }
        guard Set(invitees).count == invitees.count, !invitees.contains(inviter) else {
            throw .invalidBattle("invitees must be distinct and not the inviter")
        }
        guard config.duration > 0 else { throw .invalidBattle("the duration must be positive") }
        try requireConnected(inviter)
        for invitee in invitees { try requireConnected(invitee) }

        var battle = Battle(id: id, inviter: inviter, invitees: invitees, config: config, requestedAt: now,
                            answerDeadline: now + min(timeout ?? Self.defaultRequestTimeout, Self.maxRequestTimeout))
        var notices = invitees.map {
            Notice(at: now, event: "onBattleRequestReceived", inviter: inviter, invitee: $0,
                   extensionInfo: config.extensionInfo, battleId: id)
        }
        if !config.needResponse {
            for invitee in invitees { battle.answers[invitee] = .accepted }
            battle.participants = [inviter] + invitees
            battle.phase = .running(startTime: now)
            notices.append(started(battle, invitees: invitees))
        }
        self.battle = battle
        return notices
    }

    private func started(_ battle: Battle, invitees: [String]) -> Notice {
        Notice(at: now, event: "onBattleStarted", inviter: battle.inviter, invitees: invitees,
               extensionInfo: battle.config.extensionInfo, battleId: battle.id, startTime: now,
               endTime: now + battle.config.duration, duration: battle.config.duration)
    }

    /// What a host leaving means for the battle: a participant exits, an invitee's
    /// invitation is declined, an inviter's unanswered request is withdrawn.
    private mutating func battleLoses(_ user: String) -> [Notice] {
        guard let battle, !battle.isEnded else { return [] }
        if battle.active.contains(user) { return exitBattle(user) }
        if battle.invitees.contains(user), battle.answers[user] == nil { return decline(user) }
        if battle.inviter == user, battle.phase == .requested {
            let unanswered = battle.invitees.filter { battle.answers[$0] == nil }
            return [Notice(at: now, event: "onBattleRequestCancelled", inviter: user, invitees: unanswered, battleId: battle.id)]
                + endBattle(.neverStarted)
        }
        return []
    }

    /// `user` declines their invitation; a battle that everyone declined never starts.
    private mutating func decline(_ user: String) -> [Notice] {
        guard var battle else { return [] }
        battle.answers[user] = .rejected
        self.battle = battle
        let notice = Notice(at: now, event: "onBattleRequestReject", inviter: battle.inviter, invitee: user, battleId: battle.id)
        let allDeclined = battle.invitees.allSatisfy { battle.answers[$0] == .rejected }
        return [notice] + (battle.phase == .requested && allDeclined ? endBattle(.neverStarted) : [])
    }

    private mutating func exitBattle(_ user: String) -> [Notice] {
        guard var battle else { return [] }
        battle.exited.insert(user)
        self.battle = battle
        let notice = Notice(at: now, event: "onUserExitBattle", userId: user, battleId: battle.id)
        return [notice] + (battle.active.count < 2 ? endBattle(.allMemberExit) : [])
    }

    private mutating func endBattle(_ reason: BattleEndReason) -> [Notice] {
        guard var battle else { return [] }
        let start = battle.startTime
        battle.phase = .ended(startTime: start, endTime: now, reason: reason)
        self.battle = battle
        return [Notice(at: now, event: "onBattleEnded", battleId: battle.id, startTime: start, endTime: now,
                       reason: reason.rawValue, scores: battle.allScores)]
    }

    // MARK: Checks

    private func requireKnown(_ user: String) throws(SessionError) {
        guard knownUsers.contains(user) else { throw .unknownUser(user) }
    }

    private func requireConnected(_ user: String) throws(SessionError) {
        try requireKnown(user)
        guard connected.contains(user) else { throw .notConnected(user) }
    }

    private mutating func takeCoHostRequest(invitee: String, inviter: String?) throws(SessionError) -> CoHostRequest {
        guard let index = coHostRequests.firstIndex(where: { $0.invitee == invitee && (inviter == nil || $0.inviter == inviter) }) else {
            throw .noCoHostRequest(invitee: invitee)
        }
        return coHostRequests.remove(at: index)
    }

    /// The battle `id` while it is requested or running.
    private func currentBattle(_ id: String) throws(SessionError) -> Battle {
        guard let battle, battle.id == id else { throw .noSuchBattle(id) }
        if case .ended = battle.phase { throw .battleNotRunning(id) }
        return battle
    }

    /// The battle `id` with `user`'s invitation still open.
    private func invitation(_ id: String, for user: String) throws(SessionError) -> Battle {
        let battle = try currentBattle(id)
        guard battle.invitees.contains(user) else { throw .notInvited(userId: user, battleId: id) }
        guard battle.answers[user] == nil else { throw .alreadyResponded(userId: user, battleId: id) }
        return battle
    }
}
