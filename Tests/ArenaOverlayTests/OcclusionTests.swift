import ArenaLayout
import ArenaOverlay
import Testing

/// Cells can overlap (custom layouts, floating tiles): a host's overlays are hidden where a cell
/// stacked above theirs covers them.
@Suite struct OcclusionTests {
    @Test func cellsAboveAHostAreThoseStackedHigher() {
        let low = Rect(x: 40, y: 200, width: 400, height: 400), high = Rect(x: 240, y: 400, width: 400, height: 400)
        let state = OverlayState(canvas: Size(width: 720, height: 1280), hosts: [
            OverlayState.Host(userId: "alice", name: "Alice", cell: low, micOff: false, showsAvatar: false, zOrder: 1),
            OverlayState.Host(userId: "bob", name: "Bob", cell: high, micOff: false, showsAvatar: false, zOrder: 3),
        ], battle: nil)
        #expect(state.cells(above: "alice") == [high])
        #expect(state.cells(above: "bob").isEmpty)
        #expect(state.cells(above: "nobody").isEmpty)
    }

    @Test func anOverlayIsLeftOutWhereAHigherCellCoversIt() {
        let (width, height) = (64, 32)
        var y = [UInt8](repeating: 16, count: width * height), u = [UInt8](repeating: 128, count: width * height / 4), v = u
        let white = OverlayImage(x: 8, y: 4, width: 40, height: 20, pixels: Array(repeating: 0xFFFF_FFFF, count: 800))
        let overlay = PlanarOverlay(white, matrix: .bt709)
        y.withUnsafeMutableBufferPointer { yPlane in
            u.withUnsafeMutableBufferPointer { uPlane in
                v.withUnsafeMutableBufferPointer { vPlane in
                    overlay.blend(into: I420Planes(width: width, height: height, y: yPlane.baseAddress!, u: uPlane.baseAddress!, v: vPlane.baseAddress!,
                                                   yStride: width, uStride: width / 2, vStride: width / 2),
                                  hidden: [Rect(x: 20, y: 10, width: 10, height: 30)])
                }
            }
        }
        #expect(y[6 * width + 10] == 235 && y[6 * width + 25] == 235, "above the higher cell: drawn")
        #expect(y[12 * width + 19] == 235 && y[12 * width + 30] == 235, "beside it: drawn")
        #expect(y[12 * width + 20] == 16 && y[20 * width + 29] == 16, "where it covers the overlay: left as it was")
    }
}
