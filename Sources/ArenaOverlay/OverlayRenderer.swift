import ArenaLayout
import ArenaSpec
import CCairo
import Foundation

/// Draws overlay items (resolved skin elements) into small premultiplied-ARGB images. It
/// keeps nothing: equal items draw identical images, so callers keep the images they reuse,
/// by item. One renderer per drawing thread.
public final class OverlayRenderer {
    public let canvas: Size
    /// The skin with the spec's switches, colours and font applied.
    public let skin: Skin
    private let design: DesignUnits
    /// Loaded avatar images by user id.
    private let avatars: [String: OverlayImage]
    /// The mix's images by name (watermarks, a skin's pictures).
    private let images: [String: OverlayImage]

    public init(canvas: Size, skin: Skin, avatars: [String: OverlayImage] = [:], images: [String: OverlayImage] = [:]) {
        self.canvas = canvas
        self.skin = skin
        self.avatars = avatars
        self.images = images
        design = DesignUnits(canvas: canvas)
    }

    /// The image of `item`, drawn now (callers keep the images they reuse).
    public func image(_ item: OverlayItem) -> OverlayImage {
        let frame = item.frame
        let box = measure(item.element, within: (Double(frame.width), Double(frame.height)))
        let width = Int(min(box.width, 1e6).rounded(.up)), height = Int(min(box.height, 1e6).rounded(.up))
        let element = item.element
        let offsetX = design.width(element.offsetX), offsetY = vertical(element.offsetY, uniform: element.uniform)
        var x = switch element.anchor.horizontal {
        case -1: frame.x + offsetX
        case 0: frame.x + (frame.width - width) / 2 + offsetX
        default: frame.maxX - offsetX - width
        }
        var y = switch element.anchor.vertical {
        case -1: frame.y + offsetY
        case 0: frame.y + (frame.height - height) / 2 + offsetY
        default: frame.maxY - offsetY - height
        }
        // Kept on the canvas where it fits; only the part on the canvas is drawn, so that no
        // item costs more than the canvas, whatever its sizes say.
        x = max(0, min(x, canvas.width - width))
        y = max(0, min(y, canvas.height - height))
        let visibleWidth = min(x + width, canvas.width) - x, visibleHeight = min(y + height, canvas.height) - y
        guard visibleWidth > 0, visibleHeight > 0 else { return OverlayImage(x: 0, y: 0, width: 0, height: 0, pixels: []) }
        let drawing = Canvas2D(width: visibleWidth, height: visibleHeight)
        draw(box, on: drawing, x: 0, y: 0, item: item)
        let image = drawing.image(x: x, y: y)
        return element.opacity < 1 ? image.faded(element.opacity) : image
    }

    // MARK: Measuring

    /// An element with its size in pixels, and its children's.
    private final class Measured {
        let element: SkinElement
        var width: Double
        var height: Double
        var children: [Measured] = []
        var text: TextLayout?

        init(_ element: SkinElement, width: Double, height: Double) {
            self.element = element
            self.width = width
            self.height = height
        }
    }

    private func vertical(_ units: Double, uniform: Bool) -> Int { uniform ? design.width(units) : design.height(units) }

    private func horizontal(_ length: SkinLength, of parent: Double) -> Double {
        switch length {
        case .units(let units): return Double(design.width(units))
        case .percent(let share, let plus): return max(0, share * parent + Double(design.width(plus)))
        }
    }

    private func vertical(_ length: SkinLength, of parent: Double, uniform: Bool) -> Double {
        switch length {
        case .units(let units): return Double(vertical(units, uniform: uniform))
        case .percent(let share, let plus): return max(0, share * parent + Double(vertical(plus, uniform: uniform)))
        }
    }

