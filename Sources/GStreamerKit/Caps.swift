import CGStreamer

/// An owned reference to immutable `GstCaps`.
/// Sendable: caps are never changed once made, and their reference count is atomic.
public final class Caps: @unchecked Sendable {
    package let pointer: UnsafeMutablePointer<GstCaps>

    /// A field value of caps made from values.
    public enum Field: Sendable {
        case int(Int)
        case bool(Bool)
        case string(String)
        case fraction(Int, Int)
        /// Any one of these strings (a GStreamer list).
        case strings([String])
        /// Bytes, as a `GstBuffer` (codec data, a key).
        case bytes([UInt8])
    }

    /// Caps of one structure, `mediaType` with `fields`, built from values (no text is parsed,
    /// so a value cannot add fields of its own).
    public convenience init(mediaType: String, _ fields: KeyValuePairs<String, Field>) throws {
        try self.init(mediaType: mediaType, fields: fields.map { ($0.key, $0.value) })
    }

    /// As `init(mediaType:_:)`, the fields in a list built at run time.
    public init(mediaType: String, fields: [(String, Field)]) throws {
        GStreamer.initialize()
        let caps = gst_caps_new_empty_simple(mediaType)!
        pointer = caps
        guard let structure = gst_caps_get_structure(caps, 0) else { throw GStreamerError(message: "invalid caps type \(mediaType)") }
        for (name, field) in fields {
            var value = GValue()
            switch field {
            case .int(let number):
                guard let small = Int32(exactly: number) else { throw GStreamerError(message: "caps field \(name) is out of range") }
                g_value_init(&value, GType(6 << 2))  // G_TYPE_INT
                g_value_set_int(&value, small)
            case .bool(let flag):
                g_value_init(&value, GType(5 << 2))  // G_TYPE_BOOLEAN
                g_value_set_boolean(&value, flag ? 1 : 0)
            case .string(let text):
                g_value_init(&value, GType(16 << 2))  // G_TYPE_STRING
                g_value_set_string(&value, text)
            case .fraction(let numerator, let denominator):
                guard let top = Int32(exactly: numerator), let bottom = Int32(exactly: denominator), bottom > 0 else {
                    throw GStreamerError(message: "caps field \(name) is not a valid fraction")
                }
                g_value_init(&value, gst_fraction_get_type())
                gst_value_set_fraction(&value, top, bottom)
            case .strings(let texts):
                g_value_init(&value, gst_value_list_get_type())
                for text in texts {
                    var item = GValue()
                    g_value_init(&item, GType(16 << 2))  // G_TYPE_STRING
                    g_value_set_string(&item, text)
                    gst_value_list_append_and_take_value(&value, &item)
                }
            case .bytes(let bytes):
                g_value_init(&value, gst_buffer_get_type())
                let buffer = bytes.withUnsafeBytes { gst_buffer_new_memdup($0.baseAddress, gsize($0.count)) }
                g_value_take_boxed(&value, buffer)
            }
            gst_structure_take_value(structure, name, &value)  // takes the value's contents
        }
    }

    package init(retaining pointer: UnsafeMutablePointer<GstCaps>) {
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
