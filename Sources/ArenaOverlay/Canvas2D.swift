import ArenaLayout
import ArenaSpec
import CCairo

/// A premultiplied ARGB image (native byte order, 32 bits a pixel) placed on the output.
public struct OverlayImage: Equatable, Sendable {
    public let x: Int
    public let y: Int
    public let width: Int
    public let height: Int
    public let pixels: [UInt32]

    public init(x: Int, y: Int, width: Int, height: Int, pixels: [UInt32]) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The pixel at (`x`, `y`) of the image, as 0xAARRGGBB (premultiplied).
    public func pixel(x: Int, y: Int) -> UInt32 { pixels[y * width + x] }
}

/// A Cairo image surface to draw one overlay on, with Pango for text. Lives for one drawing.
final class Canvas2D {
    let width: Int
    let height: Int
    private let surface: OpaquePointer
    let context: OpaquePointer

    /// `width` x `height` pixels, each kept within 1 and Cairo's 32767.
    init(width: Int, height: Int) {
        self.width = max(1, min(width, 32_767))
        self.height = max(1, min(height, 32_767))
        surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(self.width), Int32(self.height))
        context = cairo_create(surface)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    /// The drawing so far, placed at (`x`, `y`) on the output.
    func image(x: Int, y: Int) -> OverlayImage {
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        var pixels = [UInt32](repeating: 0, count: width * height)
        guard let data = cairo_image_surface_get_data(surface) else {
            return OverlayImage(x: x, y: y, width: width, height: height, pixels: pixels)   // Cairo could not make it: nothing drawn
        }
        pixels.withUnsafeMutableBytes { target in
            for row in 0..<height {
                (target.baseAddress! + row * width * 4).copyMemory(from: data + row * stride, byteCount: width * 4)
            }
        }
        return OverlayImage(x: x, y: y, width: width, height: height, pixels: pixels)
    }

    func setColour(_ colour: ARGB) {
        cairo_set_source_rgba(context, colour.red, colour.green, colour.blue, colour.alpha)
    }

    /// A rectangle with corners rounded by `radius` (clamped to a capsule); `corners` picks
    /// which: top-left, top-right, bottom-right, bottom-left.
    func roundedRect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, radius: Double,
                     corners: (Bool, Bool, Bool, Bool) = (true, true, true, true)) {
        let r = min(radius, width / 2, height / 2)
        cairo_new_sub_path(context)
        if corners.1 { cairo_arc(context, x + width - r, y + r, r, -.pi / 2, 0) } else { cairo_move_to(context, x + width, y) }
        if corners.2 { cairo_arc(context, x + width - r, y + height - r, r, 0, .pi / 2) } else { cairo_line_to(context, x + width, y + height) }
        if corners.3 { cairo_arc(context, x + r, y + height - r, r, .pi / 2, .pi) } else { cairo_line_to(context, x, y + height) }
        if corners.0 { cairo_arc(context, x + r, y + r, r, .pi, 1.5 * .pi) } else { cairo_line_to(context, x, y) }
        cairo_close_path(context)
    }

    func fill(_ colour: ARGB) {
        setColour(colour)
        cairo_fill(context)
    }

    /// Paints `image` scaled to cover a `side` x `side` square at the origin, centred (a crop).
    func paint(_ image: OverlayImage, coveringSide side: Double) {
        let scale = side / Double(min(image.width, image.height))
        paint(image, x: (side - Double(image.width) * scale) / 2, y: (side - Double(image.height) * scale) / 2,
              width: Double(image.width) * scale, height: Double(image.height) * scale, padded: false)
    }

    /// Paints `image` scaled into the `width` x `height` box at (`x`, `y`); `padded`: edge
    /// pixels repeat outwards, so that filtering does not darken the picture's border.
    func paint(_ image: OverlayImage, x: Double, y: Double, width: Double, height: Double, padded: Bool = true) {
        guard image.width > 0, image.height > 0 else { return }
        image.withSurface { source in
            cairo_save(context)
            cairo_translate(context, x, y)
            cairo_scale(context, width / Double(image.width), height / Double(image.height))
            cairo_set_source_surface(context, source, 0, 0)
            cairo_pattern_set_filter(cairo_get_source(context), CAIRO_FILTER_GOOD)
            if padded {
                cairo_pattern_set_extend(cairo_get_source(context), CAIRO_EXTEND_PAD)
                cairo_rectangle(context, 0, 0, Double(image.width), Double(image.height))
                cairo_fill(context)
            } else {
                cairo_paint(context)
            }
            cairo_restore(context)
        }
    }

    func circle(centreX: Double, centreY: Double, radius: Double) {
        cairo_new_sub_path(context)
        cairo_arc(context, centreX, centreY, radius, 0, 2 * .pi)
    }

    /// A 1 x 1 canvas to shape and measure text on before the real canvas's size is known.
    static func measuring() -> Canvas2D { Canvas2D(width: 1, height: 1) }

    /// A Pango layout of `text` in `font` at `pixels` high, ellipsised at the end to `maxWidth`.
    func textLayout(_ text: String, font: String, pixels: Double, bold: Bool = false, maxWidth: Double? = nil) -> TextLayout {
        TextLayout(context: context, text: text, font: font, pixels: pixels, bold: bold, maxWidth: maxWidth)
    }
}

/// Text shaped by Pango (fallback fonts for CJK, Arabic and emoji come from fontconfig).
/// Shaped once, it can be measured before the canvas it is drawn on exists.
final class TextLayout {
    private let layout: OpaquePointer
    /// Ink-independent logical size in pixels.
    let width: Double
    let height: Double
    /// Where the text starts within the layout: right-to-left text is aligned to the right
    /// of the ellipsising width.
    private let offsetX: Double