    /// `element` measured inside a parent content box of `parent` pixels.
    private func measure(_ element: SkinElement, within parent: (width: Double, height: Double), maxWidth: Double? = nil) -> Measured {
        let fixedWidth = element.width.map { horizontal($0, of: parent.width) }
        let fixedHeight = element.height.map { vertical($0, of: parent.height, uniform: element.uniform) }
        switch element.kind {
        case .text:
            let pixels = textPixels(element.size, parentHeight: parent.height)
            let limit = maxWidth ?? element.maxWidth.map { horizontal($0, of: parent.width) }
            let text = Canvas2D.measuring().textLayout(element.text, font: element.font ?? "DejaVu Sans", pixels: pixels,
                                                       bold: element.bold, maxWidth: limit.map { max(1, $0) })
            let measured = Measured(element, width: text.width, height: text.height)
            measured.text = text
            return measured
        case .image where element.source != "avatar":
            // A picture keeps its aspect ratio when only one side is given, and its size when none is.
            guard let image = images[element.source] else { return Measured(element, width: 0, height: 0) }
            let aspect = Double(image.width) / Double(image.height)
            let width = fixedWidth ?? fixedHeight.map { ($0 * aspect).rounded() } ?? Double(image.width)
            return Measured(element, width: width, height: fixedHeight ?? (fixedWidth.map { ($0 / aspect).rounded() } ?? Double(image.height)))
        case .icon, .image:
            // Square; a share is of the box's height, as for text.
            let side: Double = switch element.size {
            case .units(let units): Double(design.width(units))
            case .percent(let share, let plus): max(0, share * parent.height + Double(design.width(plus)))
            }
            return Measured(element, width: fixedWidth ?? side, height: fixedHeight ?? side)
        case .bar:
            return Measured(element, width: fixedWidth ?? parent.width, height: fixedHeight ?? Double(design.height(18)))
        case .box:
            return measureBox(element, within: parent, fixedWidth: fixedWidth, fixedHeight: fixedHeight)
        }
    }

    private func measureBox(_ element: SkinElement, within parent: (width: Double, height: Double),
                            fixedWidth: Double?, fixedHeight: Double?) -> Measured {
        let padding = padding(element)
        let gap = Double(design.width(element.gap))
        let content = ((fixedWidth ?? parent.width) - padding.left - padding.right, (fixedHeight ?? parent.height) - padding.top - padding.bottom)
        let box = Measured(element, width: 0, height: 0)
        box.children = element.children.map { measure($0, within: content) }
        var row = rowWidth(box.children, gap: gap)
        // Too wide: the last text gives way (ellipsised).
        if let maxWidth = element.maxWidth.map({ horizontal($0, of: parent.width) }), fixedWidth == nil,
           padding.left + row + padding.right > maxWidth, let last = box.children.lastIndex(where: { $0.text != nil }) {
            let others = row - box.children[last].width
            box.children[last] = measure(box.children[last].element, within: content,
                                         maxWidth: maxWidth - padding.left - padding.right - others)
            row = rowWidth(box.children, gap: gap)
        }
        box.width = fixedWidth ?? (padding.left + row + padding.right).rounded(.up)
        box.height = fixedHeight ?? (padding.top + (box.children.map(\.height).max() ?? 0) + padding.bottom).rounded(.up)
        if element.circle { (box.width, box.height) = (max(box.width, box.height), max(box.width, box.height)) }
        return box
    }

    private func rowWidth(_ children: [Measured], gap: Double) -> Double {
        children.map(\.width).reduce(0, +) + gap * Double(max(0, children.count - 1))
    }

    /// A text size: width units, or a share of the parent's content height.
    private func textPixels(_ size: SkinLength, parentHeight: Double) -> Double {
        switch size {
        case .units(let units): return units * design.w
        case .percent(let share, let plus): return max(0, share * parentHeight + plus * design.w)
        }
    }

    private func padding(_ element: SkinElement) -> (left: Double, top: Double, right: Double, bottom: Double) {
        let p = element.padding
        return (Double(design.width(p[0])), Double(vertical(p[1], uniform: element.uniform)),
                Double(design.width(p[2])), Double(vertical(p[3], uniform: element.uniform)))
    }

    // MARK: Drawing

