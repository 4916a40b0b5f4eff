import ArenaLayout
import ArenaOverlay
import ArenaSpec
import Foundation
import GStreamerKit

/// Blends the overlays into each output frame, on the compositor's streaming thread: it
/// draws and converts only the items of a frame's ``OverlayState`` that are new, keeps the
/// images the current frame shows, and blends just their rectangles into the I420 frame.
final class OverlayFeed {
    private let renderer: OverlayRenderer
    private var planar: [OverlayItem: PlanarOverlay] = [:]
    private var planarMatrix: YUVMatrix?

    init(plan: MixPlan) {
        renderer = OverlayRenderer(canvas: plan.canvas.size, skin: plan.skin, avatars: plan.avatars, images: plan.images)
    }

    /// Blends what `overlay` shows into `frame` (I420).
    func blend(_ overlay: OverlayState, into frame: borrowing WritableVideoFrame) {
        let matrix = YUVMatrix(isBT709: frame.isBT709, isFullRange: frame.isFullRange)
        if matrix != planarMatrix {
            planar.removeAll()
            planarMatrix = matrix
        }
        let items = overlay.items(skin: renderer.skin)
        for item in items where planar[item] == nil {
            planar[item] = PlanarOverlay(renderer.image(item), matrix: matrix)
            drawnImages += 1
        }
        let (width, height) = (frame.width, frame.height)
        frame.withPlanes { data, strides in
            let planes = I420Planes(width: width, height: height, y: data[0], u: data[1], v: data[2],
                                    yStride: strides[0], uStride: strides[1], vStride: strides[2])
            // A host's overlays are hidden where a cell stacked above theirs covers them (most
            // items meet none: they blend whole).
            var above: [String: [Rect]] = [:]
            for item in items {
                let image = planar[item]!
                let covering: [Rect] = item.user.map { user -> [Rect] in
                    let cells = above[user] ?? overlay.cells(above: user)
                    above[user] = cells
                    return cells.filter { $0.intersects(image.bounds) }
                } ?? []
                image.blend(into: planes, hidden: covering)
            }
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
}
