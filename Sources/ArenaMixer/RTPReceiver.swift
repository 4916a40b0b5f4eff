import GStreamerKit

/// The receiving end of one host's RTP input, as a bin for its input hub's pipeline: per stream, a UDP socket, a filter
/// that lets only RTP packets of the expected payload type through (garbage and strays
/// never reach the depayloader), a jitter buffer, the depayloader and the decoder. The
/// bin's `video` pad gives decoded video; `audio` decoded audio, when there is audio.
struct RTPReceiver {
    let input: RTPInput

    init(_ input: RTPInput) {
        self.input = input
    }

    var description: String {
        let video = input.video
        let (encoding, depayAndDecode) = switch input.videoCodec {
        case .h264: ("H264", "rtph264depay ! h264parse ! avdec_h264 name=\(videoOut)")
        case .vp8: ("VP8", "rtpvp8depay ! vp8dec name=\(videoOut)")
        }
        var description = receive(video, name: videoSocket, caps: "media=video,encoding-name=\(encoding)") + " ! \(depayAndDecode)"
        if let audio = input.audio {
            description += " " + receive(audio, name: audioSocket, caps: "media=audio,encoding-name=OPUS") + " ! rtpopusdepay ! opusdec plc=true name=\(audioOut)"
        }
        return description
    }

    /// The bin's ghost pads and the elements they expose.
    var pads: [(String, String)] { [("video", videoOut)] + (input.audio == nil ? [] : [("audio", audioOut)]) }

    private let videoOut = "rtp-video-decoder"
    private let audioOut = "rtp-audio-decoder"
    private let videoSocket = "rtp-video"
    private let audioSocket = "rtp-audio"

    private func receive(_ stream: RTPInput.Stream, name: String, caps: String) -> String {
        "udpsrc name=\(name) port=\(stream.port) buffer-size=2097152 "
            + "caps=\"application/x-rtp,\(caps),clock-rate=\(stream.clockRate),payload=\(stream.payloadType)\" "
            + "! rtpjitterbuffer latency=\(input.latencyMilliseconds) drop-on-latency=true"
    }

    /// Puts the packet filter on each socket of the bin, once it is in `pipeline`.
    func filterPackets(in pipeline: Pipeline) throws {
        var sockets = [(videoSocket, input.video.payloadType)]
        if let audio = input.audio { sockets.append((audioSocket, audio.payloadType)) }
        for (name, payloadType) in sockets {
            guard let socket = pipeline.element(named: name) else { throw GStreamerError(message: "\(name) is missing") }
            try socket.staticPad("src").addBufferDataProbe { packet in
                Self.isRTP(packet, payloadType: payloadType) ? .pass : .drop
            }
        }
    }

    /// An RTP packet (version 2, a whole header) of the given payload type.
    static func isRTP(_ packet: UnsafeRawBufferPointer, payloadType: Int) -> Bool {
        guard packet.count >= 12, packet[0] >> 6 == 2 else { return false }
        let csrcCount = Int(packet[0] & 0x0F)
        return packet.count >= 12 + 4 * csrcCount && Int(packet[1] & 0x7F) == payloadType
    }
}
