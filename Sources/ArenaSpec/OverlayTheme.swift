/// Colours, font and which overlays show; the defaults are the client SDK's look.
public struct OverlayTheme: Equatable, Sendable {
    public var nicknames = true
    public var connectingBadge = true
    public var avatars = true
    public var scoreBar = true
    public var ranking = true
    public var timer = true
    public var startBanner = true
    public var result = true
    /// Capsules behind names, badges and ranks.
    public var capsule = ARGB(0x6622_262E)
    public var leftSide = ARGB(0xFF1C_66E5)
    public var rightSide = ARGB(0xFFF1_5065)
    public var text = ARGB(0xFFFF_FFFF)
    public var timerTab = ARGB(0x9933_3333)
    /// Pango font family; fontconfig falls back per character (CJK, emoji, Arabic).
    public var font = "DejaVu Sans"

    public init() {}
}

/// An RGB colour with alpha, `0xAARRGGBB` as the SDK writes them.
public struct ARGB: Hashable, Sendable {
    public let value: UInt32
    public init(_ value: UInt32) { self.value = value }
    public var alpha: Double { Double(value >> 24 & 0xFF) / 255 }
    public var red: Double { Double(value >> 16 & 0xFF) / 255 }
    public var green: Double { Double(value >> 8 & 0xFF) / 255 }
    public var blue: Double { Double(value & 0xFF) / 255 }
}

