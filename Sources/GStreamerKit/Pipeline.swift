import CGStreamer
import Foundation
import Synchronization

/// An owned `GstBin`: a group of elements that live, link and change state together.
/// Sendable for the reason any ``Element`` is.
public class Bin: Element, @unchecked Sendable {
    /// An empty bin (`gst_bin_new`).
    public init(name: String) {
        GStreamer.initialize()
        super.init(retaining: gst_bin_new(name))  // sinks the floating reference: ours
    }

    package override init(retaining pointer: UnsafeMutablePointer<GstElement>) {
        super.init(retaining: pointer)
    }

    /// Adds elements (`gst_bin_add`).
    public func add(_ elements: Element...) throws {
        for element in elements {
            guard gst_bin_add(cast(pointer), element.pointer) != 0 else {
                throw GStreamerError(message: "cannot add \(element.name) to \(name)")
            }
        }
    }

    /// Adds elements and links them in order.
    public func addChain(_ elements: [Element]) throws {
        for element in elements { try add(element) }
        for (upstream, downstream) in zip(elements, elements.dropFirst()) { try upstream.link(downstream) }
    }

    /// Stops a child and takes it out (`GST_STATE_NULL`, `gst_bin_remove`). Its streaming
    /// threads must not be blocked downstream, or this waits for them.
    public func detach(_ element: Element) {
        gst_element_set_state(element.pointer, GST_STATE_NULL)
        gst_bin_remove(cast(pointer), element.pointer)
    }

    /// A child element by name, at any depth (`gst_bin_get_by_name`).
    public func element(named name: String) -> Element? {
        guard let found = gst_bin_get_by_name(cast(pointer), name) else { return nil }
        defer { gst_object_unref(UnsafeMutableRawPointer(found)) }
        return Element(retaining: found)
    }

    /// Shows `pad`, a pad of an element inside, as the bin's own pad `name` (a ghost pad).
    public func expose(_ pad: Pad, as name: String) throws {
        guard let ghost = gst_ghost_pad_new(name, pad.pointer) else {
            throw GStreamerError(source: self.name, message: "cannot expose pad \(pad.name) as \(name)")
        }
        guard gst_pad_set_active(ghost, 1) != 0, gst_element_add_pad(pointer, ghost) != 0 else {
            throw GStreamerError(source: self.name, message: "cannot add pad \(name)")
        }
    }
}

/// An owned `GstPipeline` (Sendable for the reason any ``Element`` is).
public final class Pipeline: Bin, @unchecked Sendable {
    /// An empty pipeline (`gst_pipeline_new`).
    public override init(name: String) {
        GStreamer.initialize()
        super.init(retaining: gst_pipeline_new(name))  // sinks the floating reference: ours
    }

    package override init(retaining pointer: UnsafeMutablePointer<GstElement>) {
        super.init(retaining: pointer)
    }

    deinit {
        gst_element_set_state(pointer, GST_STATE_NULL)
    }

    /// Starts playback; throws if an element refuses at once.
    public func play() throws {
        guard gst_element_set_state(pointer, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE else {
            throw GStreamerError(source: name, message: "the pipeline could not start")
        }
    }

    /// Stops and releases all resources (`GST_STATE_NULL`); waits for streaming threads.
    public func stop() {
        gst_element_set_state(pointer, GST_STATE_NULL)
    }

    /// The current position in nanoseconds, if known.
    public var position: UInt64? {
        var position: gint64 = 0
        guard gst_element_query_position(pointer, GST_FORMAT_TIME, &position) != 0, position >= 0 else { return nil }
        return UInt64(position)
    }

    /// The bus (`gst_element_get_bus`), read by ``BusReader``.
    var bus: UnsafeMutablePointer<GstBus> { gst_element_get_bus(pointer) }
}

/// One clock and base time for several pipelines, so that a buffer's running time means the
/// same moment in all of them (the system clock; the base time is when this was made).
/// Sendable: both are fixed when it is made, and a GstClock is made to be read from any thread.
public final class SharedClock: @unchecked Sendable {
    private let clock: UnsafeMutablePointer<GstClock>
    private let baseTime: GstClockTime

