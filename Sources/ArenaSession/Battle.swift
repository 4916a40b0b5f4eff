/// One battle, from its request to the end of its result period.
public struct Battle: Equatable, Sendable {
    /// The highest score a participant can have: 2^31 - 1, as the PK score API's clients store it.
    public static let maxScore: Int64 = 2_147_483_647

    public enum Phase: Equatable, Sendable {
        /// Invitations are out; nobody has accepted yet.
        case requested
        case running(startTime: UInt64)
        /// Over; shown as a result until `endTime + resultPeriod`.
        case ended(startTime: UInt64?, endTime: UInt64, reason: BattleEndReason)
    }

    public enum Answer: Equatable, Sendable { case accepted, rejected }

    public let id: String
    public let inviter: String
    public let invitees: [String]
    public let config: BattleConfig
    public let requestedAt: UInt64
    /// When unanswered invitations time out.
    public let answerDeadline: UInt64
    public internal(set) var answers: [String: Answer] = [:]
    public internal(set) var phase: Phase = .requested
    /// Everyone who took part, in order of joining (the inviter first).
    public internal(set) var participants: [String] = []
    public internal(set) var exited: Set<String> = []
    public internal(set) var scores: [String: Int64] = [:]

    /// Participants still in the battle, in order of joining.
    public var active: [String] { participants.filter { !exited.contains($0) } }

    public var isEnded: Bool {
        if case .ended = phase { return true }
        return false
    }

    public var isRunning: Bool {
        if case .running = phase { return true }
        return false
    }

    public var startTime: UInt64? {
        switch phase {
        case .requested: return nil
        case .running(let start): return start
        case .ended(let start, _, _): return start
        }
    }

    /// When a running battle's time is up: its start plus its duration.
    public var scheduledEnd: UInt64? {
        if case .running(let start) = phase { return start + config.duration }
        return nil
    }

    /// Ranks of the active participants: by score, highest first; equal scores share a
    /// rank and the next rank skips (1, 1, 3).
    public var ranks: [String: Int] {
        let ordered = active.map { ($0, scores[$0] ?? 0) }.sorted { $0.1 > $1.1 }
        var ranks: [String: Int] = [:]
        for (position, (user, score)) in ordered.enumerated() {
            if position > 0, ordered[position - 1].1 == score {
                ranks[user] = ranks[ordered[position - 1].0]
            } else {
                ranks[user] = position + 1
            }
        }
        return ranks
    }

    /// Scores of everyone who took part (exited participants keep theirs).
    public var allScores: [String: Int64] {
        Dictionary(uniqueKeysWithValues: participants.map { ($0, scores[$0] ?? 0) })
    }
}

/// How a battle came out for the mix's owner.
public enum BattleOutcome: String, Equatable, Sendable {
    case win, lose, draw
}

extension Battle {
    /// Draw when the first and the last ranked share a rank; otherwise win if `owner`
    /// ranks first, else lose. Nil when the owner is not among the active participants
    /// or the battle never started.
    public func outcome(for owner: String) -> BattleOutcome? {
        guard startTime != nil else { return nil }
        let ranks = self.ranks
        guard let ownerRank = ranks[owner], let best = ranks.values.min(), let worst = ranks.values.max() else { return nil }
        if best == worst { return .draw }
        return ownerRank == 1 ? .win : .lose
    }
}
