import CArenaDecoder
import CGStreamer

/// Process-wide GStreamer set-up.
public enum GStreamer {
    private static let initialized: Bool = {
        gst_init(nil, nil)
        // decodebin then decodes H.264 and H.265 with arenavideodec (no copy of each picture).
        _ = arena_video_decoder_register()
        return true
    }()

    /// Calls `gst_init` once per process and registers Arena's own elements; every wrapper
    /// calls it before touching GStreamer.
    public static func initialize() {
        _ = initialized
    }
}

/// A GStreamer failure with the element it came from, in words a user can act on.
public struct GStreamerError: Error, CustomStringConvertible, Sendable {
    /// Path of the element that reported it (`pipeline0/input-alice/qtdemux0`), if known.
    public let source: String?
    public let message: String

    public init(source: String? = nil, message: String) {
        self.source = source
        self.message = message
    }

    /// Takes ownership of a `GError` and frees it.
    init(consuming error: UnsafeMutablePointer<GError>?, source: String? = nil, fallback: String) {
        if let error {
            self.init(source: source, message: String(cString: error.pointee.message))
            g_error_free(error)
        } else {
            self.init(source: source, message: fallback)
        }
    }

    public var description: String {
        if let source { return "\(source): \(message)" }
        return message
    }
}

/// Runs a C call that reports failure through a `GError**`, turning it into a thrown error.
func withGError<T>(_ what: String, _ body: (UnsafeMutablePointer<UnsafeMutablePointer<GError>?>) -> T?) throws -> T {
    var error: UnsafeMutablePointer<GError>?
    let result = body(&error)
    if let error {
        throw GStreamerError(consuming: error, fallback: what)
    }
    guard let result else { throw GStreamerError(message: what) }
    return result
}

/// Casts between GObject "subclass" pointers (C struct inheritance).
@inline(__always)
func cast<T, U>(_ pointer: UnsafeMutablePointer<T>, to: U.Type = U.self) -> UnsafeMutablePointer<U> {
    UnsafeMutablePointer<U>(OpaquePointer(pointer))
}

/// Nanoseconds per second, GStreamer's `GST_SECOND`.
public let nanosecondsPerSecond: UInt64 = 1_000_000_000

/// `GST_CLOCK_TIME_NONE`.
public let clockTimeNone: UInt64 = UInt64.max
