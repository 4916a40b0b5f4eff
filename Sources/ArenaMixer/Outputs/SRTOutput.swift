import GStreamerKit

/// MPEG-TS over SRT through srtsink; the URI (mode, passphrase) is a property.
enum SRTOutput {
    static func build(_ streams: OutputStreams, uri: String) throws {
        let muxer = try Element(factory: "mpegtsmux", name: "mux", ["alignment": .int32(7)])
        let sink = try Element(factory: "srtsink", name: "srt", [
            "uri": .string(uri), "wait-for-connection": .bool(false), "sync": .bool(false), "async": .bool(false),
        ])
        try streams.pipeline.addChain([muxer, sink])
        try streams.queued(streams.video, name: "video-queue").link(muxer)
        try streams.queued(streams.audio, name: "audio-queue").link(muxer)
    }
}
