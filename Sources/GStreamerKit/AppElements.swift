import CGStreamer

/// An owned `GstSample`: one buffer with its caps, as an appsink hands it out.
public final class Sample: @unchecked Sendable {
    let pointer: OpaquePointer

    init(adopting pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(pointer))
    }

    private var buffer: UnsafeMutablePointer<GstBuffer>? { gst_sample_get_buffer(pointer) }

    /// Presentation time in nanoseconds, if the buffer has one.
    public var pts: UInt64? {
        guard let pts = buffer?.pointee.pts, pts != GstClockTime(clockTimeNone) else { return nil }
        return UInt64(pts)
    }

    /// Whether a decoder can start here: the buffer is not a delta unit (a keyframe, or audio).
    public var isKeyframe: Bool {
        guard let buffer else { return false }
        return buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
    }
}

extension Element {
    /// An appsink's samples, handed to `handler` on its streaming thread as they arrive
    /// (`gst_app_sink_set_callbacks`; no signal emission per buffer). The handler is
    /// released with the appsink.
    public func onNewSample(_ handler: @escaping (Sample) -> Void) {
        typealias Handler = (Sample) -> Void
        var callbacks = GstAppSinkCallbacks()
        callbacks.new_sample = { sink, data in
            guard let sink, let data, let sample = gst_app_sink_pull_sample(sink) else { return GST_FLOW_OK }
            Unmanaged<CallbackBox<Handler>>.fromOpaque(data).takeUnretainedValue().value(Sample(adopting: sample))
            return GST_FLOW_OK
        }
        let box = Unmanaged.passRetained(CallbackBox<Handler>(handler)).toOpaque()
        gst_app_sink_set_callbacks(appSink, &callbacks, box) { data in
            guard let data else { return }
            Unmanaged<AnyObject>.fromOpaque(data).release()
        }
    }

    /// Pushes a sample into an appsrc (`gst_app_src_push_sample`, which takes its own
    /// reference and applies the sample's caps). False once the appsrc refuses (flushing,
    /// ended or stopped).
    @discardableResult
    public func push(_ sample: Sample) -> Bool {
        gst_app_src_push_sample(appSource, sample.pointer) == GST_FLOW_OK
    }

    /// Ends an appsrc's stream after what it has queued (`gst_app_src_end_of_stream`).
    public func endAppStream() {
        gst_app_src_end_of_stream(appSource)
    }

    /// Asks the encoders upstream of this element for a keyframe as soon as they can.
    public func requestKeyframe() {
        let event = gst_video_event_new_upstream_force_key_unit(GstClockTime(clockTimeNone), 1, 0)
        gst_element_send_event(pointer, event)
    }

    /// Shifts the running time of everything leaving this element's `src` pad by `offset`
    /// nanoseconds (`gst_pad_set_offset`), so that an output started late begins at zero.
    public func shiftOutput(by offset: Int64) throws {
        gst_pad_set_offset(try staticPad("src").pointer, gint64(offset))
    }

    private var appSink: UnsafeMutablePointer<GstAppSink> { cast(pointer) }
    private var appSource: UnsafeMutablePointer<GstAppSrc> { cast(pointer) }
}
