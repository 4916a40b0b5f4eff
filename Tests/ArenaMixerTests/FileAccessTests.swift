import ArenaLayout
@testable import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerTestSupport
import Synchronization
import Testing

/// Files a service mix opens must be in its data folder when they are opened, not only when
/// the spec was accepted: a symbolic link planted in between leads nowhere.
@Suite struct FileAccessTests {
    @Test func aPathThatLeadsOutOfTheFolderIsRefusedWhereverTheLinkIs() throws {
        let root = try TestMedia.workspace()
        let data = root.appendingPathComponent("data"), outside = root.appendingPathComponent("outside")
        for folder in [data.appendingPathComponent("in"), outside] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try Data("inside".utf8).write(to: data.appendingPathComponent("in/clip"))
        try Data("secret".utf8).write(to: outside.appendingPathComponent("secret"))
        try FileManager.default.createSymbolicLink(atPath: data.appendingPathComponent("hop").path, withDestinationPath: "../outside")
        try FileManager.default.createSymbolicLink(atPath: data.appendingPathComponent("absolute").path, withDestinationPath: outside.path)
        try FileManager.default.createSymbolicLink(atPath: data.appendingPathComponent("alias").path, withDestinationPath: "in")
        let access = FileAccess.inside(data)

        let folder = try access.open(data.path, flags: O_RDONLY | O_DIRECTORY)
        #expect(folder >= 0)
        close(folder)
        for path in ["in/clip", "alias/clip"] {
            let descriptor = try access.open(data.appendingPathComponent(path).path, flags: O_RDONLY)
            #expect(descriptor >= 0)
            close(descriptor)
        }
        for path in ["hop/secret", "absolute/secret", "in/../../outside/secret", "../outside/secret"] {
            #expect(throws: FileRefusal.self, "\(path)") { try access.open(data.path + "/" + path, flags: O_RDONLY) }
        }
        #expect(throws: FileRefusal.self) { try access.reading("http://example.com/a.mp4") }
        // `arena run` reads the operator's own paths, through links too.
        let descriptor = try FileAccess.anywhere.open(data.appendingPathComponent("hop/secret").path, flags: O_RDONLY)
        close(descriptor)
    }

    /// The spec is accepted (the file is probed in the data folder); then the folder is
    /// swapped for a link to another one before the mix starts. The input's pipeline refuses
    /// to open the file: one warning, and the mix shows the placeholder instead of the other
    /// folder's clip.
    @Test func anInputFolderSwappedForALinkAfterAcceptanceIsNotRead() throws {
        let root = try TestMedia.workspace()
        let data = root.appendingPathComponent("data"), outside = root.appendingPathComponent("outside")
        let media = data.appendingPathComponent("media")
        for folder in [media, outside] { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        try FileManager.default.copyItem(at: try TestMedia.clip(rgb: 0xE02020, seconds: 3), to: media.appendingPathComponent("clip.mp4"))
        try FileManager.default.copyItem(at: try TestMedia.clip(rgb: 0x20E020, seconds: 3), to: outside.appendingPathComponent("clip.mp4"))
        let spec = """
            {"canvas": {"width": 360, "height": 640}, "output": {"video": {"preset": "ultrafast"}},
             "hosts": [{"userId": "a", "input": "\(media.appendingPathComponent("clip.mp4").absoluteString)"}],
             "outputs": [{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}]}
            """
        let parsed = try MixSpec.parse(Data(spec.utf8), source: "spec", baseDirectory: data)
        let plan = try MixPlan(spec: parsed, templates: try TemplateLibrary.bundled(), live: true, access: .inside(data))

        try FileManager.default.moveItem(at: media, to: data.appendingPathComponent("moved"))
        try FileManager.default.createSymbolicLink(at: media, withDestinationURL: outside)
        let warnings = Mutex<[String]>([])
        let stopAt = Date().addingTimeInterval(3)
        try LiveRun(plans: [plan]).run(warning: { text in warnings.withLock { $0.append(text) } }, stopped: { Date() >= stopAt })

        let seen = warnings.withLock { $0 }
        #expect(seen.contains { $0.contains("hosts[0] 'a' input failed") && $0.contains("leads out of the data folder") }, "\(seen)")
        let names = try FileManager.default.contentsOfDirectory(atPath: data.path)
        #expect(names.contains("mix-00001.mkv"), "\(names) \(seen)")
        let frames = try VideoFrames.decode(path: data.appendingPathComponent("mix-00001.mkv").path) { _ in true }.kept
        let last = try #require(frames.last)
        expectPlaceholder(last, x: 180, y: 320)
    }
}
