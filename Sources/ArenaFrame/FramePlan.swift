import ArenaLayout
import ArenaOverlay
import ArenaSession
import ArenaSpec
import Foundation

/// Everything one output frame shows, decided once: each host's cell and z-order, whether
/// its video or its placeholder shows, and what every overlay shows. The compositing graph
/// applies it and the overlay stage draws it; neither decides anything of its own.
public struct FramePlan: Equatable, Sendable {
    /// A placed host's cell.
    public struct Cell: Equatable, Sendable {
        public var userId: String
        public var rect: Rect
        public var zOrder: Int
        /// The video shows: the camera is on and (in a live mix) the newest frame is not stale.
        /// Under it the placeholder always fills the cell, so a cell without a frame shows it.
        public var showsVideo: Bool
        public var fit: LayoutTemplate.Fit = .cover
        /// A seat without video (a voice room): nothing is painted in it but the skin.
        public var audioOnly = false
        /// Below 1 while a new cell fades in.
        public var opacity = 1.0
    }

    /// Output time, nanoseconds.
    public let time: UInt64
    /// The placed hosts, in slot order; a host of the mix not listed is not on screen.
    public let cells: [Cell]
    public let overlay: OverlayState

    public func cell(of userId: String) -> Cell? {
        cells.first { $0.userId == userId }
    }
}

/// What the pipeline knows of one host's input at a frame: what the plan is made from.
public struct InputFreshness: Equatable, Sendable {
    /// The compositor has a frame of this input for the output frame.
    public var hasFrame: Bool
    /// Time of the newest frame that came in, if any.
    public var latestFrame: UInt64?

    public init(hasFrame: Bool, latestFrame: UInt64?) {
        self.hasFrame = hasFrame
        self.latestFrame = latestFrame
    }
}

/// Makes frame plans from the session, the layout and input freshness (pure).
public struct FramePlanner: Sendable {
    /// How long the 1v1 bar takes to move to a new split (the SDK animates 0.5 s).
    public static let barAnimation: UInt64 = 500_000_000
    /// How long cells take to glide to a new layout, and a new cell to fade in.
    public static let layoutTransition: UInt64 = 300_000_000

    public let canvas: Size
    /// A live mix's stale limit: a host whose newest frame is older shows the placeholder.
    /// Nil for a render, whose inputs are never late.
    public let staleAfter: UInt64?
    /// One output frame: a transition's first frame is already one step in.
    public let frameDuration: UInt64

    public init(canvas: Size, staleAfter: UInt64?, frameDuration: UInt64 = 33_333_333) {
        self.canvas = canvas
        self.staleAfter = staleAfter
        self.frameDuration = frameDuration
    }

    /// The plan of the frame at `time`. `names` are the shown names by user id; `freshness`
    /// has an entry per host whose input is in the mix (nil: nothing known, no picture);
    /// `scoreChanges` gives a battle's latest score change at or before `time` and the one
    /// before it (for the bar's animation).
    /// `previous` is the layout before `layout` and when `layout` took over: for
    /// ``layoutTransition`` after that, cells glide from their old rectangles (eased) and new
    /// cells fade in. `speaking` tells whose voice is heard now.
    public func plan(at time: UInt64, layout: FrameLayout, previous: (layout: FrameLayout, changedAt: UInt64)? = nil,
                     session: Session, names: [String: String], freshness: [String: InputFreshness],
                     speaking: Set<String> = [], decorations: Decorations = Decorations(),
                     scoreChanges: (String) -> (latest: Notice?, previous: Notice?)) -> FramePlan {
        var cells: [FramePlan.Cell] = []
        var hosts: [OverlayState.Host] = []
        let progress = previous.map { Self.eased(Double(time.saturatingSubtract($0.changedAt) + frameDuration) / Double(Self.layoutTransition)) } ?? 1
        for placement in layout.placements.sorted(by: { $0.slot < $1.slot }) {
            let user = placement.userId
            let input = freshness[user]
            let stale = staleAfter.map { limit in time.saturatingSubtract(input?.latestFrame ?? 0) > limit } ?? false
            let cameraOff = layout.cameraOff.contains(user) || layout.audioOnly
            let hasPicture = input?.hasFrame == true && !stale
            var rect = placement.rect, opacity = 1.0
            if progress < 1, let before = previous?.layout.placement(of: user) {
                rect = Self.between(before.rect, placement.rect, progress)
            } else if progress < 1 {
                opacity = progress
            }
            cells.append(FramePlan.Cell(userId: user, rect: rect, zOrder: placement.zOrder, showsVideo: !cameraOff && !stale,
                                        fit: placement.fit, audioOnly: layout.audioOnly, opacity: opacity))
            hosts.append(OverlayState.Host(userId: user, name: names[user] ?? user, cell: rect, micOff: layout.micOff.contains(user),
                                           showsAvatar: cameraOff || !hasPicture,
                                           speaking: speaking.contains(user) && !layout.micOff.contains(user), zOrder: placement.zOrder))
        }
        let overlay = OverlayState(canvas: canvas, hosts: hosts, battle: battleView(session, at: time, scoreChanges: scoreChanges),
                                   voiceRoom: layout.audioOnly, decorations: decorations)
        return FramePlan(time: time, cells: cells, overlay: overlay)
    }

