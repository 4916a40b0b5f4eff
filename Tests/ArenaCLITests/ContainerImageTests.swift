import Foundation
import GStreamerTestSupport
import Testing

/// The Dockerfile and the systemd unit, checked without a Docker engine or systemd running:
/// the Dockerfile's install line, its runtime package list against what the binary links and
/// what its pipelines load, its command started as a non-root user, and its health check.
@Suite struct ContainerImageTests {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let dockerfile = (try? String(contentsOf: checkout.appendingPathComponent("Dockerfile"), encoding: .utf8)) ?? ""

    @Test func theImagesStagesRunHere() throws {
        let root = try newFolder()
        // The build stage's install, with this build's binary for its release build.
        let install = "RUN packaging/install.sh .build/release/arena /staging/usr/local"
        #expect(Self.dockerfile.contains(install + "\n"))
        let prefix = root.appendingPathComponent("staging/usr/local")
        #expect(try Self.execute([Self.checkout.appendingPathComponent("packaging/install.sh").path, arena.path, prefix.path]).status == 0)
        let binary = prefix.appendingPathComponent("bin/arena").path

        // The runtime stage installs every Debian package the binary links (the image links the
        // Swift runtime statically) and every one a GStreamer element it makes comes from.
        let runtime = Self.runtimePackages()
        #expect(runtime.contains("gstreamer1.0-plugins-ugly") && runtime.contains("libgstreamer1.0-0"), "\(runtime)")
        let linked = try Self.linkedPackages(binary)
        #expect(!linked.isEmpty && linked.isSubset(of: runtime), "linked but not installed: \(linked.subtracting(runtime).sorted())")
        let plugins = try Self.elementPackages()
        #expect(plugins.count > 3 && plugins.isSubset(of: runtime), "elements' packages not installed: \(plugins.subtracting(runtime).sorted())")

        // The runtime stage's command and environment, as a user other than root, on its own port; then its health check.
        let command = try Self.jsonArray(after: "\nCMD ")
        #expect(command == ["arena", "serve"], "\(command)")
        let environment = Self.imageEnvironment()
        #expect(environment["ARENA_DATA"] == "/var/lib/arena" && environment["ARENA_LISTEN"] == "0.0.0.0:8080", "\(environment)")
        let data = root.appendingPathComponent("var-lib-arena")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let port = freePort()
        if getuid() == 0 { _ = try Self.execute(["/bin/chown", "nobody:nogroup", data.path]) }
        let server = Process()
        server.executableURL = URL(fileURLWithPath: getuid() == 0 ? "/usr/bin/setpriv" : "/usr/bin/env")
        server.arguments = (getuid() == 0 ? ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"] : []) + [binary] + command.dropFirst()
        let here = ["ARENA_DATA": data.path, "ARENA_LISTEN": "127.0.0.1:\(port)"]
        server.environment = environment.merging(here) { $1 }.merging(["ARENA_TOKEN": "t", "HOME": data.path, "PATH": "/usr/bin:/bin"]) { $1 }
        server.currentDirectoryURL = data
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        let check = try Self.jsonArray(after: "HEALTHCHECK")
        #expect(check.first == "bash")
        var healthy = false
        for _ in 0..<100 where !healthy {
            healthy = try Self.execute(["/usr/bin/env", "ARENA_LISTEN=127.0.0.1:\(port)"] + check).status == 0
            if !healthy { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(healthy, "the health check never passed")
        let owner = try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent("arena.sqlite").path)[.ownerAccountName] as? String
        #expect(getuid() != 0 ? owner != nil : owner == "nobody", "the store belongs to \(owner ?? "nobody: not made")")
    }

    /// systemd's own checker finds nothing to say of the unit (with ExecStart pointed at this build).
    @Test func theSystemdUnitVerifies() throws {
        let unit = try String(contentsOf: Self.checkout.appendingPathComponent("packaging/arena.service"), encoding: .utf8)
        #expect(unit.contains("StateDirectory=arena") && unit.contains("LoadCredential=token:") && unit.contains("TimeoutStopSec="))
        let copy = try newFolder().appendingPathComponent("arena.service")
        try unit.replacingOccurrences(of: "/usr/local/bin/arena", with: arena.path).write(to: copy, atomically: true, encoding: .utf8)
        let verified = try Self.execute(["/usr/bin/systemd-analyze", "verify", copy.path])
        #expect(verified.status == 0 && verified.output.isEmpty, "\(verified.output)")
    }

    /// The runtime stage's `ENV NAME=value ...` settings.
    static func imageEnvironment() -> [String: String] {
        guard let stage = dockerfile.components(separatedBy: "FROM debian:").last else { return [:] }
        let pairs = stage.split(separator: "\n").filter { $0.hasPrefix("ENV ") }.flatMap { $0.dropFirst(4).split(separator: " ") }
        return Dictionary(pairs.compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }) { $1 }
    }

    /// The packages the runtime stage installs.
    static func runtimePackages() -> Set<String> {
        guard let stage = dockerfile.components(separatedBy: "FROM debian:").last,
              let list = stage.components(separatedBy: "--no-install-recommends").dropFirst().first?.components(separatedBy: "&&").first else { return [] }
        return Set(list.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\\" }).map(String.init))
    }

    /// The Debian package of every library `binary` names (NEEDED) that a Debian package holds.
    static func linkedPackages(_ binary: String) throws -> Set<String> {
        let needed = try execute(["/usr/bin/readelf", "-d", binary]).output.split(separator: "\n").compactMap { line -> String? in
            guard line.contains("(NEEDED)"), let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
        let resolved = Dictionary(try execute(["/usr/bin/ldd", binary]).output.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: " ")
            return parts.count >= 3 && parts[1] == "=>" ? (String(parts[0].trimmingCharacters(in: .whitespaces)), String(parts[2])) : nil
        }) { first, _ in first }
        return Set(try needed.compactMap { resolved[$0] }.compactMap { try package(of: $0) })
    }

    /// The Debian package of each GStreamer element Arena makes (every `factory: "..."` in Sources,
    /// and those picked at run time: parsers and muxers by format, demuxers of file inputs).
    static func elementPackages() throws -> Set<String> {
        var elements: Set<String> = ["aacparse", "opusparse", "mp4mux", "matroskamux", "qtdemux", "matroskademux"]
        let sources = FileManager.default.enumerator(at: checkout.appendingPathComponent("Sources"), includingPropertiesForKeys: nil)
        while let file = sources?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            for part in text.components(separatedBy: #"factory: ""#).dropFirst() { elements.insert(String(part.prefix { $0 != "\"" })) }
        }
        // Arena's own elements live in its binary, whose libraries the linked check covers.
        return Set(try elements.subtracting(["arenavideodec"]).compactMap { element -> String? in
            let filename = try execute(["/usr/bin/gst-inspect-1.0", element]).output.split(separator: "\n")
                .first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("Filename") }?.split(separator: " ").last.map(String.init)
            return try filename.flatMap { try package(of: $0) } ?? "missing element \(element)"
        })
    }

    /// Which Debian package holds `path` (nil for files outside Debian, such as /opt/swift's runtime).
    static func package(of path: String) throws -> String? {
        let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        for candidate in [real, real.hasPrefix("/usr/") ? String(real.dropFirst(4)) : "/usr" + real] {
            let found = try execute(["/usr/bin/dpkg", "-S", candidate])
            if found.status == 0, let name = found.output.split(separator: ":").first { return String(name) }
        }
        return nil
    }

    /// The JSON array that follows `marker` (and its options) on its line of the Dockerfile.
    static func jsonArray(after marker: String) throws -> [String] {
        let rest = try #require(dockerfile.components(separatedBy: marker).dropFirst().first)
        let start = try #require(rest.firstIndex(of: "["))
        let line = rest[start...].prefix { $0 != "\n" }
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String])
    }

    /// Runs a program; its standard output and error together.
    static func execute(_ command: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
