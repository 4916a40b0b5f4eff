import CGStreamer
import Foundation
import Synchronization

/// Decodes `path` through `chain` (converters ending in a capsfilter) into an appsink,
/// handing each sample to `handle` on this thread; throws on a decoding error.
package func pullSamples(path: String, chain: [Element], audio: Bool = false, _ handle: (Sample) -> Void) throws {
    let pipeline = Pipeline(name: "decode")
    let decoder = try Element(factory: "uridecodebin", name: "decoder", ["uri": .string(URL(fileURLWithPath: path).absoluteString)])
    // The other kind of stream goes to a fakesink: left unlinked, it could reach the demuxer
    // first and stop it (not-linked).
    let discard = try Element(factory: "fakesink", name: "discard", ["sync": .bool(false), "async": .bool(false)])
    try pipeline.add(discard)
    let sink = try Element(factory: "appsink", name: "samples", ["sync": .bool(false)])
    try pipeline.add(decoder)
    try pipeline.addChain(chain + [sink])
    let inlet = try chain[0].staticPad("sink")
    let other = try discard.staticPad("sink")
    decoder.linkDecodedStreams(video: audio ? other : inlet, audio: audio ? inlet : other)
    let appSink = UnsafeMutablePointer<GstAppSink>(OpaquePointer(sink.pointer))
    let failure = Mutex<GStreamerError?>(nil)
    let reader = BusReader(pipeline: pipeline) { message in
        if case .error(let error) = message { failure.withLock { $0 = $0 ?? error } }
    }
    defer {
        pipeline.stop()
        reader.stop()
    }
    try pipeline.play()
    while true {
        guard let sample = gst_app_sink_try_pull_sample(appSink, 200_000_000) else {
            if gst_app_sink_is_eos(appSink) != 0 { break }
            if let error = failure.withLock({ $0 }) { throw error }
            continue
        }
        handle(Sample(adopting: sample))
    }
    if let error = failure.withLock({ $0 }) { throw error }
}

/// A converter chain to raw `format` video (or audio, with `audio`), ending in a capsfilter.
package func rawChain(_ caps: Caps, audio: Bool = false) throws -> [Element] {
    let converters = audio ? [try Element(factory: "audioconvert"), try Element(factory: "audioresample")] : [try Element(factory: "videoconvert")]
    return converters + [try Element(factory: "capsfilter", ["caps": .caps(caps)])]
}

/// Decodes a still image (PNG, JPEG, anything GStreamer reads) to premultiplied ARGB.
public enum StillImage {
    /// The first picture of `path` as (width, height, pixels), pixels premultiplied
    /// `0xAARRGGBB` in native order. Throws if it is not a picture or is larger than `maxSide`.
    public static func decode(path: String, maxSide: Int = 4096) throws -> (width: Int, height: Int, pixels: [UInt32]) {
        var result: (Int, Int, [UInt32])?
        let chain = try rawChain(try Caps(mediaType: "video/x-raw", ["format": .string("BGRA")]))
        try pullSamples(path: path, chain: chain) { sample in
            guard result == nil, let buffer = gst_sample_get_buffer(sample.pointer), let capsPointer = gst_sample_get_caps(sample.pointer) else { return }
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
