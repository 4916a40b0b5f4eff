import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// srtpdec keeps a stream for every SSRC it is given a key for, before it knows whether the
/// SSRC's packets authenticate: a stranger who reaches an SRTP input's port and invents SSRCs
/// must not make it keep more than the input allows.
@Suite struct SRTPStateTests {
    /// An srtpdec behind a UDP port, answering key requests as `answer` says; 40 packets of
    /// 40 invented SSRCs (garbage where the payload and tag should be) sent to it.
    private func streamsKept(_ answer: (Element, Caps) -> Void) throws -> Int {
        let port = TestPorts.take(1)[0]
        let key: [(String, Caps.Field)] = [("srtp-key", .bytes(Array(repeating: 7, count: 30))), ("srtp-cipher", .string("aes-128-icm")),
                                           ("srtp-auth", .string("hmac-sha1-80")), ("srtcp-cipher", .string("aes-128-icm")), ("srtcp-auth", .string("hmac-sha1-80"))]
        let pipeline = Pipeline(name: "srtp")
        let source = try Element(factory: "udpsrc", ["port": .int32(Int32(port)), "caps": .caps(try Caps(mediaType: "application/x-srtp", fields: [
            ("media", .string("video")), ("encoding-name", .string("H264")), ("clock-rate", .int(90_000)), ("payload", .int(96)),
        ]))])
        let decrypt = try Element(factory: "srtpdec")
        let sink = try Element(factory: "fakesink", ["async": .bool(false)])
        try pipeline.add(source, decrypt, sink)
        try source.staticPad("src").link(try decrypt.staticPad("rtp_sink"))
        try decrypt.staticPad("rtp_src").link(try sink.staticPad("sink"))
        answer(decrypt, try Caps(mediaType: "application/x-srtp", fields: key))
        try pipeline.play()
        defer { pipeline.stop() }
        let socket = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(port).bigEndian),
                                  sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        Thread.sleep(forTimeInterval: 0.3)
        for ssrc in UInt32(1)...40 {
            var packet: [UInt8] = [0x80, 96, 0, UInt8(ssrc), 0, 0, 0, 1] + withUnsafeBytes(of: ssrc.bigEndian, Array.init) + Array(repeating: 0xAB, count: 40)
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(socket, &packet, packet.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        Thread.sleep(forTimeInterval: 0.5)
        return srtpStreamCount(decrypt)
    }

    @Test func inventedSSRCsGetNoMoreStreamsThanTheLimit() throws {
        let kept = try streamsKept { decrypt, caps in decrypt.answerKeyRequests(with: caps, ssrcs: [], limit: 8) }
        #expect(kept == 8, "srtpdec keeps \(kept) streams")
        // The attack works when every SSRC gets the key: the test sees what it guards against.
        let unbounded = try streamsKept { decrypt, caps in decrypt.answerKeyRequests(with: caps, ssrcs: [], limit: 1_000) }
        #expect(unbounded == 40, "srtpdec keeps \(unbounded) streams with no limit")
    }

    @Test func withSSRCsListedOnlyThoseGetKeys() throws {
        let kept = try streamsKept { decrypt, caps in decrypt.answerKeyRequests(with: caps, ssrcs: [3, 5], limit: 8) }
        #expect(kept == 2, "srtpdec keeps \(kept) streams")
    }
}