    public init() {
        GStreamer.initialize()
        clock = gst_system_clock_obtain()
        baseTime = gst_clock_get_time(clock)
    }

    deinit {
        gst_object_unref(UnsafeMutableRawPointer(clock))
    }

    /// The running time now, as every pipeline on this clock counts it.
    public var runningTime: UInt64 {
        let now = gst_clock_get_time(clock)
        return now > baseTime ? UInt64(now - baseTime) : 0
    }

    /// Makes `pipeline` run on this clock and base time; call before it starts.
    public func adopt(_ pipeline: Pipeline) {
        gst_pipeline_use_clock(cast(pipeline.pointer), clock)
        gst_element_set_start_time(pipeline.pointer, GstClockTime(clockTimeNone))
        gst_element_set_base_time(pipeline.pointer, baseTime)
    }
}

/// A bus reference handed to the reader's thread. Sendable: a GstBus is made to be popped
/// from any thread.
private struct BusReference: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<GstBus>
}

/// What a pipeline's bus reports that callers act on.
public enum BusMessage {
    case endOfStream
    case error(GStreamerError)
    case warning(GStreamerError)
    /// An element's own message (`GST_MESSAGE_ELEMENT`): its structure's name and, if it
    /// has one, its `location` field (splitmuxsink's `splitmuxsink-fragment-closed`).
    case element(name: String, location: String?)
}

/// Reads a pipeline's bus on a thread of its own and hands messages to a handler there.
public final class BusReader: Sendable {
    private let stopping = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    /// Starts reading at once. Keep the reader alive while the pipeline runs; `stop()` ends it.
    public init(pipeline: Pipeline, handler: @escaping @Sendable (BusMessage) -> Void) {
        let bus = BusReference(pointer: pipeline.bus)  // a reference the thread owns and drops when it ends
        let thread = Thread { [finished, weak self] in
            let mask = GST_MESSAGE_EOS.rawValue | GST_MESSAGE_ERROR.rawValue | GST_MESSAGE_WARNING.rawValue
                | GST_MESSAGE_ELEMENT.rawValue
            while let reader = self, !reader.stopping.withLock({ $0 }) {
                guard let message = gst_bus_timed_pop_filtered(bus.pointer, 100_000_000, GstMessageType(rawValue: mask)) else {
                    continue
                }
                let translated = BusReader.translate(message)
                gst_mini_object_unref(cast(message))
                if let translated { handler(translated) }
            }
            gst_object_unref(UnsafeMutableRawPointer(bus.pointer))
            finished.signal()
        }
        thread.name = "arena.bus"
        thread.start()
    }

    /// Stops reading and waits for the thread to end. Not to be called from the handler.
    public func stop() {
        let first = stopping.withLock { stopping in
            defer { stopping = true }
            return !stopping
        }
        if first { finished.wait() }
    }

    private static func translate(_ message: UnsafeMutablePointer<GstMessage>) -> BusMessage? {
        let source = message.pointee.src.map { objectPath($0) }
        switch message.pointee.type {
        case GST_MESSAGE_EOS:
            return .endOfStream
        case GST_MESSAGE_ERROR, GST_MESSAGE_WARNING:
            var error: UnsafeMutablePointer<GError>?
            let isError = message.pointee.type == GST_MESSAGE_ERROR
            if isError { gst_message_parse_error(message, &error, nil) } else { gst_message_parse_warning(message, &error, nil) }
            let translated = GStreamerError(consuming: error, source: source, fallback: "unknown error")
            return isError ? .error(translated) : .warning(translated)
        case GST_MESSAGE_ELEMENT:
            guard let structure = gst_message_get_structure(message) else { return nil }
            let location = gst_structure_get_string(structure, "location").map { String(cString: $0) }
            return .element(name: String(cString: gst_structure_get_name(structure)), location: location)
        default:
            return nil
        }
    }
}
