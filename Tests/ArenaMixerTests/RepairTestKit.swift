import ArenaLayout
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Synchronization

/// A host's sender as real clients run RTP: rtpbin under AVPF, x264 with a long GOP that
/// answers keyframe requests (an RTCP PLI becomes a force-key-unit event the encoder honours),
/// a port pair of its own (RTP from `ownPort`, RTCP from and to `ownPort` + 1, as ffmpeg's and
/// GStreamer's senders do), and, with `rtxPayloadType`, RFC 4588 retransmissions of
/// what a NACK asks for. Each frame carries its number in 16 black/white stripes down the
/// middle of the picture (`FrameStamp`; `StampedFrames` reads them back).
final class FeedbackSender: Sendable {
    private let pipeline: Pipeline
    private let sent = Atomic<Int>(0)

    /// `address`: the loopback address it sends from; `stamped` false: a plain white picture;
    /// `answersFeedback` false: the RTCP that comes to it is thrown away (no PLI, no NACK
    /// reaches it), as with an encoder that ignores feedback.
    init(rtpPort: Int, arenaRTCPPort: Int, ownPort: Int, gopFrames: Int, rtxPayloadType: Int? = nil, address: String = "127.0.0.1",
         stamped: Bool = true, answersFeedback: Bool = true) throws {
        pipeline = try Pipeline(launch: """
            videotestsrc is-live=true pattern=\(stamped ? "ball" : "white") ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! identity name=stamp \
            ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=\(gopFrames) bitrate=1500 ! rtph264pay name=pay pt=96 config-interval=-1 mtu=1000 \
            udpsink name=rtp host=127.0.0.1 port=\(rtpPort) bind-address=\(address) bind-port=\(ownPort) sync=false async=false \
            udpsrc name=rtcp address=\(address) port=\(ownPort + 1) caps=application/x-rtcp
            """)
        let session = try Element(factory: "rtpbin", name: "session", ["rtp-profile": .nick("avpf")])
        if let rtxPayloadType { session.useRetransmissions(session: 0, rtxPayloadType: rtxPayloadType, payloadType: 96, sending: true) }
        try pipeline.add(session)
        try pipeline.element(named: "pay")!.staticPad("src").link(try session.requestPad("send_rtp_sink_0"))
        try session.staticPad("send_rtp_src_0").link(try pipeline.element(named: "rtp")!.staticPad("sink"))
        let rtcp = pipeline.element(named: "rtcp")!
        if answersFeedback {
            try rtcp.staticPad("src").link(try session.requestPad("recv_rtcp_sink_0"))
        } else {
            let ignored = try Element(factory: "fakesink", ["async": .bool(false)])
            try pipeline.add(ignored)
            try rtcp.link(ignored)
        }
        try rtcp.sendRTCP(from: try session.requestPad("send_rtcp_src_0"), to: "127.0.0.1", port: arenaRTCPPort)
        try pipeline.element(named: "stamp")!.staticPad("src").addWritableFrameProbe { [weak self] frame in
            guard let self, stamped else { return }
            FrameStamp.draw(sent.wrappingAdd(1, ordering: .relaxed).oldValue, on: frame)
        }
        try pipeline.play()
    }

    func stop() { pipeline.stop() }

    deinit { stop() }
}

/// Frame numbers read back from a mix's decoded output.
enum StampedFrames {
    /// The number a decoded output frame shows in `cell`, or nil when a stripe is neither
    /// clearly black nor clearly white (a broken picture, or no picture of the sender).
    static func number(in frame: RGBFrame, cell: Rect) -> Int? {
        var number = 0
        for (bit, point) in FrameStamp.points(x: cell.x, y: cell.y, width: cell.width, height: cell.height).enumerated() {
            let green = Int(frame.rgb(x: point.x, y: point.y).green)
            if green > 200 { number |= 1 << bit } else if green > 60 { return nil }
        }
        return number
    }
}

/// UDP from a sender to Arena through a local port, dropping datagrams on command (a burst,
/// or a share at random), as a lossy network would. It notes the RTP timestamp of the last
/// packet it dropped and of the first it forwarded, and counts the retransmissions (payload
/// type 97) it forwarded.
final class LossyRelay: @unchecked Sendable {  // `socket` is set once; the rest is `state`
    let port: Int
    private let socket: Int32
    private let state = Mutex((burst: 0, randomShare: 0.0, stopped: false, firstTimestamp: UInt32?.none, lastDropped: UInt32?.none, dropped: 0,
                               retransmissions: 0))
    private let done = DispatchSemaphore(value: 0)

    init(forwardingTo target: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        port = TestPorts.take(1)[0]
        let bound = withLoopbackAddress(port: port) { bind(socket, $0, $1) }
        guard bound == 0 else { throw GStreamerError(message: "the relay cannot bind port \(port)") }
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !state.withLock({ $0.stopped }) {
                let count = recv(socket, &buffer, buffer.count, 0)
                guard count >= 12 else { continue }
                let timestamp = UInt32(buffer[4]) << 24 | UInt32(buffer[5]) << 16 | UInt32(buffer[6]) << 8 | UInt32(buffer[7])
                let drop = state.withLock { state -> Bool in
                    if state.firstTimestamp == nil { state.firstTimestamp = timestamp }
                    let drop = state.burst > 0 || Double.random(in: 0..<1) < state.randomShare
                    if drop {
                        state.burst = max(0, state.burst - 1)
                        state.lastDropped = timestamp
                        state.dropped += 1
                    } else if buffer[1] & 0x7F == 97 {
                        state.retransmissions += 1
                    }
                    return drop
                }
                if !drop { _ = withLoopbackAddress(port: target) { sendto(socket, buffer, count, 0, $0, $1) } }
            }
            done.signal()
        }.start()
    }

    /// Drops the next `count` packets.
    func dropBurst(_ count: Int) { state.withLock { $0.burst = count } }

    /// Drops each packet with probability `share`.
    func dropRandomly(_ share: Double) { state.withLock { $0.randomShare = share } }

    /// The sender frame (30 fps, 90 kHz RTP clock, numbered from the first packet seen) of the
    /// last packet dropped, and how many were dropped.
    var lastDroppedFrame: (frame: Int?, dropped: Int) {
        state.withLock { state in
            guard let first = state.firstTimestamp, let last = state.lastDropped else { return (nil, state.dropped) }
            return (Int((last &- first) / 3_000), state.dropped)
        }
    }

    /// Retransmissions (payload type 97) forwarded.
    var retransmissions: Int { state.withLock { $0.retransmissions } }

    func stop() {
        guard !state.withLock({ state in defer { state.stopped = true }; return state.stopped }) else { return }
        done.wait()
        close(socket)
    }

    deinit { stop() }
}
