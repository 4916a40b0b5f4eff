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

    public init(_ image: OverlayImage, matrix: YUVMatrix) {
        x = image.x & ~1
        y = image.y & ~1
        width = (image.x + image.width + 1) & ~1 - x
        height = (image.y + image.height + 1) & ~1 - y
        let (yScale, yOffset, cScale) = matrix.limitedRange ? (219.0 / 255, 16.0, 224.0 / 255) : (1.0, 0.0, 1.0)
        let kg = 1 - matrix.kr - matrix.kb
        var luma = [UInt8](repeating: 0, count: width * height), lumaAlpha = luma
        var cbSum = [Double](repeating: 0, count: width * height / 4), crSum = cbSum, alphaSum = cbSum
        for row in 0..<height {
            for column in 0..<width {
                let sourceX = x + column - image.x, sourceY = y + row - image.y
                guard sourceX >= 0, sourceY >= 0, sourceX < image.width, sourceY < image.height else { continue }
                let pixel = image.pixel(x: sourceX, y: sourceY)
                let a = Double(pixel >> 24), r = Double(pixel >> 16 & 0xFF), g = Double(pixel >> 8 & 0xFF), b = Double(pixel & 0xFF)
                let luminance = matrix.kr * r + kg * g + matrix.kb * b            // premultiplied, 0...a
                luma[row * width + column] = UInt8(min(255, (yOffset * a / 255 + yScale * luminance).rounded()))
                lumaAlpha[row * width + column] = UInt8(a)
                let block = (row / 2) * (width / 2) + column / 2
                cbSum[block] += 128 * a / 255 + cScale * (b - luminance) / (2 * (1 - matrix.kb))
                crSum[block] += 128 * a / 255 + cScale * (r - luminance) / (2 * (1 - matrix.kr))
                alphaSum[block] += a
            }
        }
        self.luma = luma
        self.lumaAlpha = lumaAlpha
        cb = cbSum.map { UInt8(max(0, min(255, ($0 / 4).rounded()))) }
        cr = crSum.map { UInt8(max(0, min(255, ($0 / 4).rounded()))) }
        chromaAlpha = alphaSum.map { UInt8(($0 / 4).rounded()) }
    }

    /// Blends into `frame` (premultiplied "over"), clipped to the frame.
    public func blend(into frame: I420Planes) {
        let columns = max(0, min(width, frame.width - x)), rows = max(0, min(height, frame.height - y))
        guard columns > 0, rows > 0 else { return }
        luma.withUnsafeBufferPointer { luma in
            lumaAlpha.withUnsafeBufferPointer { alpha in
                for row in 0..<rows {
                    Self.blendRow(into: frame.y + (y + row) * frame.yStride + x, source: luma.baseAddress! + row * width,
                                  alpha: alpha.baseAddress! + row * width, count: columns)
                }
            }
        }
        cb.withUnsafeBufferPointer { cb in
            cr.withUnsafeBufferPointer { cr in
                chromaAlpha.withUnsafeBufferPointer { alpha in
                    for row in 0..<rows / 2 {
                        let offset = row * width / 2
                        Self.blendRow(into: frame.u + (y / 2 + row) * frame.uStride + x / 2, source: cb.baseAddress! + offset,
                                      alpha: alpha.baseAddress! + offset, count: columns / 2)
                        Self.blendRow(into: frame.v + (y / 2 + row) * frame.vStride + x / 2, source: cr.baseAddress! + offset,
                                      alpha: alpha.baseAddress! + offset, count: columns / 2)
                    }
                }
            }
        }
    }

    /// `destination = source + destination * (255 - alpha) / 255`, skipping clear pixels.
    @inline(__always)
    private static func blendRow(into destination: UnsafeMutablePointer<UInt8>, source: UnsafePointer<UInt8>,
                                 alpha: UnsafePointer<UInt8>, count: Int) {
        for index in 0..<count {
            let a = UInt32(alpha[index])
            if a == 0 { continue }
            let kept = (UInt32(destination[index]) * (255 - a) * 257 + 32_768) >> 16
            destination[index] = UInt8(min(255, kept + UInt32(source[index])))
        }
    }
}
