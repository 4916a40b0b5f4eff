import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// A host whose frames come in late is shown later than the others (the mix does not wait
/// for it): the service says by how much, in the mix's status and in its metrics.
struct LateHostTests {
    /// Bob sends H.264 with B-frames from a file, in decoding order and paced by it, without
    /// sender reports (as LipSyncTests' B-frame host): his pictures come in after their time by
    /// the clip's reordering gap. Alice sends a steady live stream without B-frames.
    @Test func aLateHostsDelayShowsInTheStatusAndTheMetrics() async throws {
        let service = try await RunningService()
        let ports = ServerTestPorts.pair()
        let clip = service.folder.appendingPathComponent("b-frames.mp4").path
        let picture = "video/x-raw,width=160,height=120,framerate=30/1"
        try Pipeline(launch: "videotestsrc num-buffers=900 pattern=ball ! \(picture) "
            + "! x264enc speed-preset=ultrafast bframes=3 key-int-max=30 ! mp4mux ! filesink location=\(clip)").runToEnd(timeLimit: 60)
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ports)).status == 201)
        let alice = try Pipeline(launch: "videotestsrc is-live=true pattern=ball ! \(picture) ! x264enc tune=zerolatency speed-preset=ultrafast "
            + "key-int-max=30 ! rtph264pay pt=96 config-interval=-1 ! udpsink host=127.0.0.1 port=\(ports.0)")
        let bob = try Pipeline(launch: "filesrc location=\(clip) ! qtdemux ! h264parse ! rtph264pay pt=96 config-interval=-1 "
            + "! udpsink host=127.0.0.1 port=\(ports.1)")
        try alice.play()
        try bob.play()
        defer {
            alice.stop()
            bob.stop()
        }

        // The delay follows three whole seconds of lateness: wait for it (at most 20 s).
        let frame = 1_000.0 / 30
        var status = try await service.call("GET", "/v1/mixes/room")
        var delays: [String: Any] { (status.body["mix"] as? [String: Any])?["inputDelayMs"] as? [String: Any] ?? [:] }
        for _ in 0..<40 where ((delays["bob"] as? Int) ?? 0) < Int(4 * frame) {
            try await Task.sleep(for: .milliseconds(500))
            status = try await service.call("GET", "/v1/mixes/room")
        }
        // At least one frame of lateness plus the three frames of margin; capped at the input's
        // latency (200 ms by default) plus that margin.
        let bobDelay = try #require(delays["bob"] as? Int, "no delay for bob: \(status.text)")
        #expect(bobDelay >= Int(4 * frame) && bobDelay <= Int(200 + 3 * frame) + 1, "\(delays)")
        #expect(((delays["alice"] as? Int) ?? 0) < bobDelay, "\(delays)")

        let metrics = try await service.call("GET", "/metrics").text
        let line = metrics.split(separator: "\n").first { $0.hasPrefix(#"arena_input_delay_seconds{mix="room",host="bob"} "#) }
        let seconds = try #require(line.flatMap { Double($0.split(separator: " ").last!) }, "\(metrics)")
        // The status and the metrics read the same value (it may have moved by a frame between the two calls).
        #expect(abs(seconds * 1_000 - Double(bobDelay)) <= frame + 1, "metrics \(seconds) s, status \(bobDelay) ms")
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)
        await service.stop()
    }
}
