import CGStreamer

/// What a media file or URI holds, from `GstDiscoverer`.
public struct MediaInfo: Sendable {
    public struct VideoStream: Sendable {
        /// Caps media type of the stream as stored, e.g. `video/x-h264`.
        public let codec: String
        public let width: Int
        public let height: Int
        /// Frames per second (0 when variable or unknown).
        public let frameRate: Double
    }

    public struct AudioStream: Sendable {
        public let codec: String
        public let channels: Int
        public let sampleRate: Int
    }

    /// Duration in seconds, if known.
    public let duration: Double?
    /// Container media type, e.g. `video/quicktime`, if any.
    public let container: String?
    public let video: [VideoStream]
    public let audio: [AudioStream]

    /// Inspects `uri` (`gst_discoverer_discover_uri`), waiting at most `timeLimit` seconds.
    public static func discover(uri: String, timeLimit: Double = 10) throws -> MediaInfo {
        GStreamer.initialize()
        let discoverer = try withGError("cannot create a media discoverer") {
            gst_discoverer_new(GstClockTime(timeLimit * Double(nanosecondsPerSecond)), $0)
        }
        defer { g_object_unref(UnsafeMutableRawPointer(discoverer)) }
        var error: UnsafeMutablePointer<GError>?
        let info = gst_discoverer_discover_uri(discoverer, uri, &error)
        defer { if let info { g_object_unref(UnsafeMutableRawPointer(info)) } }
        guard let info, gst_discoverer_info_get_result(info) == GST_DISCOVERER_OK else {
            let result = info.map { gst_discoverer_info_get_result($0) }
            throw GStreamerError(consuming: error, fallback: describe(result))
        }
        if let error { g_error_free(error) }
        let duration = gst_discoverer_info_get_duration(info)
        return MediaInfo(
            duration: duration == clockTimeNone ? nil : Double(duration) / Double(nanosecondsPerSecond),
            container: containerType(info),
            video: streams(gst_discoverer_info_get_video_streams(info)) { stream in
                let video = stream
                let denominator = gst_discoverer_video_info_get_framerate_denom(video)
                return VideoStream(
                    codec: mediaType(stream) ?? "unknown",
                    width: Int(gst_discoverer_video_info_get_width(video)),
                    height: Int(gst_discoverer_video_info_get_height(video)),
                    frameRate: denominator == 0 ? 0 : Double(gst_discoverer_video_info_get_framerate_num(video)) / Double(denominator))
            },
            audio: streams(gst_discoverer_info_get_audio_streams(info)) { stream in
                let audio = stream
                return AudioStream(
                    codec: mediaType(stream) ?? "unknown",
                    channels: Int(gst_discoverer_audio_info_get_channels(audio)),
                    sampleRate: Int(gst_discoverer_audio_info_get_sample_rate(audio)))
            })
    }

    private static func describe(_ result: GstDiscovererResult?) -> String {
        switch result {
        case GST_DISCOVERER_URI_INVALID: return "not a valid URI"
        case GST_DISCOVERER_TIMEOUT: return "timed out while reading the media"
        case GST_DISCOVERER_MISSING_PLUGINS: return "no GStreamer plugin installed can decode it"
        default: return "cannot read the media"
        }
    }

    private static func streams<T>(_ list: UnsafeMutablePointer<GList>?,
                                   _ make: (OpaquePointer) -> T) -> [T] {
        defer { gst_discoverer_stream_info_list_free(list) }
        var result: [T] = []
        var node = list
        while let current = node {
            if let data = current.pointee.data {
                result.append(make(OpaquePointer(data)))
            }
            node = current.pointee.next
        }
        return result
    }

    private static func mediaType(_ stream: OpaquePointer) -> String? {
        guard let caps = gst_discoverer_stream_info_get_caps(stream) else { return nil }
        return Caps(adopting: caps).mediaType
    }

    private static func containerType(_ info: OpaquePointer) -> String? {
        guard let top = gst_discoverer_info_get_stream_info(info) else { return nil }
        defer { g_object_unref(UnsafeMutableRawPointer(top)) }
        guard String(cString: gst_discoverer_stream_info_get_stream_type_nick(top)) == "container" else { return nil }
        return mediaType(top)
    }
}
