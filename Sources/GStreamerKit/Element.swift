import CGStreamer

/// An owned reference to a `GstElement`; `deinit` drops it.
/// Sendable: GStreamer objects are reference-counted atomically and lock their own state.
public class Element: PropertySettable, @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<GstElement>

    /// Makes an element from a factory (`gst_element_factory_make`).
    public init(factory: String, name: String? = nil) throws {
        GStreamer.initialize()
        guard let made = gst_element_factory_make(factory, name) else {
            throw GStreamerError(message: "GStreamer element '\(factory)' is not installed")
        }
        pointer = made
        gst_object_ref_sink(UnsafeMutableRawPointer(made))
    }

    /// Makes an element and sets its properties, each checked (see ``PropertyValue``).
    public convenience init(factory: String, name: String? = nil, _ properties: KeyValuePairs<String, PropertyValue>) throws {
        try self.init(factory: factory, name: name)
        for (property, value) in properties { try set(property, value) }
    }

    /// Wraps a pointer: takes over a floating reference, or adds one of our own.
    package init(retaining pointer: UnsafeMutablePointer<GstElement>) {
        self.pointer = pointer
        gst_object_ref_sink(UnsafeMutableRawPointer(pointer))
    }

    deinit {
        gst_object_unref(UnsafeMutableRawPointer(pointer))
    }

    /// The element's name.
    public var name: String { objectName(cast(pointer)) }

    /// The name of the factory that made the element (`avdec_h264`), if known.
    public var factoryName: String? {
        guard let factory = gst_element_get_factory(pointer) else { return nil }
        return objectName(UnsafeMutablePointer<GstObject>(factory))  // a factory is a named GstObject
    }

    /// Brings the element to its parent's state (`gst_element_sync_state_with_parent`), for
    /// elements added to a running pipeline.
    public func syncStateWithParent() throws {
        guard gst_element_sync_state_with_parent(pointer) != 0 else {
            throw GStreamerError(source: name, message: "could not take its parent's state")
        }
    }

    // MARK: Properties (checked: see PropertyValue)

    /// Sets a property; throws if the element has no such property or it has another type or range.
    public func set(_ property: String, _ value: PropertyValue) throws {
        try setProperty(of: UnsafeMutableRawPointer(pointer), owner: name, property, value)
    }

    // MARK: Pads and links

    /// Links this element's src to `next`'s sink (`gst_element_link`).
    public func link(_ next: Element) throws {
        guard gst_element_link(pointer, next.pointer) != 0 else {
            throw GStreamerError(message: "cannot link \(name) to \(next.name)")
        }
    }

    /// An always pad (`gst_element_get_static_pad`).
    public func staticPad(_ name: String) throws -> Pad {
        guard let pad = gst_element_get_static_pad(pointer, name) else {
            throw GStreamerError(message: "\(self.name) has no pad '\(name)'")
        }
        return Pad(owning: pad)
    }

    /// A request pad from a template such as `sink_%u` (`gst_element_request_pad_simple`).
    public func requestPad(_ template: String) throws -> Pad {
        guard let pad = gst_element_request_pad_simple(pointer, template) else {
            throw GStreamerError(message: "\(name) gave no request pad for '\(template)'")
        }
        return Pad(owning: pad)
    }

    // MARK: Signals

    /// `pad-added`, emitted on a streaming thread when a dynamic pad appears.
    public func onPadAdded(_ handler: @escaping @Sendable (Pad) -> Void) {
        onPadSignal("pad-added", handler)
    }

    /// `pad-removed`, emitted when a dynamic pad goes (it is unlinked by then).
    public func onPadRemoved(_ handler: @escaping @Sendable (Pad) -> Void) {
        onPadSignal("pad-removed", handler)
    }

    private func onPadSignal(_ signal: String, _ handler: @escaping @Sendable (Pad) -> Void) {
        let thunk: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GstPad>?, gpointer?) -> Void = {
            _, pad, data in
            guard let pad, let data else { return }
            Unmanaged<CallbackBox<@Sendable (Pad) -> Void>>.fromOpaque(data).takeUnretainedValue().value(Pad(retaining: pad))
        }
        connectSignal(signal, handler, thunk: unsafeBitCast(thunk, to: GCallback.self))
    }

    /// Gives back a pad `requestPad` made (`gst_element_release_request_pad`).
    public func releaseRequestPad(_ pad: Pad) {
        gst_element_release_request_pad(pointer, pad.pointer)
    }

    /// For a decodebin: links its first decoded video pad to `video` and its first decoded audio
    /// pad to `audio` as they appear; other streams stay unlinked.
    public func linkDecodedStreams(video: Pad?, audio: Pad?) {
        onPadAdded { pad in
            switch pad.mediaType {
            case "video/x-raw" where video.map({ !$0.isLinked }) == true: try? pad.link(video!)
            case "audio/x-raw" where audio.map({ !$0.isLinked }) == true: try? pad.link(audio!)
            default: break
            }
        }
    }

    /// A bin's `deep-element-added`: an element was added anywhere inside it (decodebin's
    /// decoders, say), on whichever thread added it, before it starts.
    public func onDeepElementAdded(_ handler: @escaping @Sendable (Element) -> Void) {
        let thunk: @convention(c) (UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GstElement>?,
                                   UnsafeMutablePointer<GstElement>?, gpointer?) -> Void = { _, _, element, data in
            guard let element, let data else { return }
            Unmanaged<CallbackBox<@Sendable (Element) -> Void>>.fromOpaque(data).takeUnretainedValue().value(Element(retaining: element))
        }
        connectSignal("deep-element-added", handler, thunk: unsafeBitCast(thunk, to: GCallback.self))
    }

    /// An aggregator's `samples-selected`: inputs are staged for the output buffer at `pts`,
    /// and pad properties set now apply to that very buffer. Needs `emit-signals` on.
    public func onSamplesSelected(_ handler: @escaping @Sendable (_ pts: UInt64) -> Void) {
        let thunk: @convention(c) (
            UnsafeMutablePointer<GstElement>?, UnsafeMutablePointer<GstSegment>?, UInt64, UInt64, UInt64,
            UnsafeMutablePointer<GstStructure>?, gpointer?
        ) -> Void = { _, _, pts, _, _, _, data in
            guard let data else { return }
            Unmanaged<CallbackBox<@Sendable (UInt64) -> Void>>.fromOpaque(data).takeUnretainedValue().value(pts)
        }
        connectSignal("samples-selected", handler, thunk: unsafeBitCast(thunk, to: GCallback.self))
    }

    /// splitmuxsink's `format-location`: the file name for fragment `index`.
    public func onFormatLocation(_ handler: @escaping @Sendable (_ index: Int) -> String) {
        let thunk: @convention(c) (UnsafeMutablePointer<GstElement>?, guint, gpointer?) -> UnsafeMutablePointer<gchar>? = { _, index, data in
            guard let data else { return nil }
            let name = Unmanaged<CallbackBox<@Sendable (Int) -> String>>.fromOpaque(data).takeUnretainedValue().value(Int(index))
            return g_strdup(name)
        }
        connectSignal("format-location", handler, thunk: unsafeBitCast(thunk, to: GCallback.self))
    }

    /// Connects `thunk` with a retained box as user data; GLib's destroy notify releases the
    /// box when the handler is disconnected or the element is finalized, so it cannot leak
    /// or outlive the element. Handlers should capture Swift owners weakly.
    private func connectSignal<Handler>(_ signal: String, _ handler: Handler, thunk: GCallback) {
        let box = Unmanaged.passRetained(CallbackBox(handler)).toOpaque()
        g_signal_connect_data(pointer, signal, thunk, box, { data, _ in
            guard let data else { return }
            Unmanaged<AnyObject>.fromOpaque(data).release()
        }, GConnectFlags(rawValue: 0))
    }
}

/// Holds a Swift closure for a C callback's user data.
final class CallbackBox<Value> {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// `gst_object_get_name` as a Swift string.
func objectName(_ object: UnsafeMutablePointer<GstObject>) -> String {
    guard let name = gst_object_get_name(object) else { return "" }
    defer { g_free(name) }
    return String(cString: name)
}

/// `gst_object_get_path_string`: `/pipeline0/bin/element`.
func objectPath(_ object: UnsafeMutablePointer<GstObject>) -> String {
    guard let path = gst_object_get_path_string(object) else { return "" }
    defer { g_free(path) }
    return String(cString: path)
}
