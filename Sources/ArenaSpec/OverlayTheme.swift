/// The spec's `overlays` settings: the skin, and switches, colours and font over it.
public struct OverlayTheme: Equatable, Sendable {
    /// False: only the elements switched on by name show.
    public var enabled = true
    /// Names of skin elements switched off (`"nickname"`, `"scoreBar"`, ...).
    public var hidden: Set<String> = []
    /// Names of skin elements switched on (they show even when `enabled` is false).
    public var shown: Set<String> = []
    /// Palette colours by name, over the skin's.
    public var palette: [String: ARGB] = [:]
    /// Pango font family over the skin's; fontconfig falls back per character (CJK, emoji, Arabic).
    public var font: String?
    /// The skin the settings apply over.
    public var skin: SkinChoice = .bundled(SkinChoice.defaultName)

    /// Every overlay of the default skin, as the SDK draws it.
    public init() {}
}

/// Which skin a mix uses: a bundled one by name (`assets/skins/NAME.json`), or one written in the spec.
public enum SkinChoice: Hashable, Sendable {
    case bundled(String)
    case inline(Skin)

    /// Today's look, the client SDK's.
    public static let defaultName = "default"
}

/// An RGB colour with alpha, `0xAARRGGBB` as the SDK writes them.
public struct ARGB: Hashable, Sendable {
    public let value: UInt32
    public init(_ value: UInt32) { self.value = value }
    public var alpha: Double { Double(value >> 24 & 0xFF) / 255 }
    public var red: Double { Double(value >> 16 & 0xFF) / 255 }
    public var green: Double { Double(value >> 8 & 0xFF) / 255 }
    public var blue: Double { Double(value & 0xFF) / 255 }

    /// `#RRGGBB` (opaque) or `#AARRGGBB`.
    public init?(hex: String) {
        guard hex.first == "#", hex.count == 7 || hex.count == 9, hex.dropFirst().allSatisfy(\.isHexDigit),
              let value = UInt32(hex.dropFirst(), radix: 16) else { return nil }
        self.init(hex.count == 7 ? 0xFF00_0000 | value : value)
    }
}

extension OverlayTheme {
    /// The `overlays` switches (spec key, skin element name).
    static let switches = [("nicknames", "nickname"), ("connectingBadge", "connecting"), ("avatars", "avatar"), ("scoreBar", "scoreBar"),
                           ("ranking", "ranking"), ("timer", "timer"), ("startBanner", "startBanner"), ("result", "result")]
    /// The `overlays` colours (spec key, palette name).
    static let colours = [("capsuleColour", "capsule"), ("leftColour", "left"), ("rightColour", "right"), ("textColour", "text"),
                          ("timerColour", "timerTab")]

    /// The `overlays` object (its `allowPrivateAvatarHosts` is read by the caller).
    static func parse(_ fields: inout JSONFields) throws(SpecError) -> OverlayTheme {
        var theme = OverlayTheme()
        theme.enabled = try fields.bool("enabled") ?? true
        for (key, name) in switches {
            switch try fields.bool(key) {
            case false?: theme.hidden.insert(name)
            case true?: theme.shown.insert(name)
            case nil: break
            }
        }
        for (key, name) in colours {
            guard let hex = try fields.string(key) else { continue }
            theme.palette[name] = try SkinParser.colour(hex, field: fields.name(key))
        }
        theme.font = try fields.string("font")
        switch fields.raw("skin") {
        case nil: break
        case .string(let name)?: theme.skin = .bundled(try SkinParser.bundledName(name, field: fields.name("skin")))
        case let value?: theme.skin = .inline(try SkinParser.skin(value, path: fields.name("skin")))
        }
        return theme
    }
}
