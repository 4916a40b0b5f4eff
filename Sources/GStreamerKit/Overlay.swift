import CGStreamer

/// One premultiplied-ARGB image placed on the video frame (`GstVideoOverlayRectangle`).
public final class OverlayRectangle {
    let pointer: OpaquePointer

    /// `pixels` are premultiplied ARGB in native byte order (BGRA in memory on little-endian
    /// machines: GStreamer's `GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB`), `width * height`
    /// of them, placed with their top-left at (`x`, `y`).
    public init(pixels: [UInt32], width: Int, height: Int, x: Int, y: Int) {
        precondition(pixels.count == width * height, "overlay pixel count does not match its size")
        GStreamer.initialize()
        let byteCount = pixels.count * 4
        let buffer = gst_buffer_new_allocate(nil, gsize(byteCount), nil)!
        pixels.withUnsafeBytes { _ = gst_buffer_fill(buffer, 0, $0.baseAddress, gsize(byteCount)) }
        gst_buffer_add_video_meta(buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_BGRA, guint(width), guint(height))
        pointer = gst_video_overlay_rectangle_new_raw(buffer, gint(x), gint(y), guint(width), guint(height),
                                                      GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA)
        gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(OpaquePointer(buffer)))
    }

    deinit {
        gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(pointer))
    }
}

/// A set of overlay rectangles blended onto one frame (`GstVideoOverlayComposition`).
public final class OverlayComposition {
    let pointer: OpaquePointer

    /// Nil when there is nothing to draw.
    public init?(_ rectangles: [OverlayRectangle]) {
        guard let first = rectangles.first else { return nil }
        pointer = gst_video_overlay_composition_new(first.pointer)
        for rectangle in rectangles.dropFirst() {
            gst_video_overlay_composition_add_rectangle(pointer, rectangle.pointer)
        }
    }

    deinit {
        gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(pointer))
    }

    /// A new reference for C code that takes ownership (the `draw` signal's return value).
    func retainedPointer() -> OpaquePointer {
        gst_mini_object_ref(UnsafeMutablePointer<GstMiniObject>(pointer))
        return pointer
    }
}
