import ArenaLayout
import ArenaSession
import ArenaSpec
import CCairo
import Foundation

/// Draws overlay items into small premultiplied-ARGB images. It keeps nothing: equal items
/// draw identical images, so callers keep the images they reuse, by item.
/// One renderer per drawing thread.
public final class OverlayRenderer {
    public let canvas: Size
    public let theme: OverlayTheme
    private let design: DesignUnits
    /// Loaded avatar images by user id.
    private let avatars: [String: OverlayImage]

    public init(canvas: Size, theme: OverlayTheme = OverlayTheme(), avatars: [String: OverlayImage] = [:]) {
        self.canvas = canvas
        self.theme = theme
        self.avatars = avatars
        design = DesignUnits(canvas: canvas)
    }

    /// The image of `item`, drawn now (callers keep the images they reuse).
    public func image(_ item: OverlayItem) -> OverlayImage {
        switch item {
        case .nickname(let cell, let name, let micOff): return nickname(cell: cell, name: name, micOff: micOff)
        case .connecting(let cell): return capsuleText("Connecting", at: cell, size: 12)
        case .avatar(let cell, let userId): return avatar(cell: cell, image: avatars[userId])
        case .ranking(let cell, let rank, let score): return ranking(cell: cell, rank: rank, score: score)
        case .scoreBar(let area, let split, let left, let right): return scoreBar(area: area, split: split, left: left, right: right)
        case .timer(let area, let top, let text): return timer(area: area, top: top, text: text)
        case .startBanner: return startBanner()
        case .result(let outcome): return result(outcome)
        }
    }

    // MARK: Per cell

    /// Bottom-left of the cell: left 10, bottom 4; padding 8/3; a mic-off icon 12 x 12 and
    /// a 2 gap before the name when the mic is off; the name 10 pt, ellipsised to the cell.
    private func nickname(cell: Rect, name: String, micOff: Bool) -> OverlayImage {
        let padX = Double(design.width(8)), padY = Double(design.height(3))
        let icon = micOff ? Double(design.width(12)) : 0
        let gap = micOff ? Double(design.width(2)) : 0
        let maxWidth = Double(cell.width - design.width(20))
        let text = Canvas2D.measuring().textLayout(name, font: theme.font, pixels: 10 * design.w,
                                                   maxWidth: max(1, maxWidth - 2 * padX - icon - gap))
        let width = Int((2 * padX + icon + gap + text.width).rounded(.up)), height = Int((2 * padY + text.height).rounded(.up))
        let canvas = Canvas2D(width: width, height: height)
        canvas.roundedRect(0, 0, Double(width), Double(height), radius: 37 * design.r)
        canvas.fill(theme.capsule)
        if micOff { micOffIcon(canvas, x: padX, centreY: Double(height) / 2, size: icon) }
        text.draw(on: canvas, at: padX + icon + gap, padY, colour: theme.text)
        return canvas.image(x: cell.x + design.width(10), y: cell.maxY - design.height(4) - height)
    }

    /// A capsule with white text at the cell's top-left (8, 8): the "Connecting" badge.
    private func capsuleText(_ label: String, at cell: Rect, size: Double) -> OverlayImage {
        let padX = Double(design.width(8)), padY = Double(design.height(3))
        let text = Canvas2D.measuring().textLayout(label, font: theme.font, pixels: size * design.w)
        let width = Int((2 * padX + text.width).rounded(.up)), height = Int((2 * padY + text.height).rounded(.up))
        let canvas = Canvas2D(width: width, height: height)
        canvas.roundedRect(0, 0, Double(width), Double(height), radius: 37 * design.r)
        canvas.fill(theme.capsule)
        text.draw(on: canvas, at: padX, padY, colour: theme.text)
        return canvas.image(x: cell.x + design.width(8), y: cell.y + design.height(8))
    }

    /// A 45 x 45 circular avatar centred in the cell (the cell's #1F2024 fill is the
    /// compositor's placeholder layer): the host's image, centre-cropped into the circle,
    /// or the default, a grey disc with a head and shoulders.
    private func avatar(cell: Rect, image: OverlayImage?) -> OverlayImage {
        let side = design.width(45)
        let canvas = Canvas2D(width: side, height: side)
        let r = Double(side) / 2
        if let image {
            canvas.circle(centreX: r, centreY: r, radius: r)
            cairo_clip(canvas.context)
            canvas.paint(image, coveringSide: Double(side))
            return canvas.image(x: cell.x + (cell.width - side) / 2, y: cell.y + (cell.height - side) / 2)
        }
        canvas.circle(centreX: r, centreY: r, radius: r)
        canvas.fill(ARGB(0xFF8A_8D93))
        cairo_save(canvas.context)
        canvas.circle(centreX: r, centreY: r, radius: r)
        cairo_clip(canvas.context)
        canvas.circle(centreX: r, centreY: r * 0.78, radius: r * 0.36)
        canvas.fill(ARGB(0xFFE6_E7EA))
        cairo_new_sub_path(canvas.context)
        cairo_arc(canvas.context, r, r * 1.95, r * 0.78, .pi, 2 * .pi)
        cairo_close_path(canvas.context)
        canvas.fill(ARGB(0xFFE6_E7EA))
        cairo_restore(canvas.context)
        return canvas.image(x: cell.x + (cell.width - side) / 2, y: cell.y + (cell.height - side) / 2)
    }

