import CGStreamer
import Foundation

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
        try pullSamples(path: path, branch: "videoconvert ! video/x-raw,format=RGBx") { sample in
            if keep(count), let frame = copyFrame(sample, index: count) { kept.append(frame) }
            count += 1
        }
        return (count, kept)
    }

    private static func copyFrame(_ sample: OpaquePointer, index: Int) -> RGBFrame? {
        guard let buffer = gst_sample_get_buffer(sample), let capsPointer = gst_sample_get_caps(sample) else { return nil }
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
        var samples: [Float] = []
        try pullSamples(path: path, branch: "audioconvert ! audioresample ! audio/x-raw,format=F32LE,channels=1,rate=\(sampleRate)") { sample in
            guard let buffer = gst_sample_get_buffer(sample) else { return }
            var map = GstMapInfo()
            guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0 else { return }
            defer { gst_buffer_unmap(buffer, &map) }
            UnsafeRawBufferPointer(start: map.data, count: Int(map.size)).withMemoryRebound(to: Float.self) { samples += $0 }
        }
        return samples
    }
}

/// Decodes `path` through `branch` (a gst-launch fragment ending in raw caps) into an appsink,
/// handing each sample to `handle` on this thread; throws on a decoding error.
private func pullSamples(path: String, branch: String, _ handle: (OpaquePointer) -> Void) throws {
    let uri = URL(fileURLWithPath: path).absoluteString
    let pipeline = try Pipeline(description: "uridecodebin uri=\"\(uri)\" ! \(branch) ! appsink name=samples sync=false")
    guard let sink = pipeline.element(named: "samples") else { throw GStreamerError(message: "no appsink") }
    let appSink = UnsafeMutablePointer<GstAppSink>(OpaquePointer(sink.pointer))
    var failure: GStreamerError?
    let lock = NSLock()
    let reader = BusReader(pipeline: pipeline) { message in
        if case .error(let error) = message {
            lock.lock()
            failure = failure ?? error
            lock.unlock()
        }
    }
    defer {
        pipeline.stop()
        reader.stop()
    }
    try pipeline.play()
    while true {
        guard let sample = gst_app_sink_try_pull_sample(appSink, 200_000_000) else {
            if gst_app_sink_is_eos(appSink) != 0 { break }
            lock.lock()
            let error = failure
            lock.unlock()
            if let error { throw error }
            continue
        }
        defer { gst_mini_object_unref(UnsafeMutablePointer<GstMiniObject>(sample)) }
        handle(sample)
    }
    lock.lock()
    defer { lock.unlock() }
    if let failure { throw failure }
}

/// Decodes a still image (PNG, JPEG, anything GStreamer reads) to premultiplied ARGB.
public enum StillImage {
    /// The first picture of `path` as (width, height, pixels), pixels premultiplied
    /// `0xAARRGGBB` in native order. Throws if it is not a picture or is larger than `maxSide`.
    public static func decode(path: String, maxSide: Int = 4096) throws -> (width: Int, height: Int, pixels: [UInt32]) {
        var result: (Int, Int, [UInt32])?
        try pullSamples(path: path, branch: "videoconvert ! video/x-raw,format=BGRA") { sample in
            guard result == nil, let buffer = gst_sample_get_buffer(sample), let capsPointer = gst_sample_get_caps(sample) else { return }
            let caps = Caps(retaining: capsPointer)
            guard let width = caps.int("width"), let height = caps.int("height"), width <= maxSide, height <= maxSide else { return }
            var map = GstMapInfo()
            guard gst_buffer_map(buffer, &map, GST_MAP_READ) != 0, Int(map.size) >= width * height * 4 else { return }
            defer { gst_buffer_unmap(buffer, &map) }
            let source = UnsafeRawPointer(map.data!).assumingMemoryBound(to: UInt32.self)
            result = (width, height, (0..<width * height).map { premultiplied(source[$0]) })
        }
        guard let result else { throw GStreamerError(message: "not a picture of at most \(maxSide) x \(maxSide) pixels") }
        return result
    }

    private static func premultiplied(_ pixel: UInt32) -> UInt32 {
        let alpha = pixel >> 24
        guard alpha < 255 else { return pixel }
        func scale(_ shift: UInt32) -> UInt32 { ((pixel >> shift & 0xFF) * alpha + 127) / 255 << shift }
        return alpha << 24 | scale(16) | scale(8) | scale(0)
    }
}
