import ArenaSpec
import Foundation
import FoundationNetworking
import GStreamerKit
import GStreamerTestSupport
import Testing

/// The `arena` executable built next to the test bundle.
let arena: URL = {
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(), Bundle.main.bundleURL,
                      Bundle.main.bundleURL.deletingLastPathComponent()]
    return candidates.map { $0.appendingPathComponent("arena") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        ?? URL(fileURLWithPath: ".build/debug/arena")
}()

struct Run {
    let status: Int32
    let output: String
    let error: String
}

/// Runs `arena` with `arguments` in `folder` (and only `environment`, if given); `interruptAfterFirstLine`
/// sends SIGINT once the command has printed a line on standard output.
func run(_ arguments: [String], in folder: URL, interruptAfterFirstLine: Bool = false, environment: [String: String]? = nil) throws -> Run {
    let process = Process()
    process.executableURL = arena
    process.arguments = arguments
    process.currentDirectoryURL = folder
    if let environment { process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { mine, _ in mine } }
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    var out = Data()
    if interruptAfterFirstLine {
        while !out.contains(UInt8(ascii: "\n")) {
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { break }
            out.append(more)
        }
        // Foundation traps when interrupting a process that is gone (one that failed before its first line).
        if process.isRunning { process.interrupt() }
    }
    out.append(output.fileHandleForReading.readDataToEndOfFile())
    let err = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Run(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self), error: String(decoding: err, as: UTF8.self))
}

func newFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

func clip(in folder: URL, name: String, seconds: Int) throws {
    try Pipeline(launch: """
        videotestsrc num-buffers=\(seconds * 30) ! video/x-raw,width=640,height=360,framerate=30/1 \
        ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location=\(folder.appendingPathComponent(name).path)
        """).runToEnd(timeLimit: 60)
}

private func files(in folder: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
}

