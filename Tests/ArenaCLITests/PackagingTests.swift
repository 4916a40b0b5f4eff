import Foundation
import FoundationNetworking
import GStreamerTestSupport
import Testing

/// Arena as a platform team installs and runs it: `make install`'s layout found from any
/// folder, `--version`, JSON log lines, progress for job runners.
@Suite struct PackagingTests {
    /// packaging/install.sh (what `make install` and the Dockerfile run) with this build's binary.
    @Test func anInstalledArenaFindsItsAssetsFromAnyFolder() throws {
        let prefix = try newFolder().appendingPathComponent("usr")
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let install = Process()
        install.executableURL = checkout.appendingPathComponent("packaging/install.sh")
        install.arguments = [arena.path, prefix.path]
        try install.run()
        install.waitUntilExit()
        #expect(install.terminationStatus == 0)
        // Started by path from another folder, and by name through PATH (argv[0] is then just "arena").
        for (executable, path) in [(prefix.appendingPathComponent("bin/arena").path, "/usr/bin:/bin"), ("/usr/bin/env", prefix.path + "/bin")] {
            let layouts = Process()
            layouts.executableURL = URL(fileURLWithPath: executable)
            layouts.arguments = executable.hasSuffix("env") ? ["arena", "layouts"] : ["layouts"]
            layouts.currentDirectoryURL = URL(fileURLWithPath: "/")
            layouts.environment = ["PATH": path]
            let output = Pipe()
            layouts.standardOutput = output
            try layouts.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            layouts.waitUntilExit()
            #expect(layouts.terminationStatus == 0 && text.contains("600  9      reflow   720x1280  Dynamic grid"), "\(executable): \(text)")
        }
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("share/arena/openapi.yaml").path))
    }

    @Test func versionIsPrinted() throws {
        let result = try run(["--version"], in: try newFolder())
        #expect(result.status == 0 && result.output.split(separator: ".").count == 3, "\(result.output)")
    }

    /// Not on a terminal, `serve` logs JSON lines (the request id with the request's lines); LOG_LEVEL applies to all.
    @Test func serveLogsJSONLines() throws {
        let errors = Pipe()
        let server = try ServeProcess(folder: try newFolder(), port: freePort(), environment: ["LOG_LEVEL": "debug"], errors: errors)
        #expect(try server.call("GET", "/v1/mixes/none").0 == 404)
        // The reference service's callers put a signature in the query: it stays out of the log.
        #expect(try server.call("POST", "/v4/live_engine_http_pk/get_battle_info?sdkappid=1&usersig=s3cr3t-sig", #"{"BattleId": "b"}"#).0 == 200)
        server.stop()
        try errors.fileHandleForWriting.close()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!lines.isEmpty && objects.count == lines.count, "\(text)")
        #expect(objects.allSatisfy { $0["time"] is String && $0["level"] is String && $0["message"] is String })
        #expect(objects.contains { $0["level"] as? String == "debug" && ($0["request"] as? String)?.isEmpty == false
                                   && $0["hb.request.path"] as? String == "/v1/mixes/none" }, "\(text)")
        #expect(text.contains("/v4/live_engine_http_pk/get_battle_info") && !text.contains("s3cr3t-sig"), "\(text)")
    }

    /// `--metrics-listen`: /metrics without the token on a listener of its own, and nothing else there.
    @Test func metricsHaveAListenerOfTheirOwn() throws {
        let metricsPort = freePort()
        let server = try ServeProcess(folder: try newFolder(), port: freePort(), options: ["--metrics-listen", "127.0.0.1:\(metricsPort)"])
        defer { server.stop() }
        func status(_ url: String) -> (Int, String) {
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var answer = (0, "")
            URLSession.shared.dataTask(with: URL(string: url)!) { data, response, _ in
                answer = ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
                done.signal()
            }.resume()
            done.wait()
            return answer
        }
        var metrics = (0, "")
        for _ in 0..<50 where metrics.0 != 200 {
            metrics = status("http://127.0.0.1:\(metricsPort)/metrics")
            if metrics.0 != 200 { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(metrics.0 == 200 && metrics.1.contains("arena_build_info{version="), "\(metrics)")
        #expect(status("http://127.0.0.1:\(metricsPort)/v1/mixes").0 == 404)
        #expect(status("http://127.0.0.1:\(server.port)/metrics").0 == 401)
    }

    /// SIGTERM drains within its documented bound (45 s): every mix's open recording is finalised
    /// and published, nothing is left half-written.
    @Test func sigtermDrainsWithinItsBound() throws {
        let folder = try newFolder()
        let server = try ServeProcess(folder: folder, port: freePort())
        for index in 0..<2 {
            let spec = """
                {"canvas": {"width": 360, "height": 640}, "output": {"video": {"preset": "ultrafast"}}, "live": {"disconnectTimeoutMs": 600000},
                 "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(freePort(SOCK_DGRAM))}}}}],
                 "outputs": [{"type": "recording", "path": "r\(index).mkv", "segmentSeconds": 600}]}
                """
            #expect(try server.call("POST", "/v1/mixes?id=m\(index)", spec).0 == 201)
        }
        server.waitUntilRunning("m0")
        server.waitUntilRunning("m1")
        // A client following a mix's event stream: the server waits for open responses before the
        // mixes stop, so the stream must end when the shutdown begins.
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        follower.arguments = ["-s", "-N", "-H", "Authorization: Bearer t", "http://127.0.0.1:\(server.port)/v1/mixes/m0/events/stream"]
        follower.standardOutput = FileHandle.nullDevice
        try follower.run()
        defer { follower.terminate() }
        Thread.sleep(forTimeInterval: 3)
        let started = Date()
        server.stop()
        let took = Date().timeIntervalSince(started)
        // Within the documented 45 s, and well within it: two small mixes finalise in seconds (a stream
        // holding the server open would run to the 40 s graceful-shutdown limit).
        #expect(took < 20, "SIGTERM took \(took) s")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!names.contains { $0.hasSuffix(".partial") }, "\(names)")
        for index in 0..<2 {
            let frames = (try? VideoFrames.decode(path: folder.appendingPathComponent("r\(index)-00001.mkv").path).count) ?? 0
            #expect(frames > 30, "r\(index)-00001.mkv: \(frames) frames (\(names.sorted()))")
        }
    }

    /// `render --progress json`: one JSON line a second, then the result line.
    @Test func renderReportsProgressAsJSONLines() throws {
        let folder = try newFolder()
        try clip(in: folder, name: "a.mp4", seconds: 2)
        try Data("""
            {"duration": 8, "canvas": {"width": 1080, "height": 1920}, "hosts": [{"userId": "a", "input": "a.mp4"}], "output": {"video": {"preset": "medium"}}}
            """.utf8).write(to: folder.appendingPathComponent("spec.json"))
        let result = try run(["render", "spec.json", "--output", "out.mp4", "--progress", "json"], in: folder)
        #expect(result.status == 0, "\(result.error)")
        let lines = result.output.split(separator: "\n")
        let progress = lines.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double] }
        #expect(progress.count >= 1 && progress.count == lines.count - 1, "\(result.output)")
        #expect(progress.allSatisfy { $0["total"] == 8 && $0["frames"] != nil && $0["seconds"] != nil && $0["speed"] != nil })
        #expect(lines.last?.hasPrefix("wrote ") == true && lines.last?.contains("out.mp4") == true, "\(result.output)")
    }
}