    /// Ease-out cubic of `progress` (0...1, clamped).
    static func eased(_ progress: Double) -> Double {
        let clamped = max(0, min(1, progress))
        return 1 - pow(1 - clamped, 3)
    }

    /// The rectangle `progress` of the way from `from` to `to`, edges on even pixels (4:2:0).
    static func between(_ from: Rect, _ to: Rect, _ progress: Double) -> Rect {
        func even(_ a: Int, _ b: Int) -> Int { Int(((Double(a) + Double(b - a) * progress) / 2).rounded()) * 2 }
        let x = even(from.x, to.x), y = even(from.y, to.y)
        return Rect(x: x, y: y, width: even(from.maxX, to.maxX) - x, height: even(from.maxY, to.maxY) - y)
    }

    /// Hosts not connected, or with their microphone off, are not heard.
    public static func isMuted(_ userId: String, in layout: FrameLayout) -> Bool {
        layout.placement(of: userId) == nil || layout.micOff.contains(userId)
    }

    private func battleView(_ session: Session, at time: UInt64,
                            scoreChanges: (String) -> (latest: Notice?, previous: Notice?)) -> BattleView? {
        guard let battle = session.battle, let start = battle.startTime else { return nil }
        var sinceEnd: UInt64?
        if case .ended(_, let end, _) = battle.phase { sinceEnd = time.saturatingSubtract(end) }
        let active = battle.active
        let left = active.contains(session.owner) ? session.owner : active.first ?? ""
        let right = active.first { $0 != left } ?? ""
        return BattleView(participants: active, scores: battle.allScores, ranks: battle.ranks,
                          remaining: session.remainingBattleTime(at: time) ?? 0, sinceStart: time.saturatingSubtract(start),
                          sinceEnd: sinceEnd, outcome: sinceEnd == nil ? nil : battle.outcome(for: session.owner),
                          leftShare: leftShare(scoreChanges(battle.id), left: left, right: right, at: time))
    }

    /// The bar's left share at `time`, easing from the previous scores to the latest.
    private func leftShare(_ changes: (latest: Notice?, previous: Notice?), left: String, right: String, at time: UInt64) -> Double {
        guard let latest = changes.latest else { return 0.5 }
        func share(_ notice: Notice?) -> Double {
            BattleView.share(left: notice?.scores?[left] ?? 0, right: notice?.scores?[right] ?? 0)
        }
        let before = share(changes.previous)
        let progress = min(1, Double(time.saturatingSubtract(latest.at)) / Double(Self.barAnimation))
        let eased = 1 - pow(1 - progress, 3)
        return before + (share(latest) - before) * eased
    }
}

extension UInt64 {
    /// `self - other`, or 0 where that would be negative.
    public func saturatingSubtract(_ other: UInt64) -> UInt64 { self > other ? self - other : 0 }
}
