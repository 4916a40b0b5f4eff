import GStreamerKit

/// RTP over UDP: H.264 (payload type 96) to `videoPort`, AAC (97) or Opus (111) to `audioPort`.
enum RTPOutput {
    static func build(_ streams: OutputStreams, host: String, videoPort: Int, audioPort: Int) throws {
        func socket(_ name: String, port: Int) throws -> Element {
            try Element(factory: "udpsink", name: name, [
                "host": .string(host), "port": .int32(Int32(port)), "sync": .bool(false), "async": .bool(false),
            ])
        }
        let videoPayloader = try Element(factory: "rtph264pay", name: "video-payloader", [
            "pt": .uint32(96), "config-interval": .int32(-1),
        ])
        let audioPayloader = streams.audioCodec == .aac
            ? try Element(factory: "rtpmp4gpay", name: "audio-payloader", ["pt": .uint32(97)])
            : try Element(factory: "rtpopuspay", name: "audio-payloader", ["pt": .uint32(111)])
        let videoChain = [videoPayloader, try socket("video-socket", port: videoPort)]
        let audioChain = [audioPayloader, try socket("audio-socket", port: audioPort)]
        try streams.pipeline.addChain(videoChain)
        try streams.pipeline.addChain(audioChain)
        try streams.video.link(videoPayloader)
        try streams.audio.link(audioPayloader)
    }
}