    private func draw(_ measured: Measured, on canvas: Canvas2D, x: Double, y: Double, item: OverlayItem) {
        let element = measured.element
        let (width, height) = (measured.width, measured.height)
        switch element.kind {
        case .text:
            measured.text?.draw(on: canvas, at: x, y, colour: element.colour.literal)
        case .icon:
            SkinIcons.draw(element.icon, on: canvas, x: x, y: y, width: width, height: height,
                           colour: element.colour.literal, colours: element.colours.map(\.literal))
        case .image where element.source == "avatar":
            avatar(on: canvas, x: x, y: y, side: min(width, height), user: item.user)
        case .image:
            if let image = images[element.source] { canvas.paint(image, x: x, y: y, width: width, height: height) }
        case .bar:
            bar(element, on: canvas, x: x, y: y, width: width, height: height, split: item.split)
        case .box:
            if let fill = element.fill {
                if element.circle {
                    canvas.circle(centreX: x + width / 2, centreY: y + height / 2, radius: min(width, height) / 2)
                } else {
                    let c = element.corners
                    canvas.roundedRect(x, y, width, height, radius: element.radius * design.r, corners: (c[0], c[1], c[2], c[3]))
                }
                canvas.fill(fill.literal)
            }
            let padding = padding(element), gap = Double(design.width(element.gap))
            var childX = x + padding.left + (width - padding.left - padding.right - rowWidth(measured.children, gap: gap)) / 2
            for child in measured.children {
                draw(child, on: canvas, x: childX, y: y + (height - child.height) / 2, item: item)
                childX += child.width + gap
            }
        }
    }

    /// The host's avatar in a circle, or the default one.
    private func avatar(on canvas: Canvas2D, x: Double, y: Double, side: Double, user: String?) {
        guard let image = user.flatMap({ avatars[$0] }) else {
            SkinIcons.draw("person", on: canvas, x: x, y: y, width: side, height: side, colour: ARGB(0xFFE6_E7EA), colours: [])
            return
        }
        cairo_save(canvas.context)
        canvas.circle(centreX: x + side / 2, centreY: y + side / 2, radius: side / 2)
        cairo_clip(canvas.context)
        cairo_translate(canvas.context, x, y)
        canvas.paint(image, coveringSide: side)
        cairo_restore(canvas.context)
    }

    /// Two sides split at `split` of the width, each end's text `inset` in, the divider icon on the split.
    private func bar(_ element: SkinElement, on canvas: Canvas2D, x: Double, y: Double, width: Double, height: Double, split: Double) {
        let at = (split * width).rounded()
        cairo_rectangle(canvas.context, x, y, at, height)
        canvas.fill(element.colours[0].literal)
        cairo_rectangle(canvas.context, x + at, y, width - at, height)
        canvas.fill(element.colours[1].literal)
        let inset = Double(design.width(element.inset))
        for (index, text) in element.texts.enumerated() where !text.isEmpty {
            let layout = canvas.textLayout(text, font: element.font ?? "DejaVu Sans", pixels: textPixels(element.size, parentHeight: height),
                                           bold: element.bold)
            let textX = index == 0 ? x + inset : x + width - inset - layout.width
            layout.draw(on: canvas, at: textX, y + (height - layout.height) / 2, colour: element.colour.literal)
        }
        if let divider = element.divider {
            let mark = min(height, Double(design.width(element.dividerSize)))
            SkinIcons.draw(divider, on: canvas, x: x + at - mark / 2, y: y + (height - mark) / 2, width: mark, height: mark,
                           colour: ARGB(0xFFFF_FFFF), colours: [])
        }
    }
}

extension SkinColour {
    /// The colour of a resolved element (names were looked up in the palette).
    var literal: ARGB {
        if case .argb(let colour) = self { return colour }
        return ARGB(0xFFFF_FFFF)
    }
}

extension OverlayImage {
    /// The image with every pixel's alpha (and premultiplied colour) scaled by `opacity`.
    func faded(_ opacity: Double) -> OverlayImage {
        let scale = UInt32((max(0, min(1, opacity)) * 256).rounded())
        let pixels = pixels.map { pixel -> UInt32 in
            // Two channels at a time: 0x00AA00GG and 0x00RR00BB, each scaled, none carrying into the next.
            let evens = ((pixel >> 8 & 0x00FF_00FF) * scale) & 0xFF00_FF00
            let odds = ((pixel & 0x00FF_00FF) * scale) >> 8 & 0x00FF_00FF
            return evens | odds
        }
        return OverlayImage(x: x, y: y, width: width, height: height, pixels: pixels)
    }
}
