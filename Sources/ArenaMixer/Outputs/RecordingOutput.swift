import GStreamerKit

/// A recording: MP4 or Matroska segments of `segmentSeconds` through splitmuxsink, each
/// written under its hidden partial name (see ``RecordingFiles``) and renamed when closed.
/// Each buffer is written through at once (no buffering in the process), so that a process
/// killed mid-segment leaves everything up to its last frame in the file.
enum RecordingOutput {
    static func build(_ streams: OutputStreams, files: RecordingFiles, segmentSeconds: Int, firstIndex: Int) throws {
        let file = try Element(factory: "filesink", name: "segment-file", ["buffer-mode": .nick("unbuffered")])
        let muxer = try Element(factory: "splitmuxsink", name: "segments", [
            "muxer-factory": .string(files.suffix.lowercased() == "mkv" ? "matroskamux" : "mp4mux"),
            "max-size-time": .uint64(UInt64(segmentSeconds) * nanosecondsPerSecond),
            "async-finalize": .bool(false),
            "start-index": .int32(Int32(clamping: firstIndex)),
            "sink": .element(file),
        ])
        muxer.onFormatLocation { index in files.partialPath(index) }
        try streams.pipeline.add(muxer)
        try streams.queued(streams.video, name: "video-queue").staticPad("src").link(try muxer.requestPad("video"))
        try streams.queued(streams.audio, name: "audio-queue").staticPad("src").link(try muxer.requestPad("audio_%u"))
    }
}