    init(context: OpaquePointer, text: String, font: String, pixels: Double, bold: Bool, maxWidth: Double?) {
        layout = pango_cairo_create_layout(context)
        let description = pango_font_description_from_string(font)
        pango_font_description_set_absolute_size(description, pixels * Double(PANGO_SCALE))
        pango_font_description_set_weight(description, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL)
        pango_layout_set_font_description(layout, description)
        pango_font_description_free(description)
        pango_layout_set_single_paragraph_mode(layout, 1)
        if let maxWidth {
            pango_layout_set_width(layout, Int32(max(0, maxWidth) * Double(PANGO_SCALE)))
            pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END)
        }
        pango_layout_set_text(layout, text, -1)
        var logical = PangoRectangle()
        pango_layout_get_pixel_extents(layout, nil, &logical)
        width = Double(logical.width)
        height = Double(logical.height)
        offsetX = Double(logical.x)
    }

    deinit {
        g_object_unref(UnsafeMutableRawPointer(layout))
    }

    /// Draws the text on `canvas` with its top-left at (`x`, `y`).
    func draw(on canvas: Canvas2D, at x: Double, _ y: Double, colour: ARGB) {
        let context = canvas.context
        pango_cairo_update_layout(context, layout)
        cairo_move_to(context, x - offsetX, y)
        cairo_set_source_rgba(context, colour.red, colour.green, colour.blue, colour.alpha)
        pango_cairo_show_layout(context, layout)
    }
}

extension OverlayImage {
    /// `images` drawn in order over `background` on a canvas of `size` (for looking, docs and tests).
    public static func composite(_ images: [OverlayImage], size: Size, background: ARGB) -> OverlayImage {
        let canvas = Canvas2D(width: size.width, height: size.height)
        cairo_rectangle(canvas.context, 0, 0, Double(size.width), Double(size.height))
        canvas.fill(background)
        for image in images where image.width > 0 && image.height > 0 {
            image.withSurface { source in
                cairo_set_source_surface(canvas.context, source, Double(image.x), Double(image.y))
                cairo_paint(canvas.context)
            }
        }
        return canvas.image(x: 0, y: 0)
    }

    /// The image scaled down (aspect kept) so that neither side exceeds `side`; itself if it fits.
    public func fitted(within side: Int) -> OverlayImage {
        guard width > side || height > side else { return self }
        let scale = Double(side) / Double(max(width, height))
        let (newWidth, newHeight) = (max(1, Int((Double(width) * scale).rounded())), max(1, Int((Double(height) * scale).rounded())))
        let canvas = Canvas2D(width: newWidth, height: newHeight)
        canvas.paint(self, x: 0, y: 0, width: Double(newWidth), height: Double(newHeight))
        return canvas.image(x: 0, y: 0)
    }

    /// The image scaled to cover `size` (centred, the overflow cut), as an opaque picture over black.
    public func coverFitted(to size: Size) -> OverlayImage {
        let canvas = Canvas2D(width: size.width, height: size.height)
        cairo_rectangle(canvas.context, 0, 0, Double(size.width), Double(size.height))
        canvas.fill(ARGB(0xFF00_0000))
        let scale = max(Double(size.width) / Double(max(1, width)), Double(size.height) / Double(max(1, height)))
        let (scaledWidth, scaledHeight) = (Double(width) * scale, Double(height) * scale)
        canvas.paint(self, x: (Double(size.width) - scaledWidth) / 2, y: (Double(size.height) - scaledHeight) / 2,
                     width: scaledWidth, height: scaledHeight)
        return canvas.image(x: 0, y: 0)
    }

    /// Writes the image as PNG; false if the file cannot be written.
    @discardableResult
    public func writePNG(to path: String) -> Bool {
        guard width > 0, height > 0 else { return false }
        return withSurface { cairo_surface_write_to_png($0, path) == CAIRO_STATUS_SUCCESS }
    }

    /// Calls `body` with a Cairo surface over the pixels (read only, not copied).
    func withSurface<T>(_ body: (OpaquePointer) -> T) -> T {
        pixels.withUnsafeBufferPointer { buffer in
            let data = UnsafeMutableRawPointer(mutating: buffer.baseAddress!).assumingMemoryBound(to: UInt8.self)
            let surface = cairo_image_surface_create_for_data(data, CAIRO_FORMAT_ARGB32, Int32(width), Int32(height), Int32(width * 4))!
            defer { cairo_surface_destroy(surface) }
            return body(surface)
        }
    }

    /// Reads a PNG file (as premultiplied ARGB); nil if it is not one.
    public init?(pngFile path: String) {
        let surface = cairo_image_surface_create_from_png(path)
        defer { cairo_surface_destroy(surface) }
        guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS,
              cairo_image_surface_get_format(surface) == CAIRO_FORMAT_ARGB32 || cairo_image_surface_get_format(surface) == CAIRO_FORMAT_RGB24
        else { return nil }
        let width = Int(cairo_image_surface_get_width(surface)), height = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        let opaque = cairo_image_surface_get_format(surface) == CAIRO_FORMAT_RGB24
        var pixels = [UInt32](repeating: 0, count: width * height)
        for row in 0..<height {
            let line = UnsafeRawPointer(data + row * stride).assumingMemoryBound(to: UInt32.self)
            for column in 0..<width { pixels[row * width + column] = opaque ? line[column] | 0xFF00_0000 : line[column] }
        }
        self.init(x: 0, y: 0, width: width, height: height, pixels: pixels)
    }
}
