import ArenaSpec
import GStreamerKit

/// The receiving end of one host's RTP input, as a bin for its input hub's pipeline: per
/// stream, a UDP socket, a filter that lets only RTP packets of the expected payload type
/// through (garbage and strays never reach the depayloader), a jitter buffer, the
/// depayloader and the decoder. The bin's `video` pad gives decoded video; `audio` decoded
/// audio, when there is audio. Built from elements and checked properties only.
enum RTPReceiver {
    static func bin(for input: RTPInput) throws -> Bin {
        let bin = Bin(name: "receiver")
        let (encoding, videoChain): (String, [Element]) = switch input.videoCodec {
        case .h264: ("H264", [try Element(factory: "rtph264depay"), try Element(factory: "h264parse"),
                              try Element(factory: "avdec_h264", ["max-threads": .int32(1)])])  // see decodeWithoutFrameThreads
        case .vp8: ("VP8", [try Element(factory: "rtpvp8depay"), try Element(factory: "vp8dec")])
        }
        let video = try receive(input.video, media: "video", encoding: encoding, latency: input.latencyMilliseconds, into: bin)
        try bin.addChain(videoChain)
        try video.link(videoChain[0])
        try bin.expose(try videoChain.last!.staticPad("src"), as: "video")
        if let audioStream = input.audio {
            let audio = try receive(audioStream, media: "audio", encoding: "OPUS", latency: input.latencyMilliseconds, into: bin)
            let audioChain = [try Element(factory: "rtpopusdepay"), try Element(factory: "opusdec", ["plc": .bool(true)])]
            try bin.addChain(audioChain)
            try audio.link(audioChain[0])
            try bin.expose(try audioChain.last!.staticPad("src"), as: "audio")
        }
        return bin
    }

    /// A socket on `stream.port` whose packets pass the RTP filter into a jitter buffer, in `bin`.
    private static func receive(_ stream: RTPInput.Stream, media: String, encoding: String, latency: Int, into bin: Bin) throws -> Element {
        let caps = try Caps(mediaType: "application/x-rtp", [
            "media": .string(media), "encoding-name": .string(encoding),
            "clock-rate": .int(stream.clockRate), "payload": .int(stream.payloadType),
        ])
        let socket = try Element(factory: "udpsrc", name: "rtp-\(media)", [
            "port": .int32(Int32(stream.port)), "buffer-size": .int32(2_097_152), "caps": .caps(caps),
        ])
        let jitterBuffer = try Element(factory: "rtpjitterbuffer", name: "rtp-\(media)-jitter", [
            "latency": .uint32(UInt32(latency)), "drop-on-latency": .bool(true),
        ])
        try bin.addChain([socket, jitterBuffer])
        try socket.staticPad("src").addBufferDataProbe { packet in
            isRTP(packet, payloadType: stream.payloadType) ? .pass : .drop
        }
        return jitterBuffer
    }

    /// An RTP packet (version 2, a whole header) of the given payload type.
    static func isRTP(_ packet: UnsafeRawBufferPointer, payloadType: Int) -> Bool {
        guard packet.count >= 12, packet[0] >> 6 == 2 else { return false }
        let csrcCount = Int(packet[0] & 0x0F)
        return packet.count >= 12 + 4 * csrcCount && Int(packet[1] & 0x7F) == payloadType
    }
}
