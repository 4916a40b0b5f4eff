import CGStreamer

/// An owned `GstSample`: one buffer with its caps, as an appsink hands it out.
/// Sendable: a sample is never written once handed out, and its reference count is atomic.
public final class Sample: @unchecked Sendable {
    package let pointer: OpaquePointer

    package init(adopting pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(pointer))
    }

    private var buffer: UnsafeMutablePointer<GstBuffer>? { gst_sample_get_buffer(pointer) }

    /// The buffer's running time (its time on the pipeline clock's scale, which encoders that
    /// shift their timestamps, such as x264enc by 1000 hours, leave unchanged).
    public var runningTime: UInt64? {
        guard let buffer, let segment = gst_sample_get_segment(pointer), buffer.pointee.pts != GstClockTime(clockTimeNone) else {
            return nil
        }
        let time = gst_segment_to_running_time(segment, GST_FORMAT_TIME, buffer.pointee.pts)
        return time == GstClockTime(clockTimeNone) ? nil : UInt64(time)
    }

    /// The buffer's duration in nanoseconds, if it has one.
    public var duration: UInt64? {
        guard let buffer, buffer.pointee.duration != GstClockTime(clockTimeNone) else { return nil }
        return UInt64(buffer.pointee.duration)
    }

    /// Calls `body` with the buffer's bytes, mapped for reading for the call only.
    public func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result? {
        guard let buffer else { return nil }
        var map = GstMapInfo()
        guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return nil }
        defer { gst_buffer_unmap(buffer, &map) }
        return try body(UnsafeRawBufferPointer(start: map.data, count: Int(map.size)))
    }

    /// Whether a decoder can start here: the buffer is not a delta unit (a keyframe, or audio).
    public var isKeyframe: Bool {
        guard let buffer else { return false }
        return buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
    }
}

/// What a push into a pipeline came to (`GstFlowReturn`).
public enum FlowResult: Equatable, Sendable {
    case ok
    /// The element is stopping or stopped; the buffer was dropped.
    case flushing
    case endOfStream
    case notLinked
    case error

    init(_ flow: GstFlowReturn) {
        switch flow {
        case GST_FLOW_OK: self = .ok
        case GST_FLOW_FLUSHING: self = .flushing
        case GST_FLOW_EOS: self = .endOfStream
        case GST_FLOW_NOT_LINKED: self = .notLinked
        default: self = .error
        }
    }
}

extension Element {
    /// An appsink's samples, handed to `handler` on its streaming thread as they arrive
    /// (`gst_app_sink_set_callbacks`; no signal emission per buffer). The handler is
    /// released with the appsink.
    public func onNewSample(_ handler: @escaping @Sendable (Sample) -> Void) {
        typealias Handler = @Sendable (Sample) -> Void
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

    /// Tells an appsrc's downstream that no data comes from `start` for `duration` (a GAP
    /// event, queued in order with its buffers): an aggregator then does not wait for it.
    @discardableResult
    public func pushGap(from start: UInt64, duration: UInt64) -> Bool {
        gst_element_send_event(pointer, gst_event_new_gap(GstClockTime(start), GstClockTime(duration))) != 0
    }

    /// Pushes a sample's buffer into an appsrc with its times made running times minus
    /// `start` (so an output begins at zero whatever the encoder's segment was), plus `shift`
    /// (a stream whose times are its own, moved onto the clock), taking the sample's caps when
    /// they change. `discontinuous` marks it as not following on from the buffer before (after
    /// a change of `shift`: an audio mixer places it by its time then, not right after the
    /// last). The buffer's memory is shared, not copied.
    @discardableResult
    public func push(_ sample: Sample, from start: UInt64, shiftedBy shift: Int64 = 0, discontinuous: Bool = false) -> FlowResult {
        guard let buffer = gst_sample_get_buffer(sample.pointer), let segment = gst_sample_get_segment(sample.pointer),
              let copy = gst_buffer_copy(buffer) else { return .error }
        func shifted(_ time: GstClockTime) -> GstClockTime {
            guard time != GstClockTime(clockTimeNone) else { return time }
            let running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, time)
            guard running != GstClockTime(clockTimeNone) else { return GstClockTime(clockTimeNone) }
            return GstClockTime(max(0, Int64(clamping: running) - Int64(clamping: start) + shift))
        }
        copy.pointee.pts = shifted(buffer.pointee.pts)
        copy.pointee.dts = shifted(buffer.pointee.dts)
        if discontinuous { copy.pointee.mini_object.flags |= GST_BUFFER_FLAG_DISCONT.rawValue }
        if let caps = gst_sample_get_caps(sample.pointer) {
            let current = gst_app_src_get_caps(appSource)
            if current == nil || gst_caps_is_equal(current, caps) == 0 { gst_app_src_set_caps(appSource, caps) }
            if let current { gst_mini_object_unref(cast(current)) }
        }
        return FlowResult(gst_app_src_push_buffer(appSource, copy))  // takes the copy
    }

    /// Ends an appsrc's stream after what it has queued (`gst_app_src_end_of_stream`).
    public func endAppStream() {
        gst_app_src_end_of_stream(appSource)
    }

    private var appSink: UnsafeMutablePointer<GstAppSink> { cast(pointer) }
    private var appSource: UnsafeMutablePointer<GstAppSrc> { cast(pointer) }
}
