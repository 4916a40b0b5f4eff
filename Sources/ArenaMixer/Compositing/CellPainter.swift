import ArenaFrame
import ArenaLayout
import ArenaOverlay
import CArenaPaint
import GStreamerKit

/// Paints an output frame's cells straight into it, in z-order: each shown host's staged
/// decoded frame, centre-cropped by pointer offset (or whole, on black, for a `contain` cell)
/// and scaled into its cell's rectangle by libyuv in one pass per plane; the placeholder
/// colour for a placed host without a picture; nothing for a voice room's seats; the canvas
/// colour first when it is not black (the compositor's fill). No scaled copy of an input is
/// ever made; a cell fading in is mixed with a copy of what was under it.
final class CellPainter {
    let background: RGBColour
    /// The mix's images, for a background picture.
    private let images: [String: OverlayImage]
    /// The background picture in the frames' colours, converted once.
    private var picture: (name: String, matrix: YUVMatrix, planes: PlanarOverlay)?
    /// What was under a fading cell, reused from frame to frame.
    private var saved: [UInt8] = []

    init(background: RGBColour, images: [String: OverlayImage]) {
        self.background = background
        self.images = images
    }

    /// One host's cell, and the frame its pad staged for it (nil: none, or the video is not shown).
    struct Layer {
        let cell: FramePlan.Cell
        let frame: HeldVideoFrame?
    }

    /// Paints `layers` over the canvas colour, or over the image named `picture` (cover-fit).
    func paint(_ layers: [Layer], picture name: String?, into frame: borrowing WritableVideoFrame) {
        let matrix = YUVMatrix(isBT709: frame.isBT709, isFullRange: frame.isFullRange)
        let size = Size(width: frame.width, height: frame.height)
        let backdrop = name.flatMap { backgroundPicture($0, matrix: matrix, size: size) }
        frame.withPlanes { planes, strides in
            var canvas = arena_canvas()
            canvas.planes = (planes[0], planes[1], planes[2])
            canvas.strides = (Int32(strides[0]), Int32(strides[1]), Int32(strides[2]))
            canvas.width = Int32(frame.width)
            canvas.height = Int32(frame.height)
            if let backdrop {
                backdrop.copyOpaque(into: I420Planes(width: size.width, height: size.height, y: planes[0], u: planes[1], v: planes[2],
                                                     yStride: strides[0], uStride: strides[1], vStride: strides[2]))
            } else if background != .black {
                fill(&canvas, Rect(x: 0, y: 0, width: frame.width, height: frame.height), background, matrix)
            }
            for layer in layers.sorted(by: { $0.cell.zOrder < $1.cell.zOrder }) where !layer.cell.audioOnly {
                guard layer.cell.opacity < 1 else {
                    paint(layer, into: &canvas, matrix)
                    continue
                }
                // Fading in: painted as usual, then mixed with what was under it.
                let rect = Self.rect(layer.cell.rect)
                let needed = arena_paint_save(&canvas, rect, nil)
                if saved.count < needed { saved = [UInt8](repeating: 0, count: needed) }
                arena_paint_save(&canvas, rect, &saved)
                paint(layer, into: &canvas, matrix)
                arena_paint_fade_over(&canvas, rect, saved, Int32((layer.cell.opacity * 255).rounded()))
            }
        }
    }

    /// The picture `name`, cover-fitted to the canvas, in the frame's colours (nil if it did not load).
    private func backgroundPicture(_ name: String, matrix: YUVMatrix, size: Size) -> PlanarOverlay? {
        if let picture, picture.name == name, picture.matrix == matrix { return picture.planes }
        guard let image = images[name] else { return nil }
        let planes = PlanarOverlay(image.coverFitted(to: size), matrix: matrix)
        picture = (name, matrix, planes)
        return planes
    }

    /// The layer's picture (covering its cell, or whole inside it on black), or its placeholder.
    private func paint(_ layer: Layer, into canvas: inout arena_canvas, _ matrix: YUVMatrix) {
        let cell = layer.cell.rect
        var shown = false
        if let frame = layer.frame {
            switch layer.cell.fit {
            case .cover:
                shown = Self.crop(of: frame, for: cell.size).map { scale(frame, $0, into: &canvas, cell, matrix) } ?? false
            case .contain:
                if let inside = Self.contained(frame, in: cell) {
                    fill(&canvas, cell, .black, matrix)
                    shown = scale(frame, arena_rect(x: 0, y: 0, width: Int32(frame.width), height: Int32(frame.height)), into: &canvas, inside, matrix)
                }
            }
        }
        if !shown { fill(&canvas, cell, .placeholder, matrix) }
    }

