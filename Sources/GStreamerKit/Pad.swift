import CArenaShim
import CGStreamer

/// An owned reference to a `GstPad`.
public final class Pad {
    public let pointer: UnsafeMutablePointer<GstPad>

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

    // MARK: Typed pad properties (compositor and mixer pads are GObjects with properties)

    public func set(_ property: String, _ value: Int32) { arena_object_set_int(pointer, property, value) }
    public func set(_ property: String, _ value: UInt32) { arena_object_set_uint(pointer, property, value) }
    public func set(_ property: String, _ value: Double) { arena_object_set_double(pointer, property, value) }
    public func set(_ property: String, _ value: Bool) { arena_object_set_boolean(pointer, property, value ? 1 : 0) }

    /// Whether a `GstVideoAggregatorPad` has a frame for the output frame being made.
    /// Only meaningful inside `samples-selected`.
    public var hasStagedVideoFrame: Bool {
        gst_video_aggregator_pad_has_current_buffer(cast(pointer)) != 0
    }

    /// For a mixer's (`GstAggregator`'s) sink pad: whether it is waiting for data, having
    /// none queued and no end-of-stream (`gst_aggregator_pad_has_buffer`, `_is_eos`).
    public var isStarved: Bool {
        let pad = UnsafeMutablePointer<GstAggregatorPad>(OpaquePointer(pointer))
        return gst_aggregator_pad_has_buffer(pad) == 0 && gst_aggregator_pad_is_eos(pad) == 0
    }

    /// Sends an event into this pad (`gst_pad_send_event`); takes the event.
    @discardableResult
    public func send(_ event: UnsafeMutablePointer<GstEvent>) -> Bool {
        gst_pad_send_event(pointer, event) != 0
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
    public func addBufferProbe(_ handler: @escaping (_ pts: UInt64?) -> ProbeResult) {
        addProbe(GST_PAD_PROBE_TYPE_BUFFER) { info in
            guard let data = info.pointee.data else { return .pass }
            let pts = UnsafeMutablePointer<GstBuffer>(OpaquePointer(data)).pointee.pts
            return handler(pts == GstClockTime(clockTimeNone) ? nil : UInt64(pts))
        }
    }

    /// Calls `handler` with each buffer's bytes (mapped for reading) on the streaming
    /// thread; it decides whether the buffer goes on.
    public func addBufferDataProbe(_ handler: @escaping (UnsafeRawBufferPointer) -> ProbeResult) {
        addProbe(GST_PAD_PROBE_TYPE_BUFFER) { info in
            guard let data = info.pointee.data else { return .pass }
            let buffer = UnsafeMutablePointer<GstBuffer>(OpaquePointer(data))
            var map = GstMapInfo()
            guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return .drop }
            defer { gst_buffer_unmap(buffer, &map) }
            return handler(UnsafeRawBufferPointer(start: map.data, count: Int(map.size)))
        }
    }

    /// Calls `handler` for each downstream caps event with the new caps, on the streaming thread.
    public func addCapsProbe(_ handler: @escaping (Caps) -> Void) {
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

    /// A probe that only looks at (or replaces) the data and always lets it through.
    func addRawProbe(_ mask: GstPadProbeType, _ handler: @escaping (UnsafeMutablePointer<GstPadProbeInfo>) -> Void) {
        addProbe(mask) { info in
            handler(info)
            return .pass
        }
    }

    private func addProbe(_ mask: GstPadProbeType,
                          _ handler: @escaping (UnsafeMutablePointer<GstPadProbeInfo>) -> ProbeResult) {
        typealias Handler = (UnsafeMutablePointer<GstPadProbeInfo>) -> ProbeResult
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

/// An owned reference to immutable `GstCaps`.
public final class Caps {
    public let pointer: UnsafeMutablePointer<GstCaps>

    /// Parses caps such as `video/x-raw,width=720,height=1280` (`gst_caps_from_string`).
    public init(_ description: String) throws {
        GStreamer.initialize()
        guard let caps = gst_caps_from_string(description) else {
            throw GStreamerError(message: "invalid caps: \(description)")
        }
        pointer = caps
    }

    init(retaining pointer: UnsafeMutablePointer<GstCaps>) {
        self.pointer = pointer
        gst_mini_object_ref(cast(pointer))
    }

    /// Takes over a reference the caller owned.
    init(adopting pointer: UnsafeMutablePointer<GstCaps>) {
        self.pointer = pointer
    }

    deinit {
        gst_mini_object_unref(cast(pointer))
    }

    /// The first structure's media type, e.g. `video/x-h264`.
    public var mediaType: String? {
        guard gst_caps_get_size(pointer) > 0, let structure = gst_caps_get_structure(pointer, 0) else { return nil }
        return String(cString: gst_structure_get_name(structure))
    }

    /// An integer field of the first structure.
    public func int(_ field: String) -> Int? {
        guard gst_caps_get_size(pointer) > 0, let structure = gst_caps_get_structure(pointer, 0) else { return nil }
        var value: gint = 0
        return gst_structure_get_int(structure, field, &value) != 0 ? Int(value) : nil
    }

    /// A fraction field of the first structure, as numerator and denominator.
    public func fraction(_ field: String) -> (Int, Int)? {
        guard gst_caps_get_size(pointer) > 0, let structure = gst_caps_get_structure(pointer, 0) else { return nil }
        var numerator: gint = 0, denominator: gint = 0
        guard gst_structure_get_fraction(structure, field, &numerator, &denominator) != 0 else { return nil }
        return (Int(numerator), Int(denominator))
    }
}

/// Makes an end-of-stream event to send into a pad.
public func endOfStreamEvent() -> UnsafeMutablePointer<GstEvent> {
    gst_event_new_eos()
}

/// Makes a flush-start event: the pad drops what it holds and refuses data until flush-stop.
public func flushStartEvent() -> UnsafeMutablePointer<GstEvent> {
    gst_event_new_flush_start()
}

/// Makes a flush-stop event, ending a flush.
public func flushStopEvent() -> UnsafeMutablePointer<GstEvent> {
    gst_event_new_flush_stop(1)
}
