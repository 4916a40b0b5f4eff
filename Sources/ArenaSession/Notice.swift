/// An outbound event: what changed, named after the client SDK's listener callbacks
/// (`onCoHostUserJoined`, `onBattleStarted` ...), with only the fields that callback has.
public struct Notice: Equatable, Sendable, Encodable {
    /// Nanoseconds on the mix's clock.
    public var at: UInt64
    public var event: String
    public var userId: String?
    public var inviter: String?
    public var invitee: String?
    public var invitees: [String]?
    public var extensionInfo: String?
    public var battleId: String?
    /// Battle start and end, nanoseconds on the mix's clock.
    public var startTime: UInt64?
    public var endTime: UInt64?
    public var duration: UInt64?
    public var reason: String?
    public var scores: [String: Int64]?

    public init(at: UInt64, event: String, userId: String? = nil, inviter: String? = nil, invitee: String? = nil,
                invitees: [String]? = nil, extensionInfo: String? = nil, battleId: String? = nil,
                startTime: UInt64? = nil, endTime: UInt64? = nil, duration: UInt64? = nil, reason: String? = nil,
                scores: [String: Int64]? = nil) {
        self.at = at
        self.event = event
        self.userId = userId
        self.inviter = inviter
        self.invitee = invitee
        self.invitees = invitees
        self.extensionInfo = extensionInfo
        self.battleId = battleId
        self.startTime = startTime
        self.endTime = endTime
        self.duration = duration
        self.reason = reason
        self.scores = scores
    }

    private enum CodingKeys: String, CodingKey {
        case at, event, userId, inviter, invitee, invitees, extensionInfo, battleId, startTime, endTime, duration, reason, scores
    }

    /// Times are written in seconds.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Double(at) / 1e9, forKey: .at)
        try container.encode(event, forKey: .event)
        try container.encodeIfPresent(userId, forKey: .userId)
        try container.encodeIfPresent(inviter, forKey: .inviter)
        try container.encodeIfPresent(invitee, forKey: .invitee)
        try container.encodeIfPresent(invitees, forKey: .invitees)
        try container.encodeIfPresent(extensionInfo, forKey: .extensionInfo)
        try container.encodeIfPresent(battleId, forKey: .battleId)
        try container.encodeIfPresent(startTime.map { Double($0) / 1e9 }, forKey: .startTime)
        try container.encodeIfPresent(endTime.map { Double($0) / 1e9 }, forKey: .endTime)
        try container.encodeIfPresent(duration.map { Double($0) / 1e9 }, forKey: .duration)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encodeIfPresent(scores, forKey: .scores)
    }
}
