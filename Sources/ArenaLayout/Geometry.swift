/// A size in pixels.
public struct Size: Hashable, Sendable, Decodable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public var description: String { "\(width)x\(height)" }
}

/// A rectangle in canvas pixels; origin top-left.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var size: Size { Size(width: width, height: height) }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }

    public var description: String { "(\(x), \(y), \(width), \(height))" }

    /// Whether the two share any pixel.
    public func intersects(_ other: Rect) -> Bool {
        x < other.maxX && other.x < maxX && y < other.maxY && other.y < maxY
    }
}

/// An sRGB colour without alpha, `0xRRGGBB`.
public struct RGBColour: Hashable, Sendable, CustomStringConvertible {
    public let rgb: UInt32

    public init(rgb: UInt32) { self.rgb = rgb & 0xFF_FFFF }

    /// Parses `#RRGGBB`; nil for anything else.
    public init?(hex: String) {
        guard hex.count == 7, hex.first == "#", hex.dropFirst().allSatisfy(\.isHexDigit), let value = UInt32(hex.dropFirst(), radix: 16) else { return nil }
        rgb = value
    }

    public static let black = RGBColour(rgb: 0x000000)
    /// The SDK's avatar placeholder fill.
    public static let placeholder = RGBColour(rgb: 0x1F2024)

    public var red: UInt8 { UInt8(rgb >> 16 & 0xFF) }
    public var green: UInt8 { UInt8(rgb >> 8 & 0xFF) }
    public var blue: UInt8 { UInt8(rgb & 0xFF) }

    public var description: String {
        "#" + String(rgb, radix: 16, uppercase: true).leftPadded(to: 6)
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}

/// The output picture: size, frame rate and background.
public struct Canvas: Hashable, Sendable {
    public var size: Size
    public var framesPerSecond: Int
    public var background: RGBColour

    public init(size: Size, framesPerSecond: Int = 30, background: RGBColour = .black) {
        self.size = size
        self.framesPerSecond = framesPerSecond
        self.background = background
    }
}

/// Pixels to cut from each side of a source picture.
public struct CropInsets: Hashable, Sendable {
    public var left: Int
    public var right: Int
    public var top: Int
    public var bottom: Int

    public init(left: Int = 0, right: Int = 0, top: Int = 0, bottom: Int = 0) {
        self.left = left
        self.right = right
        self.top = top
        self.bottom = bottom
    }

    /// The crop that makes `source` (in display pixels) the aspect ratio of `cell`, cutting
    /// equally from both ends of the longer axis (centre crop, as the phones' fill mode).
    /// Cuts are even so that subsampled chroma stays aligned.
    public static func centreCrop(source: Size, cell: Size) -> CropInsets {
        guard source.width > 0, source.height > 0, cell.width > 0, cell.height > 0 else { return CropInsets() }
        // Compare source.width / source.height with cell.width / cell.height without rounding.
        let sourceWide = source.width * cell.height
        let cellWide = cell.width * source.height
        if sourceWide > cellWide {
            let keptWidth = (source.height * cell.width + cell.height / 2) / cell.height
            let cut = evenFloor(source.width - keptWidth)
            return CropInsets(left: evenFloor(cut / 2), right: cut - evenFloor(cut / 2))
        } else if sourceWide < cellWide {
            let keptHeight = (source.width * cell.height + cell.width / 2) / cell.width
            let cut = evenFloor(source.height - keptHeight)
            return CropInsets(top: evenFloor(cut / 2), bottom: cut - evenFloor(cut / 2))
        }
        return CropInsets()
    }

    private static func evenFloor(_ value: Int) -> Int { max(0, value) & ~1 }
}
