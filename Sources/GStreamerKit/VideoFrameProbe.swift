import CGStreamer

/// A raw video frame mapped for writing, lent to a probe's handler for that call only: it
/// cannot be copied (so not kept), and its planes are reached inside ``withPlanes(_:)``.
public struct WritableVideoFrame: ~Copyable {
    public let width: Int
    public let height: Int
    /// The caps' colour matrix is BT.709 (else BT.601), and its range full (else limited).
    public let isBT709: Bool
    public let isFullRange: Bool
    /// Presentation time in nanoseconds, if the buffer has one.
    public let pts: UInt64?
    private let planes: [UnsafeMutablePointer<UInt8>]
    private let strides: [Int]

    init(width: Int, height: Int, planes: [UnsafeMutablePointer<UInt8>], strides: [Int], isBT709: Bool, isFullRange: Bool, pts: UInt64?) {
        self.width = width
        self.height = height
        self.planes = planes
        self.strides = strides
        self.isBT709 = isBT709
        self.isFullRange = isFullRange
        self.pts = pts
    }

    /// How many planes the frame has (three for I420).
    public var planeCount: Int { planes.count }

    /// Calls `body` with each plane's first byte and its row stride in bytes; the pointers
    /// are valid inside `body` only.
    public func withPlanes<Result>(_ body: (_ planes: [UnsafeMutablePointer<UInt8>], _ strides: [Int]) throws -> Result) rethrows -> Result {
        try body(planes, strides)
    }
}

extension Pad {
    /// Calls `handler` with each raw video buffer on this pad made writable and mapped
    /// (`gst_buffer_make_writable`, `gst_video_frame_map`), on the streaming thread.
    public func addWritableFrameProbe(_ handler: @escaping @Sendable (borrowing WritableVideoFrame) -> Void) {
        let state = FrameProbeState()
        addRawProbe(GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER.rawValue | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM.rawValue)) { info in
            guard let data = info.pointee.data else { return }
            if info.pointee.type.rawValue & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM.rawValue != 0 {
                let event = UnsafeMutablePointer<GstEvent>(OpaquePointer(data))
                guard event.pointee.type == GST_EVENT_CAPS else { return }
                var caps: UnsafeMutablePointer<GstCaps>?
                gst_event_parse_caps(event, &caps)
                if let caps { state.valid = gst_video_info_from_caps(&state.info, caps) != 0 }
                return
            }
            guard state.valid else { return }
            let writable = gst_mini_object_make_writable(UnsafeMutablePointer<GstMiniObject>(OpaquePointer(data)))!
            info.pointee.data = UnsafeMutableRawPointer(writable)
            let buffer = UnsafeMutablePointer<GstBuffer>(OpaquePointer(writable))
            var frame = GstVideoFrame()
            guard gst_video_frame_map(&frame, &state.info, buffer, GstMapFlags(GST_MAP_READ.rawValue | GST_MAP_WRITE.rawValue)) != 0 else { return }
            defer { gst_video_frame_unmap(&frame) }
            let planeCount = Int(state.info.finfo.pointee.n_planes)
            let planes = [frame.data.0, frame.data.1, frame.data.2, frame.data.3].prefix(planeCount)
            let strides = [frame.info.stride.0, frame.info.stride.1, frame.info.stride.2, frame.info.stride.3].prefix(planeCount)
            let pts = buffer.pointee.pts
            handler(WritableVideoFrame(
                width: Int(state.info.width), height: Int(state.info.height),
                planes: planes.map { $0!.assumingMemoryBound(to: UInt8.self) }, strides: strides.map(Int.init),
                isBT709: state.info.colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_BT709,
                isFullRange: state.info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255,
                pts: pts == GstClockTime(clockTimeNone) ? nil : UInt64(pts)))
        }
    }
}

/// The video info of the latest caps, kept by one pad's probe.
/// Unchecked Sendable: only that pad's streaming thread touches it, one call at a time.
private final class FrameProbeState: @unchecked Sendable {
    var info = GstVideoInfo()
    var valid = false
}
