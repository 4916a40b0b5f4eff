import ArenaLayout
import ArenaOverlay
import ArenaSession
import Foundation
import GStreamerKit

/// Blends the overlays into each output frame, on the compositor's streaming thread: it
/// builds what the overlays show at the frame's time from the plan, draws and converts
/// only items that changed, and blends just their rectangles into the I420 frame.
final class OverlayFeed {
    /// How long the 1v1 bar takes to move to a new split (the SDK animates 0.5 s).
    static let barAnimation: UInt64 = 500_000_000

    private let plan: MixPlan
    private let state: MixState
    private let renderer: OverlayRenderer
    /// Shown names by user id (the compositor's thread reads them; `addName` writes under `lock`).
    private var names: [String: String]
    private var planar: [OverlayItem: PlanarOverlay] = [:]
    private var planarMatrix: YUVMatrix?
    /// Hosts whose video had no frame in the latest composited frame (set by the compositor's
    /// thread just before this frame reaches the overlay element).
    private let lock = NSLock()
    private var withoutPicture: Set<String> = []

    init(plan: MixPlan, state: MixState) {
        self.plan = plan
        self.state = state
        renderer = OverlayRenderer(canvas: plan.canvas.size, theme: plan.spec.overlays, avatars: plan.avatars)
        names = Dictionary(uniqueKeysWithValues: plan.spec.hosts.map { ($0.userId, $0.userName) })
    }

    /// Names a host added to the running mix.
    func addName(_ name: String, of userId: String) {
        lock.lock()
        names[userId] = name
        lock.unlock()
    }

    /// Records which hosts' videos had no frame for the frame being composited.
    func setWithoutPicture(_ users: Set<String>) {
        lock.lock()
        withoutPicture = users
        lock.unlock()
    }

    /// Blends the overlays for the frame at `pts` into `frame` (I420).
    func blend(into frame: WritableVideoFrame, at pts: UInt64) {
        let matrix = YUVMatrix(kr: frame.isBT709 ? 0.2126 : 0.299, kb: frame.isBT709 ? 0.0722 : 0.114, limitedRange: !frame.isFullRange)
        if matrix != planarMatrix {
            planar.removeAll()
            planarMatrix = matrix
        }
        let planes = I420Planes(width: frame.width, height: frame.height, y: frame.planes[0], u: frame.planes[1], v: frame.planes[2],
                                yStride: frame.strides[0], uStride: frame.strides[1], vStride: frame.strides[2])
        let items = state(at: pts).items(theme: renderer.theme)
        for item in items {
            if planar[item] == nil {
                planar[item] = PlanarOverlay(renderer.image(item), matrix: matrix)
                drawnImages += 1
            }
            planar[item]!.blend(into: planes)
        }
        // Timers, scores and every step of the bar's animation are new items that never come
        // back; keep the images this frame uses and drop the rest once they pile up.
        if planar.count > 2 * items.count + 16 {
            let current = Set(items)
            planar = planar.filter { current.contains($0.key) }
        }
    }

    /// How many overlay images are kept for reuse, and how many were drawn so far.
    var cachedImages: Int { planar.count }
    private(set) var drawnImages = 0

    /// What the overlays show at `time`.
    func state(at time: UInt64) -> OverlayState {
        let session = state.session(at: time)
        let layout = state.layout(at: time)
        lock.lock()
        let missing = withoutPicture
        let names = self.names
        lock.unlock()
        let hosts = layout.placements.sorted { $0.slot < $1.slot }.map { placement in
            OverlayState.Host(userId: placement.userId, name: names[placement.userId] ?? placement.userId, cell: placement.rect,
                              micOff: layout.micOff.contains(placement.userId),
                              showsAvatar: layout.cameraOff.contains(placement.userId) || missing.contains(placement.userId))
        }
        return OverlayState(canvas: plan.canvas.size, hosts: hosts, battle: battleView(session, at: time))
    }

    private func battleView(_ session: Session, at time: UInt64) -> BattleView? {
        guard let battle = session.battle, let start = battle.startTime else { return nil }
        var sinceEnd: UInt64?
        if case .ended(_, let end, _) = battle.phase { sinceEnd = time - min(time, end) }
        let active = battle.active
        let left = active.contains(session.owner) ? session.owner : active.first ?? ""
        let right = active.first { $0 != left } ?? ""
        return BattleView(participants: active, scores: battle.allScores, ranks: battle.ranks,
                          remaining: session.remainingBattleTime(at: time) ?? 0, sinceStart: time - min(time, start),
                          sinceEnd: sinceEnd, outcome: sinceEnd == nil ? nil : battle.outcome(for: session.owner),
                          leftShare: leftShare(battle: battle.id, left: left, right: right, at: time))
    }

    /// The bar's left share at `time`, easing from the previous scores to the latest.
    private func leftShare(battle: String, left: String, right: String, at time: UInt64) -> Double {
        let changes = state.scoreChanges(of: battle, at: time)
        guard let latest = changes.latest else { return 0.5 }
        func share(_ notice: Notice?) -> Double {
            BattleView.share(left: notice?.scores?[left] ?? 0, right: notice?.scores?[right] ?? 0)
        }
        let before = share(changes.previous)
        let progress = min(1, Double(time - min(time, latest.at)) / Double(Self.barAnimation))
        let eased = 1 - pow(1 - progress, 3)
        return before + (share(latest) - before) * eased
    }
}
