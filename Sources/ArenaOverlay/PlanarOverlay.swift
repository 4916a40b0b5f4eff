import ArenaLayout
import CArenaPaint

/// How a frame's RGB maps to Y'CbCr.
public struct YUVMatrix: Equatable, Sendable {
    public let kr: Double
    public let kb: Double
    /// Limited (16-235, 16-240) or full (0-255) range.
    public let limitedRange: Bool

    public static let bt601 = YUVMatrix(kr: 0.299, kb: 0.114, limitedRange: true)
    public static let bt709 = YUVMatrix(kr: 0.2126, kb: 0.0722, limitedRange: true)

    public init(kr: Double, kb: Double, limitedRange: Bool) {
        self.kr = kr
        self.kb = kb
        self.limitedRange = limitedRange
    }
}

/// One I420 (4:2:0 planar) frame's planes, writable, for the duration of a call.
public struct I420Planes {
    public let width: Int
    public let height: Int
    public let y: UnsafeMutablePointer<UInt8>
    public let u: UnsafeMutablePointer<UInt8>
    public let v: UnsafeMutablePointer<UInt8>
    public let yStride: Int
    public let uStride: Int
    public let vStride: Int

    public init(width: Int, height: Int, y: UnsafeMutablePointer<UInt8>, u: UnsafeMutablePointer<UInt8>, v: UnsafeMutablePointer<UInt8>,
                yStride: Int, uStride: Int, vStride: Int) {
        self.width = width
        self.height = height
        self.y = y
        self.u = u
        self.v = v
        self.yStride = yStride
        self.uStride = uStride
        self.vStride = vStride
    }
}

/// An overlay image converted once to premultiplied Y, U, V and alpha planes on the 4:2:0
/// grid, so that blending it into a frame touches only its own pixels, with no per-frame
/// colour conversion. Its box is widened to even coordinates; chroma alpha is the mean of
/// each 2 x 2 block's.
public struct PlanarOverlay: Sendable {
    let x: Int
    let y: Int
    let width: Int
    let height: Int
    let luma: [UInt8]
    let lumaAlpha: [UInt8]
    let cb: [UInt8]
    let cr: [UInt8]
    let chromaAlpha: [UInt8]
    /// Where it goes on the frame.
    public var bounds: Rect { Rect(x: x, y: y, width: width, height: height) }
    /// Per luma row, then per chroma row: 0 all clear (skipped), 255 all opaque (copied), else blended.
    let lumaRows: [UInt8]
    let chromaRows: [UInt8]

    public init(_ image: OverlayImage, matrix: YUVMatrix) {
        x = image.x & ~1
        y = image.y & ~1
        width = (image.x + image.width + 1) & ~1 - x
        height = (image.y + image.height + 1) & ~1 - y
        // Fixed point, 16 fractional bits: Y' = offset * a + Σ k·C', Cb/Cr = 128 * a + Σ k·C'
        // (premultiplied, so a fully clear pixel contributes nothing).
        let (yScale, yOffset, cScale) = matrix.limitedRange ? (219.0 / 255, 16, 224.0 / 255) : (1.0, 0, 1.0)
        let kg = 1 - matrix.kr - matrix.kb
        func fixed(_ value: Double) -> Int { Int((value * 65_536).rounded()) }
        let yR = fixed(yScale * matrix.kr), yG = fixed(yScale * kg), yB = fixed(yScale * matrix.kb)
        let cbR = fixed(-cScale * matrix.kr / (2 * (1 - matrix.kb))), cbG = fixed(-cScale * kg / (2 * (1 - matrix.kb)))
        let cbB = fixed(cScale / 2)
        let crR = fixed(cScale / 2), crG = fixed(-cScale * kg / (2 * (1 - matrix.kr)))
        let crB = fixed(-cScale * matrix.kb / (2 * (1 - matrix.kr)))
        let (boxWidth, boxHeight) = (width, height)
        let (shiftX, shiftY) = (image.x - x, image.y - y)
        var luma = [UInt8](repeating: 0, count: boxWidth * boxHeight), lumaAlpha = luma
        var cbSum = [Int32](repeating: 0, count: boxWidth * boxHeight / 4), crSum = cbSum, alphaSum = cbSum
        let k: [Int32] = [yOffset, yR, yG, yB, cbR, cbG, cbB, crR, crG, crB].map { Int32($0) }
        // In C: this runs for every pixel of every new image (a moving bar: each frame).
        image.pixels.withUnsafeBufferPointer { pixels in
            arena_overlay_convert(pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(shiftX), Int32(shiftY), Int32(boxWidth),
                                  k, &luma, &lumaAlpha, &cbSum, &crSum, &alphaSum)
        }
        self.luma = luma
        self.lumaAlpha = lumaAlpha
        cb = cbSum.map { UInt8(max(0, min(255, ($0 / 4 + 32_768) >> 16))) }
        cr = crSum.map { UInt8(max(0, min(255, ($0 / 4 + 32_768) >> 16))) }
        chromaAlpha = alphaSum.map { UInt8(($0 + 2) / 4) }
        lumaRows = Self.rowKinds(lumaAlpha, width: boxWidth)
        chromaRows = Self.rowKinds(chromaAlpha, width: boxWidth / 2)
    }

