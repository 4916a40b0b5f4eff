import CArenaShim
import CGStreamer

/// An owned reference to a `GstPad`.
/// Sendable: GStreamer objects are reference-counted atomically and lock their own state.
public final class Pad: PropertySettable, @unchecked Sendable {
    let pointer: UnsafeMutablePointer<GstPad>

    init(owning pointer: UnsafeMutablePointer<GstPad>) {
        self.pointer = pointer
    }

    init(retaining pointer: UnsafeMutablePointer<GstPad>) {
        self.pointer = pointer
        gst_object_ref(UnsafeMutableRawPointer(pointer))
    }

    deinit {
        gst_object_unref(UnsafeMutableRawPointer(pointer))
    }

    public var name: String { objectName(cast(pointer)) }

    /// The media type of the pad's current caps (`video/x-raw`), or of what it can produce.
    public var mediaType: String? {
        guard let caps = gst_pad_get_current_caps(pointer) ?? gst_pad_query_caps(pointer, nil) else { return nil }
        defer { gst_mini_object_unref(cast(caps)) }
        guard gst_caps_get_size(caps) > 0, let structure = gst_caps_get_structure(caps, 0) else { return nil }
        return String(cString: gst_structure_get_name(structure))
    }

    public var isLinked: Bool { gst_pad_is_linked(pointer) != 0 }

    /// Links this src pad to a sink pad (`gst_pad_link`).
    public func link(_ sink: Pad) throws {
        let result = gst_pad_link(pointer, sink.pointer)
        guard result == GST_PAD_LINK_OK else {
            let reason = String(cString: gst_pad_link_get_name(result))
            throw GStreamerError(message: "cannot link pad \(name) to \(sink.name): \(reason)")
        }
    }

    // MARK: Pad properties (compositor and mixer pads are GObjects with properties)

    /// Sets a property; throws if the pad has no such property or it has another type or range.
    public func set(_ property: String, _ value: PropertyValue) throws {
        try setProperty(of: UnsafeMutableRawPointer(pointer), owner: name, property, value)
    }

    /// Whether a `GstVideoAggregatorPad` has a frame for the output frame being made (a gap,
    /// which a GAP event leaves there, is none). Only meaningful inside `samples-selected`.
    public var hasStagedVideoFrame: Bool {
        guard let buffer = gst_video_aggregator_pad_get_current_buffer(cast(pointer)) else { return false }
        return !isGap(buffer)
    }

    /// For a mixer's (`GstAggregator`'s) sink pad: whether it is waiting for data, having
    /// none queued and no end-of-stream (`gst_aggregator_pad_has_buffer`, `_is_eos`).
    public var isStarved: Bool {
        gst_aggregator_pad_has_buffer(UnsafeMutablePointer<GstAggregatorPad>(OpaquePointer(pointer))) == 0 && !isAtEnd
    }

    /// For a mixer's (`GstAggregator`'s) sink pad: whether its stream has ended.
    public var isAtEnd: Bool {
        gst_aggregator_pad_is_eos(UnsafeMutablePointer<GstAggregatorPad>(OpaquePointer(pointer))) != 0
    }

    /// The events Arena sends into pads.
    public enum Event: Sendable {
        /// The pad drops what it holds and refuses data until `.flushStop`.
        case flushStart
        case flushStop
        /// No more data comes.
        case endOfStream
        /// Upstream, to a src pad: ask the source for a keyframe (a force-key-unit event; an RTP
        /// session sends it to the sender as an RTCP PLI).
        case requestKeyframe
    }

    /// Sends an event into this pad (`gst_pad_send_event`); false if it was not handled.
    @discardableResult
    public func send(_ event: Event) -> Bool {
        let made = switch event {
        case .flushStart: gst_event_new_flush_start()
        case .flushStop: gst_event_new_flush_stop(1)
        case .endOfStream: gst_event_new_eos()
        case .requestKeyframe: gst_video_event_new_upstream_force_key_unit(GstClockTime.max, 0, 0)  // GST_CLOCK_TIME_NONE, no headers
        }
        return gst_pad_send_event(pointer, made) != 0
    }

    // MARK: Probes

    /// What a probe tells the pad to do with the data it saw.
    public enum ProbeResult {
        /// Let it through.
        case pass
        /// Drop it; upstream sees success.
        case drop
        /// Drop it and answer upstream with end-of-stream, so the producer stops.
        case dropAndEndStream
    }

