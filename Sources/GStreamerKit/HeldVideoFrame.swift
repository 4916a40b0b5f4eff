import CGStreamer

/// A reference to the decoded frame a video aggregator pad has staged for the output frame
/// being made, held past `samples-selected` so that it can be read when that output frame is
/// painted. No pixel is copied; the buffer goes back to its pool when this is released.
/// Sendable: the buffer is never written through it, and its reference count is atomic.
public final class HeldVideoFrame: @unchecked Sendable {
    private let buffer: UnsafeMutablePointer<GstBuffer>
    private var info: GstVideoInfo

    init(adopting buffer: UnsafeMutablePointer<GstBuffer>, info: GstVideoInfo) {
        self.buffer = buffer
        self.info = info
    }

    deinit { gst_mini_object_unref(cast(buffer)) }

    /// The layouts the painting step reads directly.
    public enum Layout: Sendable, Equatable {
        /// Three planes; chroma subsampled by 2^x horizontally and 2^y vertically.
        case planar(chromaShiftX: Int, chromaShiftY: Int)
        /// Y, then interleaved chroma pairs at 4:2:0: U first (NV12) or V first (NV21).
        case semiPlanar(uFirst: Bool)
    }

    /// The formats ``Layout`` covers, as caps format names (for a caps filter before the pad):
    /// 8-bit, and planar 10- and 12-bit (read as 16-bit samples, ``bitDepth``).
    public static let readableFormats = ["I420", "YV12", "Y42B", "Y444", "NV12", "NV21",
                                         "I420_10LE", "I422_10LE", "Y444_10LE", "I420_12LE", "I422_12LE", "Y444_12LE"]

    public var width: Int { Int(info.width) }
    public var height: Int { Int(info.height) }
    /// Pixel aspect ratio (numerator, denominator).
    public var pixelAspectRatio: (Int, Int) { (Int(info.par_n), Int(max(info.par_d, 1))) }
    public var isBT709: Bool { info.colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_BT709 }
    public var isFullRange: Bool { info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255 }

    public var layout: Layout? {
        switch info.finfo.pointee.format {
        case GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_YV12, GST_VIDEO_FORMAT_I420_10LE, GST_VIDEO_FORMAT_I420_12LE:
            .planar(chromaShiftX: 1, chromaShiftY: 1)
        case GST_VIDEO_FORMAT_Y42B, GST_VIDEO_FORMAT_I422_10LE, GST_VIDEO_FORMAT_I422_12LE: .planar(chromaShiftX: 1, chromaShiftY: 0)
        case GST_VIDEO_FORMAT_Y444, GST_VIDEO_FORMAT_Y444_10LE, GST_VIDEO_FORMAT_Y444_12LE: .planar(chromaShiftX: 0, chromaShiftY: 0)
        case GST_VIDEO_FORMAT_NV12: .semiPlanar(uFirst: true)
        case GST_VIDEO_FORMAT_NV21: .semiPlanar(uFirst: false)
        default: nil
        }
    }

    /// Bits a sample: 8, or 10 and 12 for the deeper formats ``readableFormats`` lists, whose
    /// samples are 16-bit little-endian words (this machine's order: Swift's platforms are all
    /// little-endian).
    public var bitDepth: Int { Int(info.finfo.pointee.depth.0) }

    /// Maps the frame for reading and calls `body` with its planes in Y, U, V order (YV12's
    /// swapped planes put back) and their strides; nil if it cannot be mapped.
    public func withPlanes<Result>(_ body: (_ planes: [UnsafePointer<UInt8>], _ strides: [Int]) -> Result) -> Result? {
        var frame = GstVideoFrame()
        guard gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ) != 0 else { return nil }
        defer { gst_video_frame_unmap(&frame) }
        let count = Int(info.finfo.pointee.n_planes)
        var planes = [frame.data.0, frame.data.1, frame.data.2].prefix(count).map { UnsafePointer($0!.assumingMemoryBound(to: UInt8.self)) }
        var strides = [frame.info.stride.0, frame.info.stride.1, frame.info.stride.2].prefix(count).map(Int.init)  // the buffer's own
        if info.finfo.pointee.format == GST_VIDEO_FORMAT_YV12 {
            planes.swapAt(1, 2)
            strides.swapAt(1, 2)
        }
        return body(planes, strides)
    }
}

/// Whether `buffer` is a gap: no data, only a time span (what an aggregator makes of a GAP event).
func isGap(_ buffer: UnsafeMutablePointer<GstBuffer>) -> Bool {
    gst_buffer_get_size(buffer) == 0 && buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_GAP.rawValue != 0
}

extension Pad {
    /// For a video aggregator's sink pad, inside `samples-selected`: the frame it staged for
    /// the output frame being made, if any (`gst_video_aggregator_pad_get_current_buffer`).
    public func heldVideoFrame() -> HeldVideoFrame? {
        let pad = UnsafeMutablePointer<GstVideoAggregatorPad>(OpaquePointer(pointer))
        guard let buffer = gst_video_aggregator_pad_get_current_buffer(pad), !isGap(buffer), pad.pointee.info.finfo != nil else { return nil }
        gst_mini_object_ref(cast(buffer))
        return HeldVideoFrame(adopting: buffer, info: pad.pointee.info)
    }
}

extension Sample {
    /// The sample's buffer as a raw video frame laid out as its caps say (strides from its
    /// GstVideoMeta, if any); nil if the caps are not raw video.
    public func videoFrame() -> HeldVideoFrame? {
        guard let buffer = gst_sample_get_buffer(pointer), let caps = gst_sample_get_caps(pointer) else { return nil }
        var info = GstVideoInfo()
        guard gst_video_info_from_caps(&info, caps) != 0 else { return nil }
        gst_mini_object_ref(cast(buffer))
        return HeldVideoFrame(adopting: buffer, info: info)
    }
}