    /// Each row of `alpha` (`width` wide): 0 if every pixel is clear, 255 if every one is opaque, else 1.
    private static func rowKinds(_ alpha: [UInt8], width: Int) -> [UInt8] {
        guard width > 0 else { return [] }
        return stride(from: 0, to: alpha.count, by: width).map { start in
            let row = alpha[start..<start + width]
            if row.allSatisfy({ $0 == 0 }) { return 0 }
            return row.allSatisfy { $0 == 255 } ? 255 : 1
        }
    }

    /// Copies into `frame` row by row, clipped to the frame, as if every pixel were opaque (for
    /// a whole-canvas picture: one copy per row instead of a blend per pixel).
    public func copyOpaque(into frame: I420Planes) {
        let columns = max(0, min(width, frame.width - x)), rows = max(0, min(height, frame.height - y))
        guard columns > 0, rows > 0 else { return }
        for (plane, destination, stride, shift) in [(luma, frame.y, frame.yStride, 0), (cb, frame.u, frame.uStride, 1), (cr, frame.v, frame.vStride, 1)] {
            plane.withUnsafeBufferPointer { source in
                for row in 0..<(rows >> shift) {
                    (destination + ((y >> shift) + row) * stride + (x >> shift))
                        .update(from: source.baseAddress! + row * (width >> shift), count: columns >> shift)
                }
            }
        }
    }

    /// Blends into `frame` (premultiplied "over"), clipped to the frame and left out where one
    /// of `hidden` (even-edged rectangles above it: the cells of hosts stacked higher) covers it.
    public func blend(into frame: I420Planes, hidden: [Rect] = []) {
        let columns = max(0, min(width, frame.width - x)), rows = max(0, min(height, frame.height - y))
        guard columns > 0, rows > 0 else { return }
        let whole = [0..<columns]
        luma.withUnsafeBufferPointer { luma in
            lumaAlpha.withUnsafeBufferPointer { alpha in
                for row in 0..<rows {
                    for span in hidden.isEmpty ? whole : visible(row: y + row, columns: columns, hidden: hidden) {
                        Self.blendRow(into: frame.y + (y + row) * frame.yStride + x + span.lowerBound,
                                      source: luma.baseAddress! + row * width + span.lowerBound,
                                      alpha: alpha.baseAddress! + row * width + span.lowerBound, count: span.count, kind: lumaRows[row])
                    }
                }
            }
        }
        cb.withUnsafeBufferPointer { cb in
            cr.withUnsafeBufferPointer { cr in
                chromaAlpha.withUnsafeBufferPointer { alpha in
                    for row in 0..<rows / 2 {
                        for span in hidden.isEmpty ? whole : visible(row: y + 2 * row, columns: columns, hidden: hidden) {
                            let (start, count) = (span.lowerBound / 2, span.count / 2)
                            let offset = row * width / 2 + start
                            Self.blendRow(into: frame.u + (y / 2 + row) * frame.uStride + x / 2 + start, source: cb.baseAddress! + offset,
                                          alpha: alpha.baseAddress! + offset, count: count, kind: chromaRows[row])
                            Self.blendRow(into: frame.v + (y / 2 + row) * frame.vStride + x / 2 + start, source: cr.baseAddress! + offset,
                                          alpha: alpha.baseAddress! + offset, count: count, kind: chromaRows[row])
                        }
                    }
                }
            }
        }
    }

    /// The column spans (from the overlay's left edge, within `columns`) of frame row `row`
    /// that no rectangle of `hidden` covers.
    private func visible(row: Int, columns: Int, hidden: [Rect]) -> [Range<Int>] {
        var spans = [0..<columns]
        for rect in hidden where rect.y <= row && row < rect.maxY {
            let cut = (rect.x - x)..<(rect.maxX - x)
            spans = spans.flatMap { span -> [Range<Int>] in
                guard cut.overlaps(span) else { return [span] }
                return [span.lowerBound..<max(span.lowerBound, cut.lowerBound), min(span.upperBound, cut.upperBound)..<span.upperBound]
                    .filter { !$0.isEmpty }
            }
        }
        return spans
    }

    /// `destination = source + destination * (255 - alpha) / 255` (in C, vectorised); a row of
    /// `kind` 0 (all clear) is skipped, one of 255 (all opaque) copied.
    @inline(__always)
    private static func blendRow(into destination: UnsafeMutablePointer<UInt8>, source: UnsafePointer<UInt8>,
                                 alpha: UnsafePointer<UInt8>, count: Int, kind: UInt8) {
        if kind == 0 { return }
        if kind == 255 {
            destination.update(from: source, count: count)
            return
        }
        arena_blend_row(destination, source, alpha, Int32(count))
    }
}
