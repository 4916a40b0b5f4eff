import ArenaSpec
import ArenaLayout
import ArenaSession

/// What the overlays show at one moment: the mixer builds it from the session and the
/// layout at a frame's time.
public struct OverlayState: Equatable, Sendable {
    public struct Host: Equatable, Sendable {
        public var userId: String
        public var name: String
        public var cell: Rect
        public var micOff: Bool
        /// No picture (camera off, stream not started or lost): the avatar shows.
        public var showsAvatar: Bool

        public init(userId: String, name: String, cell: Rect, micOff: Bool, showsAvatar: Bool) {
            self.userId = userId
            self.name = name
            self.cell = cell
            self.micOff = micOff
            self.showsAvatar = showsAvatar
        }
    }

    public var canvas: Size
    /// Connected hosts in slot order; the first is the mix's owner when connected.
    public var hosts: [Host]
    public var battle: BattleView?

    public init(canvas: Size, hosts: [Host], battle: BattleView?) {
        self.canvas = canvas
        self.hosts = hosts
        self.battle = battle
    }
}

/// A battle as the overlays draw it, at one moment.
public struct BattleView: Equatable, Sendable {
    /// Active participants in joining order.
    public var participants: [String]
    public var scores: [String: Int64]
    public var ranks: [String: Int]
    /// Nanoseconds left while running; 0 once over.
    public var remaining: UInt64
    /// Nanoseconds since the battle started (for the start banner).
    public var sinceStart: UInt64
    /// Nanoseconds since it ended, once over (the result shows for 5 s).
    public var sinceEnd: UInt64?
    /// For the mix's owner, once over.
    public var outcome: BattleOutcome?
    /// Left share of the 1v1 bar, 0...1, already eased through the score animation.
    public var leftShare: Double

    public init(participants: [String], scores: [String: Int64], ranks: [String: Int], remaining: UInt64,
                sinceStart: UInt64, sinceEnd: UInt64?, outcome: BattleOutcome?, leftShare: Double) {
        self.participants = participants
        self.scores = scores
        self.ranks = ranks
        self.remaining = remaining
        self.sinceStart = sinceStart
        self.sinceEnd = sinceEnd
        self.outcome = outcome
        self.leftShare = leftShare
    }

    /// The 1v1 bar's left share for `left` and `right` scores: half and half at 0:0.
    public static func share(left: Int64, right: Int64) -> Double {
        let total = Double(left) + Double(right)
        return total > 0 ? Double(left) / total : 0.5
    }
}

/// One thing drawn on the output. Equal items draw identical images, so images are cached
/// by item; an item holds exactly what its picture depends on.
public enum OverlayItem: Hashable, Sendable {
    case nickname(cell: Rect, name: String, micOff: Bool)
    case connecting(cell: Rect)
    /// The host's avatar image if one was loaded for `userId`, else the default avatar.
    case avatar(cell: Rect, userId: String)
    case ranking(cell: Rect, rank: Int, score: Int64)
    /// The bar across `area`'s top, split at `split` pixels from its left edge.
    case scoreBar(area: Rect, split: Int, left: Int64, right: Int64)
    /// The timer tab centred on `area`, its top at `top`.
    case timer(area: Rect, top: Int, text: String)
    case startBanner
    case result(BattleOutcome)
}

extension OverlayState {
    /// The items to draw, bottom first, following the client SDK's rules of when each shows.
    public func items(theme: OverlayTheme) -> [OverlayItem] {
        var items: [OverlayItem] = []
        let design = DesignUnits(canvas: canvas)
        for host in hosts where host.showsAvatar && theme.avatars {
            items.append(.avatar(cell: host.cell, userId: host.userId))
        }
        if hosts.count > 1 && theme.nicknames {
            items += hosts.map { .nickname(cell: $0.cell, name: $0.name, micOff: $0.micOff) }
        }
        guard let battle else { return items }
        let inBattle = hosts.filter { battle.participants.contains($0.userId) }
        if theme.connectingBadge && battle.sinceEnd == nil {
            items += hosts.filter { !battle.participants.contains($0.userId) }.map { .connecting(cell: $0.cell) }
        }
        guard let area = inBattle.map(\.cell).reduce(nil, { union($0, $1) }) else { return items }
        let oneVersusOne = hosts.count == 2 && inBattle.count == 2
        var barHeight = 0
        if oneVersusOne && theme.scoreBar {
            let (left, right) = (inBattle[0].userId, inBattle[1].userId)
            barHeight = design.height(18)
            items.append(.scoreBar(area: area, split: Int((battle.leftShare * Double(area.width)).rounded()),
                                   left: battle.scores[left] ?? 0, right: battle.scores[right] ?? 0))
        } else if hosts.count >= 3 && theme.ranking {
            for host in inBattle {
                guard let rank = battle.ranks[host.userId] else { continue }
                items.append(.ranking(cell: host.cell, rank: rank, score: battle.scores[host.userId] ?? 0))
            }
        }
        if theme.timer {
            let seconds = Int((battle.remaining + 999_999_999) / 1_000_000_000)
            let text = battle.remaining == 0 ? "PK End" : "\(seconds / 60):" + String(format2: seconds % 60)
            // Under the 1v1 bar; otherwise just above the battle area, clear of the ranks.
            let top = barHeight > 0 ? area.y + barHeight : max(0, area.y - design.height(22))
            items.append(.timer(area: area, top: top, text: text))
        }
        if theme.startBanner && battle.sinceEnd == nil && battle.sinceStart < 1_000_000_000 {
            items.append(.startBanner)
        }
        if theme.result, let outcome = battle.outcome, let sinceEnd = battle.sinceEnd, sinceEnd < Session.resultPeriod {
            items.append(.result(outcome))
        }
        return items
    }

    private func union(_ a: Rect?, _ b: Rect) -> Rect {
        guard let a else { return b }
        let x = min(a.x, b.x), y = min(a.y, b.y)
        return Rect(x: x, y: y, width: max(a.maxX, b.maxX) - x, height: max(a.maxY, b.maxY) - y)
    }
}

extension String {
    /// Two digits, zero-padded.
    fileprivate init(format2 value: Int) {
        self = value < 10 ? "0\(value)" : String(value)
    }
}

/// The SDK's design units on a canvas: a width unit is shortSide/375, a height unit
/// longSide/812, a radius unit the smaller; fonts scale with the width unit.
struct DesignUnits {
    let w: Double
    let h: Double
    var r: Double { min(w, h) }

    init(canvas: Size) {
        let short = Double(min(canvas.width, canvas.height)), long = Double(max(canvas.width, canvas.height))
        w = short / 375
        h = long / 812
    }

    func width(_ units: Double) -> Int { Int((units * w).rounded()) }
    func height(_ units: Double) -> Int { Int((units * h).rounded()) }
}
