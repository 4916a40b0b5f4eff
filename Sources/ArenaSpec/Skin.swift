/// A look for the overlays, as data: the four slots of the client SDK's `VideoWidgetBuilder`,
/// each a list of elements drawn in order. `assets/skins/` holds the bundled ones; the README's
/// "Skins" section documents the format.
public struct Skin: Hashable, Sendable {
    /// The bundled skin this one starts from (its slots and palette), if any.
    public var extends: String?
    /// Pango font family for text without a font of its own.
    public var font: String?
    /// Named colours that elements refer to by name (`text` is white unless given).
    public var palette: [String: ARGB] = [:]
    /// Per host whose cell has no picture (camera off, no stream yet, stream lost).
    public var coHostBackground: [SkinElement]?
    /// Per host, over the video.
    public var coHostForeground: [SkinElement]?
    /// Per host while a battle shows.
    public var battleUser: [SkinElement]?
    /// Once while a battle shows (the global PK view).
    public var battleContainer: [SkinElement]?

    public init() {}

    /// This skin over `base`: slots it gives replace the base's, palette entries and font too.
    public func over(_ base: Skin) -> Skin {
        var merged = base
        merged.extends = base.extends
        merged.font = font ?? base.font
        merged.palette.merge(palette) { $1 }
        merged.coHostBackground = coHostBackground ?? base.coHostBackground
        merged.coHostForeground = coHostForeground ?? base.coHostForeground
        merged.battleUser = battleUser ?? base.battleUser
        merged.battleContainer = battleContainer ?? base.battleContainer
        return merged
    }

    /// The skin with `theme`'s palette and font over its own, and the elements it switches off
    /// removed (all but those it switches on, when it is not `enabled`).
    public func applying(_ theme: OverlayTheme) -> Skin {
        var skin = self
        skin.font = theme.font ?? font
        skin.palette.merge(theme.palette) { $1 }
        func kept(_ elements: [SkinElement]?) -> [SkinElement]? {
            elements?.filter { element in
                guard let name = element.name else { return theme.enabled }
                return theme.enabled ? !theme.hidden.contains(name) : theme.shown.contains(name)
            }
        }
        skin.coHostBackground = kept(coHostBackground)
        skin.coHostForeground = kept(coHostForeground)
        skin.battleUser = kept(battleUser)
        skin.battleContainer = kept(battleContainer)
        return skin
    }
}

/// One element of a skin: a box holding a row of children, a text, an icon, an image or a
/// two-sided bar. Sizes and offsets are in the SDK's design units (x in width units, y in
/// height units, or both in width units when `uniform`).
public struct SkinElement: Hashable, Sendable {
    /// What the element draws (README: Skins).
    public enum Kind: String, CaseIterable, Sendable { case box, text, icon, image, bar }

    public var kind: Kind
    /// Names the element for the `overlays` switches (`"nickname"`, `"timer"`, ...).
    public var name: String?
    /// Drawn only when every condition holds.
    public var when: [SkinCondition] = []
    /// Top-level elements: the box they are placed in (default: the cell, or for the battle
    /// container the battle area).
    public var frame: SkinFrame?
    /// Top-level elements: where in their box they sit.
    public var anchor: SkinAnchor = .topLeft
    /// Inward from the anchored edges; from the centre, rightward and downward.
    public var offsetX = 0.0
    public var offsetY = 0.0
    /// Fixed sizes; a box without them fits its children (up to `maxWidth`, ellipsising its last text).
    public var width: SkinLength?
    public var height: SkinLength?
    public var maxWidth: SkinLength?
    /// Heights and vertical offsets in width units too (for shapes that keep their proportions).
    public var uniform = false
    /// Top-level elements: 0 (clear) to 1.
    public var opacity = 1.0

    // Boxes
    public var fill: SkinColour?
    /// Corner radius in radius units; capped at half the shorter side (a capsule).
    public var radius = 0.0
    /// Which corners are rounded: top-left, top-right, bottom-right, bottom-left.
    public var corners: [Bool] = [true, true, true, true]
    public var circle = false
    /// Left, top, right, bottom.
    public var padding: [Double] = [0, 0, 0, 0]
    /// Between a box's children.
    public var gap = 0.0
    /// A box's elements, in a row, centred vertically.
    public var children: [SkinElement] = []

