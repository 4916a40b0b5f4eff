import Foundation
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
        server.stop()
        try errors.fileHandleForWriting.close()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let lines = text.split(separator: "\n")
        let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(!lines.isEmpty && objects.count == lines.count, "\(text)")
        #expect(objects.allSatisfy { $0["time"] is String && $0["level"] is String && $0["message"] is String })
        #expect(objects.contains { $0["level"] as? String == "debug" && ($0["request"] as? String)?.isEmpty == false
                                   && $0["hb.request.path"] as? String == "/v1/mixes/none" }, "\(text)")
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
