import ArenaLayout
import ArenaOverlay
import ArenaSession
import ArenaSpec

/// A small canvas keeps golden images small; the design units scale with it.
let canvas = Size(width: 360, height: 640)
let second: UInt64 = 1_000_000_000

/// Host cells of the dynamic grid on 360 x 640 (half the 720 x 1280 numbers).
let twoCells = [Rect(x: 0, y: 138, width: 180, height: 322), Rect(x: 180, y: 138, width: 180, height: 322)]
let threeCells = [Rect(x: 0, y: 138, width: 240, height: 240), Rect(x: 240, y: 138, width: 120, height: 120),
                  Rect(x: 240, y: 258, width: 120, height: 120)]

func host(_ user: String, _ cell: Rect, name: String? = nil, micOff: Bool = false, avatar: Bool = false) -> OverlayState.Host {
    OverlayState.Host(userId: user, name: name ?? user.capitalized, cell: cell, micOff: micOff, showsAvatar: avatar)
}

func battle(_ participants: [String], scores: [String: Int64], remaining: UInt64 = 299 * second, sinceStart: UInt64 = 2 * second,
            sinceEnd: UInt64? = nil, outcome: BattleOutcome? = nil) -> BattleView {
    var ordered = participants.map { ($0, scores[$0] ?? 0) }.sorted { $0.1 > $1.1 }
    var ranks: [String: Int] = [:]
    for (index, (user, score)) in ordered.enumerated() {
        ranks[user] = index > 0 && ordered[index - 1].1 == score ? ranks[ordered[index - 1].0]! : index + 1
    }
    ordered.removeAll()
    let left = scores[participants[0]] ?? 0, right = participants.count > 1 ? scores[participants[1]] ?? 0 : 0
    return BattleView(participants: participants, scores: scores, ranks: ranks, remaining: remaining, sinceStart: sinceStart,
                      sinceEnd: sinceEnd, outcome: outcome, leftShare: BattleView.share(left: left, right: right))
}

/// The bundled default skin (today's look), as a mix with no `overlays` settings draws it.
let defaultSkin = try! SkinLibrary.resolve(OverlayTheme())

/// The whole scene of `state` on a mid-grey canvas, as one image.
func scene(_ state: OverlayState, renderer: OverlayRenderer? = nil) -> OverlayImage {
    let renderer = renderer ?? OverlayRenderer(canvas: state.canvas, skin: defaultSkin)
    let images = state.items(skin: renderer.skin).map(renderer.image)
    return OverlayImage.composite(images, size: state.canvas, background: ARGB(0xFF80_8080))
}

/// 8-bit channels of a premultiplied pixel drawn over opaque grey (so alpha is 255).
func channels(_ pixel: UInt32) -> (red: Int, green: Int, blue: Int) {
    (Int(pixel >> 16 & 0xFF), Int(pixel >> 8 & 0xFF), Int(pixel & 0xFF))
}
