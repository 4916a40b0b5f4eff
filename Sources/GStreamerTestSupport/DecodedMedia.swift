import CGStreamer
import Foundation
import GStreamerKit
import Synchronization

/// One decoded picture as 8-bit RGB with a padding byte (`RGBx`), rows `width * 4` bytes apart.
public struct RGBFrame: Sendable {
    /// Position in the stream, from 0.
    public let index: Int
    /// Presentation time in nanoseconds.
    public let pts: UInt64
    public let width: Int
    public let height: Int
    public let bytes: [UInt8]

    /// The colour at (`x`, `y`).
    public func rgb(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8) {
        let offset = (y * width + x) * 4
        return (bytes[offset], bytes[offset + 1], bytes[offset + 2])
    }
}

/// Decodes the video stream of a media file, frame by frame.
public enum VideoFrames {
    /// Decodes every frame of `path` as fast as possible, returning how many there were
    /// and a copy of those that `keep` selects (by index). Throws on a decoding error.
    public static func decode(path: String, keep: (Int) -> Bool = { _ in false }) throws -> (count: Int, kept: [RGBFrame]) {
        var count = 0
        var kept: [RGBFrame] = []
        try pullSamples(path: path, chain: try rawChain(try Caps(mediaType: "video/x-raw", ["format": .string("RGBx")]))) { sample in
            if keep(count), let frame = copyFrame(sample, index: count) { kept.append(frame) }
            count += 1
        }
        return (count, kept)
    }

    /// Decodes every frame of `path`, handing each to `body` and keeping none (a long file).
    public static func forEach(path: String, _ body: (RGBFrame) -> Void) throws {
        var count = 0
        try pullSamples(path: path, chain: try rawChain(try Caps(mediaType: "video/x-raw", ["format": .string("RGBx")]))) { sample in
            if let frame = copyFrame(sample, index: count) { body(frame) }
            count += 1
        }
    }

    private static func copyFrame(_ sample: Sample, index: Int) -> RGBFrame? {
        guard let buffer = gst_sample_get_buffer(sample.pointer), let capsPointer = gst_sample_get_caps(sample.pointer) else { return nil }
        let caps = Caps(retaining: capsPointer)
        guard let width = caps.int("width"), let height = caps.int("height") else { return nil }
        var map = GstMapInfo()
        guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return nil }
        defer { gst_buffer_unmap(buffer, &map) }
        let bytes = Array(UnsafeBufferPointer(start: map.data, count: min(Int(map.size), width * height * 4)))
        return RGBFrame(index: index, pts: UInt64(buffer.pointee.pts), width: width, height: height, bytes: bytes)
    }
}

/// Decodes the audio stream of a media file.
public enum AudioSamples {
    /// Every sample of `path`'s audio, mixed to mono, as floats at `sampleRate`.
    public static func decode(path: String, sampleRate: Int = 8000) throws -> [Float] {
        try decodeTimed(path: path, sampleRate: sampleRate).samples
    }

    /// As `decode`, with the time of the first sample in seconds (its presentation time).
    public static func decodeTimed(path: String, sampleRate: Int = 8000) throws -> (start: Double, samples: [Float]) {
        var samples: [Float] = []
        var start: Double?
        let caps = try Caps(mediaType: "audio/x-raw", ["format": .string("F32LE"), "channels": .int(1), "rate": .int(sampleRate)])
        try pullSamples(path: path, chain: try rawChain(caps, audio: true), audio: true) { sample in
            guard let buffer = gst_sample_get_buffer(sample.pointer) else { return }
            if start == nil, buffer.pointee.pts != UInt64.max { start = Double(buffer.pointee.pts) / 1e9 }
            var map = GstMapInfo()
            guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return }
            defer { gst_buffer_unmap(buffer, &map) }
            UnsafeRawBufferPointer(start: map.data, count: Int(map.size)).withMemoryRebound(to: Float.self) { samples += $0 }
        }
        return (start ?? 0, samples)
    }
}

/// A pipeline from a `gst-launch-1.0` description (`gst_parse_launch`), for tests that make
/// their own media from constant text. Arena itself builds every pipeline from elements.
extension Pipeline {
    public convenience init(launch description: String) throws {
        GStreamer.initialize()
        var error: UnsafeMutablePointer<GError>?
        let parsed = gst_parse_launch(description, &error)
        if let error {
            defer { g_error_free(error) }
            if let parsed { gst_object_unref(UnsafeMutableRawPointer(parsed)) }
            throw GStreamerError(message: "cannot parse pipeline: \(String(cString: error.pointee.message))")
        }
        guard let parsed else { throw GStreamerError(message: "cannot parse pipeline: \(description)") }
        self.init(retaining: parsed)
    }

    /// Plays until end-of-stream; the first error, or the time limit, stops it and throws.
    public func runToEnd(timeLimit: TimeInterval) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<GStreamerError?>(nil)
        let reader = BusReader(pipeline: self) { message in
            switch message {
            case .endOfStream:
                done.signal()
            case .error(let error):
                failure.withLock { $0 = error }
                done.signal()
            case .warning, .element:
                break
            }
        }
        defer {
            reader.stop()
            stop()
        }
        try play()
        if done.wait(timeout: .now() + timeLimit) == .timedOut {
            throw GStreamerError(source: name, message: "did not finish within \(Int(timeLimit)) s")
        }
        if let failure = failure.withLock({ $0 }) { throw failure }
    }
}

/// How many SSRCs an srtpdec keeps a stream for (the `streams` of its `stats`).
public func srtpStreamCount(_ srtpdec: Element) -> Int {
    var value = GValue()
    g_value_init(&value, gst_structure_get_type())
    defer { g_value_unset(&value) }
    g_object_get_property(UnsafeMutablePointer<GObject>(OpaquePointer(srtpdec.pointer)), "stats", &value)
    guard let stats = gst_value_get_structure(&value), let streams = gst_structure_get_value(stats, "streams") else { return 0 }
    return Int(gst_value_array_get_size(streams))
}
