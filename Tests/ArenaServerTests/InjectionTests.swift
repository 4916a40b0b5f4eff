import Foundation
import Testing

/// Output values posted to the API are refused unless they are exactly what their field says,
/// and a value that is accepted is one property, used literally: none can add pipeline
/// elements (as gst-launch text once let `"` and `!` do), and no file appears.
@Suite struct InjectionTests {
    @Test func outputValuesCannotAddElementsOrWriteFiles() async throws {
        let service = try await RunningService()
        let trap = try newFolderOutside(named: "arena-trap")
        defer { try? FileManager.default.removeItem(at: trap) }
        let attacks: [(String, String)] = [
            (#"{"type": "rtmp", "url": "rtmp://127.0.0.1:9/live/k\" ! filesink location=\#(trap.path)/a \""}"#, "outputs[0].url"),
            (#"{"type": "rtp", "host": "127.0.0.1 ! fakesrc ! filesink location=\#(trap.path)/b", "videoPort": 9000}"#, "outputs[0].host"),
            (#"{"type": "srt", "uri": "srt://127.0.0.1:9\" ! filesink location=\#(trap.path)/c"}"#, "outputs[0].uri"),
            (#"{"type": "hls", "folder": "hls%s%n"}"#, "outputs[0].folder"),
        ]
        // Refused when a mix is created with them ...
        for (index, (output, field)) in attacks.enumerated() {
            let spec = idleMixSpec(ports: ServerTestPorts.pair()).replacingOccurrences(
                of: #"[{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}]"#, with: "[\(output)]")
            let reply = try await service.call("POST", "/v1/mixes?id=attack-\(index)", spec)
            #expect(reply.status == 400 && reply.message.hasPrefix(field), "\(reply.text)")
        }
        // ... and when a running mix is patched with them.
        #expect(try await service.call("POST", "/v1/mixes?id=room", idleMixSpec(ports: ServerTestPorts.pair())).status == 201)
        try await service.waitUntilRunning("room")
        for (output, field) in attacks {
            let reply = try await service.call("PATCH", "/v1/mixes/room", #"{"outputs": [\#(output)]}"#)
            #expect((400..<500).contains(reply.status) && reply.message.hasPrefix(field), "\(reply.text)")
        }
        // A URL with characters that pipeline text would have read as syntax is taken as it is:
        // one RTMP location, which fails to connect, and is shown without its stream key.
        let odd = try await service.call("PATCH", "/v1/mixes/room", #"{"outputs": [{"type": "rtmp", "url": "rtmp://127.0.0.1:9/live/sk!filesink,location=x"}]}"#)
        #expect(odd.status == 200, "\(odd.text)")
        try await Task.sleep(for: .seconds(1.5))
        let shown = try await service.call("GET", "/v1/mixes/room")
        #expect(shown.text.contains("RTMP rtmp://127.0.0.1:9/live/…"), "\(shown.text)")
        #expect(!shown.text.contains("sk!filesink"), "\(shown.text)")
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)
        await service.stop()
        #expect(try FileManager.default.contentsOfDirectory(atPath: trap.path).isEmpty)
        let written = try FileManager.default.contentsOfDirectory(atPath: service.folder.path)
        #expect(!written.contains { $0.contains("filesink") || $0 == "x" }, "\(written)")
    }
}

/// An output folder swapped for a symbolic link while its mix runs gets nothing through the
/// link: the writes stay in the folder that was checked and opened.
@Suite struct SwappedFolderTests {
    @Test func aFolderReplacedByALinkWhileRecordingSendsNothingOutside() async throws {
        let service = try await RunningService()
        let outside = try newFolderOutside(named: "arena-outside")
        defer { try? FileManager.default.removeItem(at: outside) }
        for name in ["rec", "hls"] {
            try FileManager.default.createDirectory(at: service.folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        let spec = idleMixSpec(ports: ServerTestPorts.pair()).replacingOccurrences(
            of: #"[{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}]"#,
            with: #"[{"type": "recording", "path": "rec/mix.mkv", "segmentSeconds": 1}, {"type": "hls", "folder": "hls", "segmentSeconds": 1}]"#)
        #expect(try await service.call("POST", "/v1/mixes?id=room", spec).status == 201)
        try await Task.sleep(for: .seconds(1.5))
        for name in ["rec", "hls"] {
            let folder = service.folder.appendingPathComponent(name)
            try FileManager.default.moveItem(at: folder, to: service.folder.appendingPathComponent(name + "-moved"))
            try FileManager.default.createSymbolicLink(at: folder, withDestinationURL: outside)
        }
        try await Task.sleep(for: .seconds(3))
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)
        await service.stop()
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside.path).isEmpty)
        let recorded = try FileManager.default.contentsOfDirectory(atPath: service.folder.appendingPathComponent("rec-moved").path)
        #expect(recorded.filter { $0.hasSuffix(".mkv") && !$0.hasPrefix(".") }.count >= 3, "\(recorded)")
        let streamed = try FileManager.default.contentsOfDirectory(atPath: service.folder.appendingPathComponent("hls-moved").path)
        #expect(streamed.contains("playlist.m3u8") && streamed.filter { $0.hasSuffix(".ts") }.count >= 3, "\(streamed)")
    }
}