@Suite(.serialized) struct CommandLineTests {
    @Test func aBadSpecFailsWithOneLineNamingTheFieldAndWritesNothing() throws {
        let folder = try newFolder()
        try Data(#"{"hosts": [{"userId": "a", "input": "missing.mp4"}]}"#.utf8).write(to: folder.appendingPathComponent("spec.json"))
        let result = try run(["render", "spec.json", "--output", "out.mp4"], in: folder)
        #expect(result.status == 1)
        #expect(result.error == "arena: error: hosts[0].input (\(folder.path)/missing.mp4): file not found\n")
        #expect(try files(in: folder) == ["spec.json"])
    }

    @Test func aRenderWritesTheFileAndSaysWhatItWrote() throws {
        let folder = try newFolder()
        try clip(in: folder, name: "a.mp4", seconds: 1)
        try Data(#"{"hosts": [{"userId": "a", "input": "a.mp4"}], "output": {"path": "mix.mkv", "video": {"preset": "ultrafast"}}}"#.utf8)
            .write(to: folder.appendingPathComponent("spec.json"))
        // Paths in the spec are relative to the spec's folder, wherever arena runs from.
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("elsewhere"), withIntermediateDirectories: false)
        let result = try run(["render", "../spec.json", "--events-out", "events.jsonl"], in: folder.appendingPathComponent("elsewhere"))
        #expect(result.status == 0, "\(result.error)")
        #expect(try String(contentsOf: folder.appendingPathComponent("elsewhere/events.jsonl"), encoding: .utf8) == "")
        #expect(result.output.hasPrefix("wrote \(folder.path)/mix.mkv: 720x1280, 30 frames (1.00 s) at 30 fps"))
        #expect(try files(in: folder) == ["a.mp4", "elsewhere", "mix.mkv", "spec.json"])

        // With a timeline, each outbound event is a JSON line.
        try Data(#"{"hosts": [{"userId": "a", "input": "a.mp4"}], "timeline": [{"at": 0.5, "event": "micOff", "userId": "a"}], "output": {"path": "mix.mkv", "video": {"preset": "ultrafast"}}}"#.utf8)
            .write(to: folder.appendingPathComponent("spec.json"))
        #expect(try run(["render", "spec.json", "--events-out", "events.jsonl"], in: folder).status == 0)
        #expect(try String(contentsOf: folder.appendingPathComponent("events.jsonl"), encoding: .utf8)
                == #"{"at":0.5,"event":"onMicOff","userId":"a"}"# + "\n")
    }

    @Test func anInterruptedRenderLeavesNoFileBehind() throws {
        let folder = try newFolder()
        try clip(in: folder, name: "a.mp4", seconds: 2)
        // 60 s of 1080 x 1920 at x264's "slow" preset is far from done at its first progress line.
        try Data("""
            {"duration": 60, "canvas": {"width": 1080, "height": 1920}, "hosts": [{"userId": "a", "input": "a.mp4"}],
             "output": {"video": {"preset": "slow"}}}
            """.utf8).write(to: folder.appendingPathComponent("spec.json"))
        let result = try run(["render", "spec.json", "--output", "out.mp4", "--progress", "json"], in: folder, interruptAfterFirstLine: true)
        #expect(result.status == 130)
        #expect(result.error == "arena: error: interrupted; no output written\n")
        #expect(try files(in: folder) == ["a.mp4", "spec.json"])
    }

    @Test func layoutsPrintsOneTemplatesCells() throws {
        let result = try run(["layouts", "--template", "600", "--hosts", "2", "--canvas", "1080x1920"], in: try newFolder())
        #expect(result.status == 0)
        #expect(result.output == "0 0 414 540 966\n1 540 414 540 966\n")
        #expect(try run(["layouts", "--template", "600", "--hosts", "10"], in: try newFolder()).error
                == "arena: error: --hosts must be from 1 to 9\n")
    }

    @Test func snapshotWritesOneFrameAsPNG() throws {
        let folder = try newFolder()
        try Pipeline(launch: """
            videotestsrc num-buffers=30 pattern=solid-color foreground-color=0xFF20C020 ! video/x-raw,width=640,height=360,framerate=30/1 \
            ! x264enc speed-preset=ultrafast ! mp4mux ! filesink location=\(folder.appendingPathComponent("a.mp4").path)
            """).runToEnd(timeLimit: 60)
        try Data(#"{"hosts": [{"userId": "a", "input": "a.mp4"}]}"#.utf8).write(to: folder.appendingPathComponent("spec.json"))
        let result = try run(["snapshot", "spec.json", "--at", "0.5", "--output", "frame.png"], in: folder)
        #expect(result.status == 0, "\(result.error)")
        #expect(try files(in: folder) == ["a.mp4", "frame.png", "spec.json"])
        let frame = try #require(try VideoFrames.decode(path: folder.appendingPathComponent("frame.png").path) { $0 == 0 }.kept.first)
        #expect(frame.width == 720 && frame.height == 1280)
        let centre = frame.rgb(x: 360, y: 640)
        #expect(abs(Int(centre.red) - 0x20) < 16 && abs(Int(centre.green) - 0xC0) < 16 && abs(Int(centre.blue) - 0x20) < 16)
        let late = try run(["snapshot", "spec.json", "--at", "5", "--output", "late.png"], in: folder)
        #expect(late.status == 1 && late.error == "arena: error: --at 5.0 is outside the mix (0 to 1.0 s)\n")
    }

    @Test func layoutsListsEveryTemplate() throws {
        let result = try run(["layouts"], in: try newFolder())
        #expect(result.status == 0)
        let ids = result.output.split(separator: "\n").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
        #expect(ids == [2, 400, 600, 601, 602, 603, 800, 801])
    }

    /// A live mix whose one host never sends: the output still runs (the placeholder), in
    /// 1 s recording segments. SIGKILL keeps every closed segment playable; SIGINT closes the last.
    @Test func aKilledLiveMixLeavesEveryClosedSegmentPlayable() throws {
        for signal in [SIGKILL, SIGINT] {
            let folder = try newFolder()
            let port = 40_000 + Int(ProcessInfo.processInfo.processIdentifier % 1_000) * 4 + (signal == SIGKILL ? 0 : 2)
            try Data("""
                {"canvas": {"width": 360, "height": 640}, "hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": \(port)}}}}],
                 "output": {"video": {"preset": "ultrafast", "keyframeIntervalSeconds": 1}},
                 "outputs": [{"type": "recording", "path": "rec.mp4", "segmentSeconds": 1}]}
                """.utf8).write(to: folder.appendingPathComponent("spec.json"))
            let process = Process()
            process.executableURL = arena
            process.arguments = ["run", "spec.json", "--quiet"]
            process.currentDirectoryURL = folder
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: 4.5)
            kill(process.processIdentifier, signal)
            process.waitUntilExit()

            let names = try files(in: folder)
            let segments = names.filter { $0.hasPrefix("rec-") }
            #expect(segments.count >= (signal == SIGINT ? 3 : 2), "\(names)")
            for segment in segments {
                let (count, _) = try VideoFrames.decode(path: folder.appendingPathComponent(segment).path)
                #expect((25...35).contains(count) || segment == segments.last, "\(segment): \(count) frames")
            }
            let partial = names.filter { $0.hasSuffix(".partial") }
            if signal == SIGINT {
                #expect(process.terminationStatus == 0)
                #expect(partial.isEmpty, "SIGINT closes the last segment: \(names)")
            } else {
                #expect(partial.allSatisfy { $0.hasPrefix(".rec-") }, "only the open segment is left, hidden: \(names)")
            }
        }
    }

    /// kill -9 of `arena serve` during a stream of score updates: after a restart the battle
    /// runs on in its mix and holds every acknowledged update.
    @Test func aKilledServiceKeepsEveryAcknowledgedScore() throws {
        let folder = try newFolder()
        let udp = 43_000 + Int(ProcessInfo.processInfo.processIdentifier % 1_000) * 4
        let server = try ServeProcess(folder: folder, port: freePort())
        let spec = """
            {"canvas": {"width": 360, "height": 640}, "output": {"video": {"preset": "ultrafast"}}, "live": {"disconnectTimeoutMs": 600000},
             "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(udp)}}}}, {"userId": "bob", "input": {"rtp": {"video": {"port": \(udp + 2)}}}}],
             "outputs": [{"type": "recording", "path": "mix.mkv"}]}
            """
        #expect(try server.call("POST", "/v1/mixes?id=room", spec).0 == 201)
        server.waitUntilRunning("room")
        #expect(try server.call("POST", "/v1/battles", #"{"battleId": "pk", "fromRoom": "alice", "toRooms": ["bob"], "durationMs": 600000}"#).0 == 201)
        // The kill comes from another thread once 30 updates are acknowledged, counted rather
        // than timed (a loaded machine answers slowly), so it may land with a request in flight.
        let acknowledgedSoFar = Counter()
        let killed = DispatchSemaphore(value: 0)
        Thread {
            let giveUp = Date().addingTimeInterval(60)
            while acknowledgedSoFar.value < 30 && Date() < giveUp { Thread.sleep(forTimeInterval: 0.005) }
            server.kill()
            killed.signal()
        }.start()
        var acknowledged = 0, sent = 0
        while true {
            sent += 1
            guard let (status, _) = try? server.call("POST", "/v1/battles/pk/scores", #"{"idempotencyKey": "g\#(sent)", "scores": [{"room": "bob", "score": 1}]}"#) else {
                break
            }
            #expect(status == 200)
            acknowledged += 1
            acknowledgedSoFar.increment()
        }
        #expect(acknowledged >= 30, "the updates stopped before the kill")
        killed.wait()

        try server.start()
        defer { server.stop() }
        let (status, body) = try server.call("GET", "/v1/battles/pk")
        #expect(status == 200, "\(body)")
        let score = try #require(body.range(of: #""room":"bob","score":(\d+)"#, options: .regularExpression).map {
            Int(body[$0].split(separator: ":").last!)!
        })
        #expect(score >= acknowledged && score <= sent, "bob's score \(score); \(acknowledged) acknowledged of \(sent) sent")
        #expect(body.contains(#""status":"running""#), "\(body)")
    }
}

/// A count one thread raises and another reads.
private final class Counter: @unchecked Sendable {  // every access holds `lock`
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