    /// Calls `handler` for each buffer's presentation time (nil if it has none), on the
    /// streaming thread. The probe lives as long as the pad.
    public func addBufferProbe(_ handler: @escaping @Sendable (_ pts: UInt64?) -> ProbeResult) {
        addProbe(GST_PAD_PROBE_TYPE_BUFFER) { info in
            guard let data = info.pointee.data else { return .pass }
            let pts = UnsafeMutablePointer<GstBuffer>(OpaquePointer(data)).pointee.pts
            return handler(pts == GstClockTime(clockTimeNone) ? nil : UInt64(pts))
        }
    }

    /// Calls `handler` with each buffer's bytes (mapped for reading) on the streaming
    /// thread; it decides whether the buffer goes on.
    public func addBufferDataProbe(_ handler: @escaping @Sendable (UnsafeRawBufferPointer) -> ProbeResult) {
        addProbe(GST_PAD_PROBE_TYPE_BUFFER) { info in
            guard let data = info.pointee.data else { return .pass }
            let buffer = UnsafeMutablePointer<GstBuffer>(OpaquePointer(data))
            var map = GstMapInfo()
            guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return .drop }
            defer { gst_buffer_unmap(buffer, &map) }
            return handler(UnsafeRawBufferPointer(start: map.data, count: Int(map.size)))
        }
    }

    /// Calls `handler` with each buffer's presentation time as stream time (encoders shift
    /// their output's timestamps and segment alike), keyframe flag and bytes on the streaming
    /// thread; when it returns bytes to insert at an offset, a copy of the buffer with them
    /// (same times, flags and metas) goes on instead.
    public func addBufferInsertionProbe(
        _ handler: @escaping @Sendable (_ streamTime: UInt64?, _ isKeyframe: Bool, _ bytes: UnsafeRawBufferPointer) -> (offset: Int, bytes: [UInt8])?
    ) {
        // The probe lives as long as the pad, which this wrapper may not.
        let padAddress = Int(bitPattern: pointer)
        addRawProbe(GST_PAD_PROBE_TYPE_BUFFER) { info in
            guard let data = info.pointee.data else { return }
            let buffer = UnsafeMutablePointer<GstBuffer>(OpaquePointer(data))
            var pts: UInt64?
            if buffer.pointee.pts != GstClockTime(clockTimeNone), let pad = UnsafeMutablePointer<GstPad>(bitPattern: padAddress),
               let event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0) {
                var segment: UnsafePointer<GstSegment>?
                gst_event_parse_segment(event, &segment)
                let time = segment.map { gst_segment_to_stream_time($0, GST_FORMAT_TIME, buffer.pointee.pts) } ?? GstClockTime(clockTimeNone)
                gst_event_unref(event)
                pts = time == GstClockTime(clockTimeNone) ? nil : UInt64(time)
            }
            let isKeyframe = buffer.pointee.mini_object.flags & GST_BUFFER_FLAG_DELTA_UNIT.rawValue == 0
            var map = GstMapInfo()
            guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return }
            let insertion = handler(pts, isKeyframe, UnsafeRawBufferPointer(start: map.data, count: Int(map.size)))
            gst_buffer_unmap(buffer, &map)
            guard let insertion, !insertion.bytes.isEmpty else { return }
            let replaced = insertion.bytes.withUnsafeBufferPointer {
                arena_buffer_with_insert(data, UInt(max(0, insertion.offset)), $0.baseAddress, UInt($0.count))
            }
            info.pointee.data = replaced
            gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(OpaquePointer(data)))
        }
    }

    /// Calls `handler` with each buffer's presentation time, duration (nil if unknown) and
    /// bytes (mapped for reading) on the streaming thread; the buffer always goes on.
    public func addTimedBufferDataProbe(_ handler: @escaping @Sendable (_ pts: UInt64?, _ duration: UInt64?, UnsafeRawBufferPointer) -> Void) {
        addRawProbe(GST_PAD_PROBE_TYPE_BUFFER) { info in
            guard let data = info.pointee.data else { return }
            let buffer = UnsafeMutablePointer<GstBuffer>(OpaquePointer(data))
            let none = GstClockTime(clockTimeNone)
            var map = GstMapInfo()
            guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return }
            defer { gst_buffer_unmap(buffer, &map) }
            handler(buffer.pointee.pts == none ? nil : UInt64(buffer.pointee.pts),
                    buffer.pointee.duration == none ? nil : UInt64(buffer.pointee.duration),
                    UnsafeRawBufferPointer(start: map.data, count: Int(map.size)))
        }
    }

    /// Calls `handler` for each downstream caps event with the new caps, on the streaming thread.
    public func addCapsProbe(_ handler: @escaping @Sendable (Caps) -> Void) {
        addProbe(GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) { info in
            guard let data = info.pointee.data else { return .pass }
            let event = UnsafeMutablePointer<GstEvent>(OpaquePointer(data))
            if event.pointee.type == GST_EVENT_CAPS {
                var caps: UnsafeMutablePointer<GstCaps>?
                gst_event_parse_caps(event, &caps)
                if let caps { handler(Caps(retaining: caps)) }
            }
            return .pass
        }
    }

    /// What a stream says about time besides its buffers.
    public enum StreamMark: Sendable {
        /// Nothing until `end` (a gap event: a demuxer keeping a sparse stream in step).
        case gap(end: UInt64)
        /// The stream is over.
        case endOfStream
    }

    /// Calls `handler` for each downstream gap and end-of-stream event, on the streaming thread.
    public func addStreamMarkProbe(_ handler: @escaping @Sendable (StreamMark) -> Void) {
        addRawProbe(GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) { info in
            guard let data = info.pointee.data else { return }
            let event = UnsafeMutablePointer<GstEvent>(OpaquePointer(data))
            switch event.pointee.type {
            case GST_EVENT_GAP:
                var start = GstClockTime(0), duration = GstClockTime(0)
                gst_event_parse_gap(event, &start, &duration)
                let none = GstClockTime(clockTimeNone)
                guard start != none else { return }
                let (end, overflow) = UInt64(start).addingReportingOverflow(duration == none ? 0 : UInt64(duration))
                handler(.gap(end: overflow ? UInt64(start) : end))
            case GST_EVENT_EOS:
                handler(.endOfStream)
            default:
                break
            }
        }
    }

    /// Calls `handler` (on the thread that asks) for each keyframe request going upstream
    /// through the pad (a force-key-unit event: a depayloader's after a loss, a decoder's
    /// after an error).
    public func onKeyframeRequest(_ handler: @escaping @Sendable () -> Void) {
        addRawProbe(GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) { info in
            guard let data = info.pointee.data else { return }
            if gst_video_event_is_force_key_unit(UnsafeMutablePointer<GstEvent>(OpaquePointer(data))) != 0 { handler() }
        }
    }

    /// Says in allocation queries reaching this pad (an appsink's sink pad) that it takes
    /// GstVideoMeta, which appsink cannot say before GStreamer 1.24: decoders upstream then hand
    /// their pictures on with their own strides (arenavideodec: libav's planes) instead of
    /// copying them into a plain layout. Only for sinks whose frames are read through their
    /// video meta (`gst_video_frame_map`), as the compositor reads them.
    public func acceptVideoMeta() {
        addRawProbe(GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM) { info in
            guard let data = info.pointee.data else { return }
            let query = UnsafeMutablePointer<GstQuery>(OpaquePointer(data))
            let meta = gst_video_meta_api_get_type()
            if query.pointee.type == GST_QUERY_ALLOCATION, gst_query_find_allocation_meta(query, meta, nil) == 0 {
                gst_query_add_allocation_meta(query, meta, nil)
            }
        }
    }

    /// A probe that only looks at (or replaces) the data and always lets it through.
    func addRawProbe(_ mask: GstPadProbeType, _ handler: @escaping @Sendable (UnsafeMutablePointer<GstPadProbeInfo>) -> Void) {
        addProbe(mask) { info in
            handler(info)
            return .pass
        }
    }

    private func addProbe(_ mask: GstPadProbeType,
                          _ handler: @escaping @Sendable (UnsafeMutablePointer<GstPadProbeInfo>) -> ProbeResult) {
        typealias Handler = @Sendable (UnsafeMutablePointer<GstPadProbeInfo>) -> ProbeResult
        let box = Unmanaged.passRetained(CallbackBox<Handler>(handler)).toOpaque()
        gst_pad_add_probe(pointer, mask, { _, info, data in
            guard let info, let data else { return GST_PAD_PROBE_OK }
            switch Unmanaged<CallbackBox<Handler>>.fromOpaque(data).takeUnretainedValue().value(info) {
            case .pass:
                return GST_PAD_PROBE_OK
            case .drop:
                return GST_PAD_PROBE_DROP
            case .dropAndEndStream:
                // GStreamer passes a probe's flow return upstream only for HANDLED, where
                // the probe owns the data: drop it ourselves.
                if let data = info.pointee.data { gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(OpaquePointer(data))) }
                arena_probe_info_set_flow_return(info, GST_FLOW_EOS.rawValue)
                return GST_PAD_PROBE_HANDLED
            }
        }, box, { data in
            guard let data else { return }
            Unmanaged<AnyObject>.fromOpaque(data).release()
        })
    }
}
