import ArenaSpec
import CCairo

/// The vector icons a skin can name, drawn into a `width` x `height` box (our own drawings).
enum SkinIcons {
    static func draw(_ name: String, on canvas: Canvas2D, x: Double, y: Double, width: Double, height: Double,
                     colour: ARGB, colours: [ARGB]) {
        let context = canvas.context
        cairo_save(context)
        cairo_translate(context, x, y)
        switch name {
        case "clock": clock(canvas, size: min(width, height), colour: colour)
        case "micOff": micOff(canvas, size: min(width, height), colour: colour)
        case "spark": spark(canvas, size: min(width, height), colour: colour)
        case "person": person(canvas, size: min(width, height), colour: colour)
        case "versus": versus(canvas, width: width, height: height, colours: colours)
        case "ring": ring(canvas, size: min(width, height), colour: colour)
        case "wave": wave(canvas, size: min(width, height), colour: colour)
        default: break
        }
        cairo_restore(context)
    }

    /// A clock face with two hands, stroked.
    private static func clock(_ canvas: Canvas2D, size: Double, colour: ARGB) {
        let r = size / 2, context = canvas.context
        canvas.circle(centreX: r, centreY: r, radius: r - 1)
        canvas.setColour(colour)
        cairo_set_line_width(context, max(1, size / 8))
        cairo_stroke(context)
        cairo_move_to(context, r, r - r * 0.55)
        cairo_line_to(context, r, r)
        cairo_line_to(context, r * 1.45, r + r * 0.3)
        cairo_stroke(context)
    }

    /// A microphone struck through in red.
    private static func micOff(_ canvas: Canvas2D, size: Double, colour: ARGB) {
        let width = size * 0.42, centreY = size / 2, top = centreY - size * 0.45, context = canvas.context
        canvas.roundedRect((size - width) / 2, top, width, size * 0.6, radius: width / 2)
        canvas.fill(colour)
        canvas.setColour(ARGB(0xFFF1_5065))
        cairo_set_line_width(context, max(1, size / 8))
        cairo_move_to(context, size * 0.1, top)
        cairo_line_to(context, size * 0.9, centreY + size * 0.45)
        cairo_stroke(context)
    }

    /// A circle outline, its stroke a twelfth of its size (the speaking ring round an avatar).
    private static func ring(_ canvas: Canvas2D, size: Double, colour: ARGB) {
        let line = max(2, size / 12)
        canvas.circle(centreX: size / 2, centreY: size / 2, radius: (size - line) / 2)
        canvas.setColour(colour)
        cairo_set_line_width(canvas.context, line)
        cairo_stroke(canvas.context)
    }

    /// Three bars, the middle one tallest (a voice heard).
    private static func wave(_ canvas: Canvas2D, size: Double, colour: ARGB) {
        let bar = size / 5
        for (index, height) in [0.45, 0.9, 0.6].enumerated() {
            canvas.roundedRect(Double(index) * 2 * bar, size * (1 - height) / 2, bar, size * height, radius: bar / 2)
            canvas.fill(colour)
        }
    }

    /// A four-pointed star.
    private static func spark(_ canvas: Canvas2D, size: Double, colour: ARGB) {
        let c = size / 2, context = canvas.context
        let points = [(0.0, -0.5), (0.14, -0.14), (0.5, 0), (0.14, 0.14), (0, 0.5), (-0.14, 0.14), (-0.5, 0), (-0.14, -0.14)]
        for (index, (px, py)) in points.enumerated() {
            if index == 0 { cairo_move_to(context, c + px * size, c + py * size) } else { cairo_line_to(context, c + px * size, c + py * size) }
        }
        cairo_close_path(context)
        canvas.fill(colour)
    }

    /// The default avatar: a grey disc with a head and shoulders in `colour`.
    private static func person(_ canvas: Canvas2D, size: Double, colour: ARGB) {
        let r = size / 2, context = canvas.context
        canvas.circle(centreX: r, centreY: r, radius: r)
        canvas.fill(ARGB(0xFF8A_8D93))
        canvas.circle(centreX: r, centreY: r, radius: r)
        cairo_clip(context)
        canvas.circle(centreX: r, centreY: r * 0.78, radius: r * 0.36)
        canvas.fill(colour)
        cairo_new_sub_path(context)
        cairo_arc(context, r, r * 1.95, r * 0.78, .pi, 2 * .pi)
        cairo_close_path(context)
        canvas.fill(colour)
    }

    /// Two halves split by a slanted line, left in `colours[0]`, right in `colours[1]`.
    private static func versus(_ canvas: Canvas2D, width: Double, height: Double, colours: [ARGB]) {
        guard colours.count == 2 else { return }
        let slant = width * 0.08, context = canvas.context
        cairo_move_to(context, 0, 0)
        cairo_line_to(context, width / 2 + slant, 0)
        cairo_line_to(context, width / 2 - slant, height)
        cairo_line_to(context, 0, height)
        cairo_close_path(context)
        canvas.fill(colours[0])
        cairo_move_to(context, width / 2 + slant, 0)
        cairo_line_to(context, width, 0)
        cairo_line_to(context, width, height)
        cairo_line_to(context, width / 2 - slant, height)
        cairo_close_path(context)
        canvas.fill(colours[1])
    }
}
