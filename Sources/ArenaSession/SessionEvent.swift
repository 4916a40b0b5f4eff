/// Something that happens in a co-host session, as the platform reports it or as a
/// timeline schedules it. Times are nanoseconds on the mix's clock.
public enum SessionEvent: Equatable, Sendable {
    // Co-host
    case coHostRequest(inviter: String, invitee: String, timeout: UInt64? = nil, extensionInfo: String? = nil)
    case coHostCancel(inviter: String, invitee: String)
    case coHostAccept(invitee: String, inviter: String? = nil)
    case coHostReject(invitee: String, inviter: String? = nil)
    case hostJoined(userId: String)
    /// The host left, or exited co-hosting.
    case hostLeft(userId: String)
    case cameraOn(userId: String)
    case cameraOff(userId: String)
    case micOn(userId: String)
    case micOff(userId: String)
    // Battle
    case battleRequest(battleId: String, inviter: String, invitees: [String], config: BattleConfig, timeout: UInt64? = nil)
    case battleCancel(battleId: String)
    case battleAccept(battleId: String, userId: String)
    case battleReject(battleId: String, userId: String)
    case battleExit(battleId: String, userId: String)
    /// Ends a running battle before its time is up (the REST "end battle early").
    case battleEnd(battleId: String)
    case score(battleId: String, userId: String, value: Int64, op: ScoreOperation)
}

extension SessionEvent {
    /// A battle's request, answer, exit, end or score (not a co-host, camera or mic change).
    public var isBattleEvent: Bool {
        switch self {
        case .coHostRequest, .coHostCancel, .coHostAccept, .coHostReject, .hostJoined, .hostLeft, .cameraOn, .cameraOff, .micOn, .micOff:
            return false
        case .battleRequest, .battleCancel, .battleAccept, .battleReject, .battleExit, .battleEnd, .score:
            return true
        }
    }
}

/// How a score update combines with the score so far.
public enum ScoreOperation: String, Equatable, Sendable {
    /// Adds the value (the reference service's op 1).
    case add
    /// Replaces the score (op 2).
    case set
}

/// A battle's settings, as the SDK's `BattleConfig`.
public struct BattleConfig: Equatable, Sendable {
    /// Nanoseconds from the start to the end.
    public var duration: UInt64
    /// When false, the battle starts at the request with every invitee.
    public var needResponse: Bool
    public var extensionInfo: String?

    public init(duration: UInt64 = 30 * second, needResponse: Bool = true, extensionInfo: String? = nil) {
        self.duration = duration
        self.needResponse = needResponse
        self.extensionInfo = extensionInfo
    }
}

/// Nanoseconds in a second.
public let second: UInt64 = 1_000_000_000

/// Why a battle ended (the SDK's reasons, plus the server's "never started").
public enum BattleEndReason: String, Equatable, Sendable {
    case timeOver
    case allMemberExit
    case neverStarted
    /// Ended early on request.
    case endedEarly
}

/// Why an event was refused. The session is unchanged.
public enum SessionError: Error, Equatable, CustomStringConvertible {
    case unknownUser(String)
    case alreadyConnected(String)
    case notConnected(String)
    case full(maxHosts: Int, userId: String)
    case noCoHostRequest(invitee: String)
    case coHostRequestPending(inviter: String, invitee: String)
    case battleInProgress(String)
    case noSuchBattle(String)
    case battleNotRunning(String)
    case battleAlreadyStarted(String)
    case notInvited(userId: String, battleId: String)
    case alreadyResponded(userId: String, battleId: String)
    case notInBattle(userId: String, battleId: String)
    case invalidScore(String)
    case invalidBattle(String)

    public var description: String {
        switch self {
        case .unknownUser(let user): return "unknown user '\(user)' (not one of the mix's hosts)"
        case .alreadyConnected(let user): return "'\(user)' is already connected"
        case .notConnected(let user): return "'\(user)' is not connected"
        case .full(let maxHosts, let user): return "cannot connect '\(user)': the layout seats at most \(maxHosts) hosts"
        case .noCoHostRequest(let invitee): return "no co-host request to '\(invitee)' is pending"
        case .coHostRequestPending(let inviter, let invitee): return "'\(inviter)' already has a request pending to '\(invitee)'"
        case .battleInProgress(let battle): return "battle '\(battle)' is still in progress; one battle at a time"
        case .noSuchBattle(let battle): return "no battle '\(battle)' is in progress"
        case .battleNotRunning(let battle): return "battle '\(battle)' is not running"
        case .battleAlreadyStarted(let battle): return "battle '\(battle)' has already started"
        case .notInvited(let user, let battle): return "'\(user)' was not invited to battle '\(battle)'"
        case .alreadyResponded(let user, let battle): return "'\(user)' already answered battle '\(battle)'"
        case .notInBattle(let user, let battle): return "'\(user)' is not in battle '\(battle)'"
        case .invalidScore(let reason): return "invalid score: \(reason)"
        case .invalidBattle(let reason): return "invalid battle request: \(reason)"
        }
    }
}