    /// Where `source` goes, whole and centred, inside `cell` (pixel aspect ratio honoured, edges even).
    static func contained(_ source: HeldVideoFrame, in cell: Rect) -> Rect? {
        let (parN, parD) = source.pixelAspectRatio
        let displayWidth = parN > 0 ? Double(source.width * parN) / Double(parD) : Double(source.width)
        guard displayWidth > 0, source.height > 0, cell.width > 0, cell.height > 0 else { return nil }
        let scale = min(Double(cell.width) / displayWidth, Double(cell.height) / Double(source.height))
        let width = max(2, Int((displayWidth * scale / 2).rounded()) * 2), height = max(2, Int((Double(source.height) * scale / 2).rounded()) * 2)
        return Rect(x: cell.x + (cell.width - width) / 2 & ~1, y: cell.y + (cell.height - height) / 2 & ~1, width: width, height: height)
    }

    private func fill(_ canvas: inout arena_canvas, _ rect: Rect, _ colour: RGBColour, _ matrix: YUVMatrix) {
        let (y, u, v) = matrix.yuv(of: colour)
        arena_paint_fill(&canvas, Self.rect(rect), y, u, v)
    }

    /// Scales `crop` of `source` into `rect`; false if the frame cannot be read.
    private func scale(_ source: HeldVideoFrame, _ crop: arena_rect, into canvas: inout arena_canvas, _ rect: Rect, _ matrix: YUVMatrix) -> Bool {
        guard let layout = source.layout else { return false }
        let painted = source.withPlanes { planes, strides in
            var readable = arena_source()
            readable.planes = (planes[0], planes[1], planes.count > 2 ? planes[2] : nil)
            readable.strides = (Int32(strides[0]), Int32(strides[1]), strides.count > 2 ? Int32(strides[2]) : 0)
            readable.width = Int32(source.width)
            readable.height = Int32(source.height)
            readable.depth = Int32(source.bitDepth)
            switch layout {
            case .planar(let shiftX, let shiftY):
                readable.chroma_shift_x = Int32(shiftX)
                readable.chroma_shift_y = Int32(shiftY)
            case .semiPlanar(let uFirst):
                readable.uv_interleaved = uFirst ? 1 : 2
            }
            return arena_paint_scaled(&readable, crop, &canvas, Self.rect(rect)) == 0
        }
        guard painted == true else { return false }
        let sourceMatrix = YUVMatrix(isBT709: source.isBT709, isFullRange: source.isFullRange)
        if sourceMatrix != matrix {
            var change = Self.fixedPoint(sourceMatrix.change(to: matrix), from: sourceMatrix, to: matrix)
            arena_paint_change_matrix(&canvas, Self.rect(rect), &change)
        }
        return true
    }

    /// The centre crop of `source` to `cell`'s aspect ratio (pixel aspect ratio honoured), in source pixels.
    static func crop(of source: HeldVideoFrame, for cell: Size) -> arena_rect? {
        let (parN, parD) = source.pixelAspectRatio
        let displayWidth = parN > 0 ? source.width * parN / parD : source.width
        guard displayWidth > 0, source.height > 0 else { return nil }
        let insets = CropInsets.centreCrop(source: Size(width: displayWidth, height: source.height), cell: cell)
        let left = insets.left * source.width / displayWidth
        let width = (displayWidth - insets.left - insets.right) * source.width / displayWidth
        return arena_rect(x: Int32(left), y: Int32(insets.top), width: Int32(width),
                          height: Int32(source.height - insets.top - insets.bottom))
    }

    private static func rect(_ rect: Rect) -> arena_rect {
        arena_rect(x: Int32(clamping: rect.x), y: Int32(clamping: rect.y), width: Int32(clamping: rect.width), height: Int32(clamping: rect.height))
    }

    private static func fixedPoint(_ change: (luma: [Double], u: [Double], v: [Double]), from: YUVMatrix, to: YUVMatrix) -> arena_matrix_change {
        func fixed(_ value: Double) -> Int32 { Int32((value * 65_536).rounded()) }
        return arena_matrix_change(y_gain: fixed(change.luma[0]), y_from_u: fixed(change.luma[1]), y_from_v: fixed(change.luma[2]),
                                   y_in: Int32(from.lumaOffset), y_out: Int32(to.lumaOffset),
                                   uu: fixed(change.u[0]), uv: fixed(change.u[1]), vu: fixed(change.v[0]), vv: fixed(change.v[1]))
    }
}