    // Text (also the bar's two ends)
    /// A template: `{name}`, `{userId}`, `{score}`, `{rank}`, `{timeLeft}`, `{leftScore}`,
    /// `{rightScore}`, `{result}`, `{hosts}` are filled in; `{{` and `}}` are braces.
    public var text = ""
    public var font: String?
    /// Text height: units, or a share of the parent's content height.
    public var size: SkinLength = .units(12)
    public var bold = false
    public var colour: SkinColour = .named("text")

    // Icons, images and bars
    public var icon = ""
    /// Images: `"avatar"` (the host's, or the default avatar).
    public var source = ""
    /// Bars and the versus icon: left and right colours.
    public var colours: [SkinColour] = []
    /// Bars: the left and right end's text templates.
    public var texts: [String] = []
    /// Bars: how far in from each end their texts sit.
    public var inset = 0.0
    /// Bars: the icon drawn on the split, and its size.
    public var divider: String?
    public var dividerSize = 0.0

    /// An element of `kind` with every other field at its default.
    public init(kind: Kind) {
        self.kind = kind
    }
}

/// A colour: literal, or a name in the skin's palette.
public enum SkinColour: Hashable, Sendable {
    case argb(ARGB)
    case named(String)
}

/// A length in design units, or a share of the parent's box plus design units (`"100%-20"`).
public enum SkinLength: Hashable, Sendable {
    case units(Double)
    case percent(Double, plus: Double)
}

/// Where in its box a top-level element sits: a corner, an edge's middle, or the centre.
public enum SkinAnchor: String, CaseIterable, Sendable {
    case topLeft, top, topRight, left, centre, right, bottomLeft, bottom, bottomRight

    /// -1 left, 0 centre, 1 right.
    public var horizontal: Int {
        switch self {
        case .topLeft, .left, .bottomLeft: return -1
        case .top, .centre, .bottom: return 0
        case .topRight, .right, .bottomRight: return 1
        }
    }

    /// -1 top, 0 centre, 1 bottom.
    public var vertical: Int {
        switch self {
        case .topLeft, .top, .topRight: return -1
        case .left, .centre, .right: return 0
        case .bottomLeft, .bottom, .bottomRight: return 1
        }
    }
}

/// The box a top-level element is placed in.
public enum SkinFrame: String, CaseIterable, Sendable {
    /// The host's cell (per-host slots only).
    case cell
    /// The union of the battling hosts' cells.
    case battleArea
    case canvas
}

/// One condition of an element's `when`: a flag, or a number compared (`"hosts>=3"`), maybe negated (`"!micOff"`).
public struct SkinCondition: Hashable, Sendable {
    public enum Flag: String, CaseIterable, Sendable {
        /// A battle shows (running, or over with its result).
        case battle
        case running, ended
        /// The battle's first second.
        case justStarted
        /// The mix owner's result shows (5 s after the end).
        case showingResult
        case win, lose, draw
        /// No time left.
        case timeUp
        /// Two hosts, both battling.
        case oneVersusOne
        /// The host battles.
        case inBattle
        /// The host is connected but not in the running battle.
        case connecting
        /// The host's cell has no picture.
        case noVideo
        case micOff
        /// The host ranks first once the battle is over.
        case winner
        /// The host's voice is heard now.
        case speaking
        /// The cells are seats of a voice room (no video).
        case voiceRoom
    }

    /// A number a condition compares: the connected hosts, or the host's rank.
    public enum Number: String, CaseIterable, Sendable { case hosts, rank }
    public enum Comparison: String, CaseIterable, Sendable {
        case equal = "==", notEqual = "!=", atLeast = ">=", atMost = "<=", above = ">", below = "<"

        /// Whether `left` compares so to `right`.
        public func holds(_ left: Int, _ right: Int) -> Bool {
            switch self {
            case .equal: return left == right
            case .notEqual: return left != right
            case .atLeast: return left >= right
            case .atMost: return left <= right
            case .above: return left > right
            case .below: return left < right
            }
        }
    }

    /// What a condition asks.
    public enum Test: Hashable, Sendable {
        case flag(Flag)
        case compare(Number, Comparison, Int)
    }

    public let test: Test
    /// Written with `!`: holds when the test does not.
    public let negated: Bool

    /// `test`, or its negation.
    public init(_ test: Test, negated: Bool = false) {
        self.test = test
        self.negated = negated
    }
}
