import GStreamerKit

/// RTMP: FLV to a server through rtmp2sink; the URL (stream key included) is a property.
enum RTMPOutput {
    static func build(_ streams: OutputStreams, url: String) throws {
        let muxer = try Element(factory: "flvmux", name: "mux", ["streamable": .bool(true)])
        let sink = try Element(factory: "rtmp2sink", name: "rtmp", [
            "location": .string(url), "sync": .bool(false), "async": .bool(false),
        ])
        try streams.pipeline.addChain([muxer, sink])
        try streams.queued(streams.video, name: "video-queue").staticPad("src").link(try muxer.requestPad("video"))
        try streams.queued(streams.audio, name: "audio-queue").staticPad("src").link(try muxer.requestPad("audio"))
    }
}