    /// Top-left (8, 8): a capsule 28 high, radius 14, padding 4/5, holding a rank badge and
    /// the score, white 12 pt.
    private func ranking(cell: Rect, rank: Int, score: Int64) -> OverlayImage {
        let height = design.height(28)
        let padX = Double(design.width(4)), badge = Double(height) - 2 * Double(design.height(5))
        let text = Canvas2D.measuring().textLayout(String(score), font: theme.font, pixels: 12 * design.w)
        let width = Int((padX + badge + Double(design.width(2)) + text.width + 2 * padX).rounded(.up))
        let canvas = Canvas2D(width: width, height: height)
        canvas.roundedRect(0, 0, Double(width), Double(height), radius: 14 * design.r)
        canvas.fill(theme.capsule)
        let medal = [ARGB(0xFFF5_B828), ARGB(0xFFB8_C2CC), ARGB(0xFFD0_8A4E)]
        canvas.circle(centreX: padX + badge / 2, centreY: Double(height) / 2, radius: badge / 2)
        canvas.fill(rank <= 3 ? medal[rank - 1] : ARGB(0xFF6B_7280))
        let number = canvas.textLayout(String(rank), font: theme.font, pixels: badge * 0.72, bold: true)
        number.draw(on: canvas, at: padX + (badge - number.width) / 2, (Double(height) - number.height) / 2, colour: theme.text)
        text.draw(on: canvas, at: padX + badge + Double(design.width(2)), (Double(height) - text.height) / 2, colour: theme.text)
        return canvas.image(x: cell.x + design.width(8), y: cell.y + design.height(8))
    }

    // MARK: Battle-wide

    /// Height 18 across the battle area's top: blue left part `split` wide, red right part,
    /// scores 12 pt bold 12 in from each end, an 18 x 18 divider mark on the split.
    private func scoreBar(area: Rect, split: Int, left: Int64, right: Int64) -> OverlayImage {
        let height = design.height(18)
        let canvas = Canvas2D(width: area.width, height: height)
        cairo_rectangle(canvas.context, 0, 0, Double(split), Double(height))
        canvas.fill(theme.leftSide)
        cairo_rectangle(canvas.context, Double(split), 0, Double(area.width - split), Double(height))
        canvas.fill(theme.rightSide)
        let inset = Double(design.width(12))
        let leftText = canvas.textLayout(String(left), font: theme.font, pixels: 12 * design.w, bold: true)
        leftText.draw(on: canvas, at: inset, (Double(height) - leftText.height) / 2, colour: theme.text)
        let rightText = canvas.textLayout(String(right), font: theme.font, pixels: 12 * design.w, bold: true)
        rightText.draw(on: canvas, at: Double(area.width) - inset - rightText.width, (Double(height) - rightText.height) / 2, colour: theme.text)
        // Divider: a white spark (a four-pointed star) centred on the split.
        let mark = Double(min(height, design.width(18))), cx = Double(split), cy = Double(height) / 2
        cairo_move_to(canvas.context, cx, cy - mark / 2)
        cairo_line_to(canvas.context, cx + mark * 0.14, cy - mark * 0.14)
        cairo_line_to(canvas.context, cx + mark / 2, cy)
        cairo_line_to(canvas.context, cx + mark * 0.14, cy + mark * 0.14)
        cairo_line_to(canvas.context, cx, cy + mark / 2)
        cairo_line_to(canvas.context, cx - mark * 0.14, cy + mark * 0.14)
        cairo_line_to(canvas.context, cx - mark / 2, cy)
        cairo_line_to(canvas.context, cx - mark * 0.14, cy - mark * 0.14)
        cairo_close_path(canvas.context)
        canvas.fill(ARGB(0xFFFF_FFFF))
        return canvas.image(x: area.x, y: area.y)
    }

