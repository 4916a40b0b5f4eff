import CGStreamer

/// A value for a GObject property, with the exact C type the property must have.
///
/// Properties are set through a `GValue` of the property's own type (`g_object_set_property`),
/// never through C varargs: a value of another type, out of the property's range, or a name
/// the object does not have is a thrown error, not a silent no-op or undefined behaviour.
public enum PropertyValue: Sendable {
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case double(Double)
    case bool(Bool)
    case string(String)
    /// An enum or flags property by its nick (`speed-preset` = `veryfast`; flags as `a+b`).
    case nick(String)
    case caps(Caps)
    /// An element (a bin's `sink`, say); the property takes a reference of its own.
    case element(Element)
    /// A pad (an input-selector's `active-pad`); the property takes a reference of its own.
    case pad(Pad)
    /// Bytes as a `GstBuffer` (srtpenc's `key`); never repeated in an error message.
    case bytes([UInt8])
}

/// GLib's fundamental type numbers (`G_TYPE_MAKE_FUNDAMENTAL`, a macro Swift cannot import).
private enum Fundamental: Int {
    case boolean = 5, int = 6, uint = 7, int64 = 10, uint64 = 11, enumeration = 12, flags = 13, double = 15, string = 16, boxed = 18

    var type: GType { GType(rawValue << 2) }
}

/// Sets `property` of the GObject at `object` (named `owner` in errors) to `value`.
func setProperty(of object: UnsafeMutableRawPointer, owner: String, _ property: String, _ value: PropertyValue) throws {
    let instance = object.assumingMemoryBound(to: GTypeInstance.self)
    let objectClass = UnsafeMutablePointer<GObjectClass>(OpaquePointer(instance.pointee.g_class))
    guard let spec = g_object_class_find_property(objectClass, property) else {
        throw GStreamerError(source: owner, message: "has no property '\(property)'")
    }
    guard spec.pointee.flags.rawValue & G_PARAM_WRITABLE.rawValue != 0 else {
        throw GStreamerError(source: owner, message: "property '\(property)' cannot be written")
    }
    let type = spec.pointee.value_type
    let typeName = String(cString: g_type_name(type))
    var gvalue = GValue()
    g_value_init(&gvalue, type)
    defer { g_value_unset(&gvalue) }
    func expect(_ fundamental: Fundamental, _ swiftType: String) throws {
        guard g_type_fundamental(type) == fundamental.type else {
            throw GStreamerError(source: owner, message: "property '\(property)' is a \(typeName), not \(swiftType)")
        }
    }
    switch value {
    case .int32(let number): try expect(.int, "an Int32"); g_value_set_int(&gvalue, number)
    case .uint32(let number): try expect(.uint, "a UInt32"); g_value_set_uint(&gvalue, number)
    case .int64(let number): try expect(.int64, "an Int64"); g_value_set_int64(&gvalue, gint64(number))
    case .uint64(let number): try expect(.uint64, "a UInt64"); g_value_set_uint64(&gvalue, guint64(number))
    case .double(let number): try expect(.double, "a Double"); g_value_set_double(&gvalue, number)
    case .bool(let flag): try expect(.boolean, "a Bool"); g_value_set_boolean(&gvalue, flag ? 1 : 0)
    case .string(let text): try expect(.string, "a String"); g_value_set_string(&gvalue, text)
    case .caps(let caps):
        guard g_type_is_a(type, gst_caps_get_type()) != 0 else {
            throw GStreamerError(source: owner, message: "property '\(property)' is a \(typeName), not caps")
        }
        g_value_set_boxed(&gvalue, UnsafeRawPointer(caps.pointer))
    case .element(let element):
        guard g_type_is_a(type, gst_element_get_type()) != 0 else {
            throw GStreamerError(source: owner, message: "property '\(property)' is a \(typeName), not an element")
        }
        g_value_set_object(&gvalue, UnsafeMutableRawPointer(element.pointer))
    case .pad(let pad):
        guard g_type_is_a(type, gst_pad_get_type()) != 0 else {
            throw GStreamerError(source: owner, message: "property '\(property)' is a \(typeName), not a pad")
        }
        g_value_set_object(&gvalue, UnsafeMutableRawPointer(pad.pointer))
    case .bytes(let bytes):
        guard g_type_is_a(type, gst_buffer_get_type()) != 0 else {
            throw GStreamerError(source: owner, message: "property '\(property)' is a \(typeName), not a buffer")
        }
        g_value_take_boxed(&gvalue, bytes.withUnsafeBytes { gst_buffer_new_memdup($0.baseAddress, gsize($0.count)) })
    case .nick(let nick):
        let fundamental = g_type_fundamental(type)
        guard fundamental == Fundamental.enumeration.type || fundamental == Fundamental.flags.type else {
            throw GStreamerError(source: owner, message: "property '\(property)' is a \(typeName), not an enum")
        }
        guard gst_value_deserialize(&gvalue, nick) != 0 else {
            throw GStreamerError(source: owner, message: "property '\(property)' has no value '\(nick)'")
        }
    }
    // Clamps the value into the property's range and says whether it had to.
    guard g_param_value_validate(spec, &gvalue) == 0 else {
        if case .bytes = value { throw GStreamerError(source: owner, message: "property '\(property)' cannot be these bytes") }
        throw GStreamerError(source: owner, message: "property '\(property)' cannot be \(value)")
    }
    g_object_set_property(UnsafeMutablePointer<GObject>(OpaquePointer(object)), property, &gvalue)
}

/// Something with GObject properties (an element, a pad): typed setters over ``PropertyValue``.
public protocol PropertySettable {
    /// Sets a property; throws if there is no such property or it has another type or range.
    func set(_ property: String, _ value: PropertyValue) throws
}

extension PropertySettable {
    public func set(_ property: String, _ value: Int32) throws { try set(property, .int32(value)) }
    public func set(_ property: String, _ value: UInt32) throws { try set(property, .uint32(value)) }
    public func set(_ property: String, _ value: Int64) throws { try set(property, .int64(value)) }
    public func set(_ property: String, _ value: UInt64) throws { try set(property, .uint64(value)) }
    public func set(_ property: String, _ value: Double) throws { try set(property, .double(value)) }
    public func set(_ property: String, _ value: Bool) throws { try set(property, .bool(value)) }
    public func set(_ property: String, _ value: String) throws { try set(property, .string(value)) }
    public func set(_ property: String, _ caps: Caps) throws { try set(property, .caps(caps)) }
    /// Sets an enum or flags property by its nick.
    public func set(_ property: String, nick: String) throws { try set(property, .nick(nick)) }
}
