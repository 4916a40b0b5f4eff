import GStreamerKit

/// HLS: keyframe-aligned MPEG-TS segments and a playlist in `folder`, through hlssink2.
/// `folder` is a ``PinnedFolder``'s path (`/proc/self/fd/N`): no `%` in it, since hlssink2
/// takes its segment location as a printf pattern.
enum HLSOutput {
    static func build(_ streams: OutputStreams, folder: String, segmentSeconds: Int, playlistLength: Int) throws {
        let sink = try Element(factory: "hlssink2", name: "hls", [
            "location": .string(folder + "/segment%05d.ts"),
            "playlist-location": .string(folder + "/playlist.m3u8"),
            "target-duration": .uint32(UInt32(segmentSeconds)),
            "playlist-length": .uint32(UInt32(playlistLength)),
            "max-files": .uint32(UInt32(max(playlistLength, 1) * 2)),
        ])
        try streams.pipeline.add(sink)
        try streams.queued(streams.video, name: "video-queue").staticPad("src").link(try sink.requestPad("video"))
        try streams.queued(streams.audio, name: "audio-queue").staticPad("src").link(try sink.requestPad("audio"))
    }
}
