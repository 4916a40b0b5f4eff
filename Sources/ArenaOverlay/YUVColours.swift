import ArenaLayout

extension YUVMatrix {
    /// BT.709 or (else) BT.601, full or (else) limited range.
    public init(isBT709: Bool, isFullRange: Bool) {
        self.init(kr: isBT709 ? 0.2126 : 0.299, kb: isBT709 ? 0.0722 : 0.114, limitedRange: !isFullRange)
    }

    /// `colour` as Y, Cb, Cr code values under this matrix and range.
    public func yuv(of colour: RGBColour) -> (y: UInt8, u: UInt8, v: UInt8) {
        let (r, g, b) = (Double(colour.red) / 255, Double(colour.green) / 255, Double(colour.blue) / 255)
        let luma = kr * r + (1 - kr - kb) * g + kb * b
        let (u, v) = ((b - luma) / (2 * (1 - kb)), (r - luma) / (2 * (1 - kr)))
        return (code(luma * lumaSpan + lumaOffset), code(u * chromaSpan + 128), code(v * chromaSpan + 128))
    }

    /// The affine map from this matrix's code values to `target`'s, through RGB: as
    /// `[[Y from Y, Y from U, Y from V], [U from U, U from V], [V from U, V from V]]`, each
    /// applied to (Y - lumaOffset, U - 128, V - 128); chroma never depends on luma.
    public func change(to target: YUVMatrix) -> (luma: [Double], u: [Double], v: [Double]) {
        func toTarget(_ y: Double, _ u: Double, _ v: Double) -> (Double, Double, Double) {
            let r = y + 2 * (1 - kr) * v, b = y + 2 * (1 - kb) * u
            let g = (y - kr * r - kb * b) / (1 - kr - kb)
            let luma = target.kr * r + (1 - target.kr - target.kb) * g + target.kb * b
            return (luma, (b - luma) / (2 * (1 - target.kb)), (r - luma) / (2 * (1 - target.kr)))
        }
        let fromY = toTarget(1, 0, 0), fromU = toTarget(0, 1, 0), fromV = toTarget(0, 0, 1)
        let (ly, lc, ty, tc) = (lumaSpan, chromaSpan, target.lumaSpan, target.chromaSpan)
        return ([fromY.0 * ty / ly, fromU.0 * ty / lc, fromV.0 * ty / lc],
                [fromU.1 * tc / lc, fromV.1 * tc / lc],
                [fromU.2 * tc / lc, fromV.2 * tc / lc])
    }

    /// Luma's black level and its span to white; chroma's span, in code values.
    public var lumaOffset: Double { limitedRange ? 16 : 0 }
    var lumaSpan: Double { limitedRange ? 219 : 255 }
    var chromaSpan: Double { limitedRange ? 224 : 255 }

    private func code(_ value: Double) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
}