/// `serve`'s settings from a JSON file and the environment, under the command line.
@Suite struct ServeConfigurationTests {
    @Test func settingsComeFromTheEnvironmentOverAConfigFile() throws {
        let folder = try newFolder()
        let port = freePort()
        try Data(#"{"listen": "127.0.0.1:\#(port)", "maxMixes": 3, "rateLimit": 0}"#.utf8).write(to: folder.appendingPathComponent("arena.json"))
        let server = Process()
        server.executableURL = arena
        server.arguments = ["serve", "--config", folder.appendingPathComponent("arena.json").path, "--data", folder.path]
        server.environment = ["ARENA_TOKEN": "t", "ARENA_MAX_MIXES": "2", "PATH": "/usr/bin:/bin"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        var ready = ""
        for _ in 0..<100 where ready.isEmpty {
            ready = (try? String(contentsOf: URL(string: "http://127.0.0.1:\(port)/readyz")!, encoding: .utf8)) ?? ""
            if ready.isEmpty { Thread.sleep(forTimeInterval: 0.1) }
        }
        // The file's port; the environment's 2 over the file's 3.
        #expect(ready.contains(#""capacity":2"#), "\(ready)")

        let bad = try run(["serve", "--config", folder.appendingPathComponent("arena.json").path, "--data", folder.path], in: folder,
                          environment: ["ARENA_TOKEN": "t", "ARENA_CPU_LIMIT": "lots"])
        #expect(bad.status == 1 && bad.error == "arena: error: ARENA_CPU_LIMIT or 'cpuLimit' in \(folder.appendingPathComponent("arena.json").path) is not a valid value for --cpu-limit\n",
                "\(bad.error)")
        let missing = try run(["serve", "--config", "nowhere.json"], in: folder, environment: ["ARENA_TOKEN": "t"])
        #expect(missing.status == 1 && missing.error.hasPrefix("arena: error: --config nowhere.json cannot be read"), "\(missing.error)")
    }
}

/// The README's layout pictures: current, and drawn from the cells `layouts --template` prints.
@Suite struct LayoutDiagramTests {
    @Test func theREADMEsLayoutPicturesAreCurrent() throws {
        let folder = try newFolder()
        #expect(try run(["layouts", "--diagrams", folder.path], in: folder).status == 0)
        let committed = ContainerImageTests.checkout.appendingPathComponent("docs/layouts")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["2.svg", "400.svg", "600.svg", "601.svg", "602.svg", "603.svg", "800.svg", "801.svg"])
        for name in names {
            let fresh = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            let old = try? String(contentsOf: committed.appendingPathComponent(name), encoding: .utf8)
            #expect(fresh == old, "docs/layouts/\(name) is out of date: run arena layouts --diagrams docs/layouts")
        }
        // 600's panel for 4 hosts (the fourth: 16 + 3 x 106 px from the left, 34 from the top, at 1/8 scale).
        let cells = try run(["layouts", "--template", "600", "--hosts", "4"], in: folder).output.split(separator: "\n").map {
            $0.split(separator: " ").compactMap { Double($0) }
        }
        let svg = try String(contentsOf: folder.appendingPathComponent("600.svg"), encoding: .utf8)
        #expect(cells.filter { $0.count == 5 }.count == 4)
        for cell in cells where cell.count == 5 {
            let rect = #"<rect x="\#(Self.number(334 + cell[1] / 8))" y="\#(Self.number(34 + cell[2] / 8))" width="\#(Self.number(cell[3] / 8))" height="\#(Self.number(cell[4] / 8))""#
            #expect(svg.contains(rect), "\(rect)")
        }
    }

    static func number(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value) }
}
