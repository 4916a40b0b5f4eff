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
        /// The host's voice is heard now.
        public var speaking: Bool
        /// The cell's stacking order: the overlays of a cell are hidden where a higher cell covers them.
        public var zOrder: Int

        public init(userId: String, name: String, cell: Rect, micOff: Bool, showsAvatar: Bool, speaking: Bool = false, zOrder: Int = 0) {
            self.userId = userId
            self.name = name
            self.cell = cell
            self.micOff = micOff
            self.showsAvatar = showsAvatar
            self.speaking = speaking
            self.zOrder = zOrder
        }
    }

    public var canvas: Size
    /// Connected hosts in slot order; the first is the mix's owner when connected.
    public var hosts: [Host]
    public var battle: BattleView?
    /// The cells are seats of a voice room (no video).
    public var voiceRoom: Bool
    /// The cells stacked above `userId`'s (where its overlays are hidden).
    public func cells(above userId: String) -> [Rect] {
        guard let own = hosts.first(where: { $0.userId == userId }) else { return [] }
        return hosts.filter { $0.zOrder > own.zOrder }.map(\.cell)
    }

    /// Watermarks and captions over everything (and the background picture, painted under the cells).
    public var decorations: Decorations

    public init(canvas: Size, hosts: [Host], battle: BattleView?, voiceRoom: Bool = false, decorations: Decorations = Decorations()) {
        self.canvas = canvas
        self.hosts = hosts
        self.battle = battle
        self.voiceRoom = voiceRoom
        self.decorations = decorations
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