    /// A 72 x 22 tab with rounded bottom corners, centred on the battle area: a 12 x 12
    /// clock, a 3 gap, then m:ss (or "PK End") white 14 pt.
    private func timer(area: Rect, top: Int, text: String) -> OverlayImage {
        let width = design.width(72), height = design.height(22)
        let canvas = Canvas2D(width: width, height: height)
        canvas.roundedRect(0, 0, Double(width), Double(height), radius: Double(design.width(8)), corners: (false, false, true, true))
        canvas.fill(theme.timerTab)
        let label = canvas.textLayout(text, font: theme.font, pixels: 14 * design.w * (text.count > 5 ? 0.8 : 1))
        let icon = Double(design.width(12)), gap = Double(design.width(3))
        let startX = (Double(width) - icon - gap - label.width) / 2
        clockIcon(canvas, x: startX, centreY: Double(height) / 2, size: icon)
        label.draw(on: canvas, at: startX + icon + gap, (Double(height) - label.height) / 2, colour: theme.text)
        return canvas.image(x: area.x + (area.width - width) / 2, y: top)
    }

    /// "VS" in a 240 x 125 banner centred on the canvas, shown for the battle's first second.
    private func startBanner() -> OverlayImage {
        let width = design.width(240), height = design.width(125)
        let canvas = Canvas2D(width: width, height: height)
        let slant = Double(width) * 0.08
        cairo_move_to(canvas.context, 0, 0)
        cairo_line_to(canvas.context, Double(width) / 2 + slant, 0)
        cairo_line_to(canvas.context, Double(width) / 2 - slant, Double(height))
        cairo_line_to(canvas.context, 0, Double(height))
        cairo_close_path(canvas.context)
        canvas.fill(ARGB(0xE0 << 24 | theme.leftSide.value & 0xFF_FFFF))
        cairo_move_to(canvas.context, Double(width) / 2 + slant, 0)
        cairo_line_to(canvas.context, Double(width), 0)
        cairo_line_to(canvas.context, Double(width), Double(height))
        cairo_line_to(canvas.context, Double(width) / 2 - slant, Double(height))
        cairo_close_path(canvas.context)
        canvas.fill(ARGB(0xE0 << 24 | theme.rightSide.value & 0xFF_FFFF))
        let vs = canvas.textLayout("VS", font: theme.font, pixels: Double(height) * 0.62, bold: true)
        vs.draw(on: canvas, at: (Double(width) - vs.width) / 2, (Double(height) - vs.height) / 2, colour: theme.text)
        return canvas.image(x: (self.canvas.width - width) / 2, y: (self.canvas.height - height) / 2)
    }

    /// The owner's result, 234 wide, centred, for 5 s after the end.
    private func result(_ outcome: BattleOutcome) -> OverlayImage {
        let width = design.width(234), height = design.width(90)
        let canvas = Canvas2D(width: width, height: height)
        let (label, colour): (String, ARGB) = switch outcome {
        case .win: ("WIN", ARGB(0xE6F5_B828))
        case .lose: ("LOSE", ARGB(0xE66B_7280))
        case .draw: ("DRAW", ARGB(0xE61C_66E5))
        }
        canvas.roundedRect(0, 0, Double(width), Double(height), radius: Double(height) / 2)
        canvas.fill(colour)
        let text = canvas.textLayout(label, font: theme.font, pixels: Double(height) * 0.55, bold: true)
        text.draw(on: canvas, at: (Double(width) - text.width) / 2, (Double(height) - text.height) / 2, colour: theme.text)
        return canvas.image(x: (self.canvas.width - width) / 2, y: (self.canvas.height - height) / 2)
    }

    // MARK: Icons (vector, our own)

    private func clockIcon(_ canvas: Canvas2D, x: Double, centreY: Double, size: Double) {
        let r = size / 2
        canvas.circle(centreX: x + r, centreY: centreY, radius: r - 1)
        canvas.setColour(theme.text)
        cairo_set_line_width(canvas.context, max(1, size / 8))
        cairo_stroke(canvas.context)
        cairo_move_to(canvas.context, x + r, centreY - r * 0.55)
        cairo_line_to(canvas.context, x + r, centreY)
        cairo_line_to(canvas.context, x + r * 1.45, centreY + r * 0.3)
        cairo_stroke(canvas.context)
    }

    private func micOffIcon(_ canvas: Canvas2D, x: Double, centreY: Double, size: Double) {
        let width = size * 0.42, top = centreY - size * 0.45
        canvas.roundedRect(x + (size - width) / 2, top, width, size * 0.6, radius: width / 2)
        canvas.fill(theme.text)
        canvas.setColour(ARGB(0xFFF1_5065))
        cairo_set_line_width(canvas.context, max(1, size / 8))
        cairo_move_to(canvas.context, x + size * 0.1, top)
        cairo_line_to(canvas.context, x + size * 0.9, centreY + size * 0.45)
        cairo_stroke(canvas.context)
    }
}
