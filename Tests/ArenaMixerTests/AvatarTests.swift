import ArenaLayout
import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// Avatars through the public plan: loaded up front, or a warning and the default avatar.
@Suite(.serialized) struct AvatarTests {
    private func plan(avatar: String, allowPrivate: Bool = false) throws -> MixPlan {
        let folder = try TestMedia.workspace()
        let clip = try TestMedia.clip(rgb: Colour.red, seconds: 1)
        let json = """
            {"hosts": [{"userId": "a", "input": "\(clip.path)", "avatarUrl": "\(avatar)"}],
             "overlays": {"allowPrivateAvatarHosts": \(allowPrivate)}}
            """
        return try MixPlan(spec: try MixSpec.parse(Data(json.utf8), source: "spec.json", baseDirectory: folder),
                           templates: try TemplateLibrary.bundled(), outputOverride: folder.appendingPathComponent("out.mp4").path)
    }

    private func picture(_ encoder: String, _ name: String, width: Int = 40, height: Int = 30) throws -> URL {
        let file = try TestMedia.workspace().appendingPathComponent(name)
        try Pipeline(launch: """
            videotestsrc num-buffers=1 pattern=solid-color foreground-color=0xFF2040E0 ! video/x-raw,width=\(width),height=\(height) \
            ! videoconvert ! \(encoder) ! filesink location=\(file.path)
            """).runToEnd(timeLimit: 30)
        return file
    }

    @Test(arguments: [("pngenc", "avatar.png"), ("jpegenc", "avatar.jpg")])
    func pngAndJpegFilesLoad(encoder: String, name: String) throws {
        let plan = try plan(avatar: try picture(encoder, name).path)
        let image = try #require(plan.avatars["a"])
        #expect(image.width == 40 && image.height == 30)
        let (red, green, blue) = (image.pixel(x: 20, y: 15) >> 16 & 0xFF, image.pixel(x: 20, y: 15) >> 8 & 0xFF, image.pixel(x: 20, y: 15) & 0xFF)
        #expect(abs(Int(red) - 0x20) < 24 && abs(Int(green) - 0x40) < 24 && abs(Int(blue) - 0xE0) < 24)  // JPEG is lossy
        #expect(plan.warnings.isEmpty)
    }

    @Test func whatCannotBeUsedGivesOneWarningAndTheDefault() throws {
        let notes = try TestMedia.workspace().appendingPathComponent("notes.png")
        try Data("not a picture".utf8).write(to: notes)
        for (avatar, reason) in [(notes.path, "not a PNG or JPEG picture"), ("/nowhere/a.png", "file not found"),
                                 ("ftp://example.com/a.png", "only files and http(s) URLs are read"),
                                 ("http://127.0.0.1:9/a.png", "refers to a loopback or private address (127.0.0.1)"),
                                 ("http://localhost:9/a.png", "refers to a loopback or private address")] {
            let plan = try plan(avatar: avatar)
            #expect(plan.avatars.isEmpty)
            #expect(plan.warnings.count == 1)
            #expect(plan.warnings.first?.hasPrefix("hosts[0].avatarUrl (\(avatar)): \(reason)") == true, "\(plan.warnings)")
        }
        // Credentials and query are not repeated in the warning.
        let secret = try plan(avatar: "http://user:hunter2@127.0.0.1:9/a.png?token=t0ps3cret")
        #expect(secret.warnings == ["hosts[0].avatarUrl (http://127.0.0.1:9/a.png?…): refers to a loopback or private address (127.0.0.1); using the default avatar"])
    }

    @Test func aPictureDeclaringTooManyPixelsIsRefusedBeforeDecoding() throws {
        // A PNG header declaring 100000 x 100000 (40 GB decoded), then nothing.
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        bytes += [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 6, 0, 0, 0, 0, 0, 0, 0]
        let bomb = try TestMedia.workspace().appendingPathComponent("bomb.png")
        try Data(bytes).write(to: bomb)
        let plan = try plan(avatar: bomb.path)
        #expect(plan.warnings.first?.contains("100000 x 100000 pixels (at most 4096 x 4096)") == true, "\(plan.warnings)")
    }

    /// A public address that redirects to loopback reaches nothing there; a redirect to another
    /// public address is followed.
    @Test func aRedirectIsFollowedOnlyWhereItsTargetPassesTheChecks() throws {
        let outside = try #require(PublicTestAddress.ready, "needs root to put \(PublicTestAddress.address) on lo")
        let png = try Data(contentsOf: try picture("pngenc", "avatar.png"))
        let inside = try FixedAnswerServer(status: 200, body: png)
        let toInside = try FixedAnswerServer(address: outside, status: 302, headers: ["Location": "http://127.0.0.1:\(inside.port)/a.png"])
        let publicServer = try FixedAnswerServer(address: outside, status: 200, body: png)
        let toPublic = try FixedAnswerServer(address: outside, status: 302, headers: ["Location": "http://\(outside):\(publicServer.port)/b.png"])
        let loop = try FixedAnswerServer(address: outside, status: 307, headers: ["Location": "/again"])
        defer { for server in [inside, toInside, publicServer, toPublic, loop] { server.stop() } }

        let refused = try plan(avatar: "http://\(outside):\(toInside.port)/a.png")
        #expect(refused.avatars.isEmpty)
        #expect(refused.warnings.first?.contains("refers to a loopback or private address (127.0.0.1)") == true, "\(refused.warnings)")
        #expect(inside.requests == 0, "the redirect reached the loopback server")

        let followed = try plan(avatar: "http://\(outside):\(toPublic.port)/a.png")
        #expect(followed.avatars["a"]?.width == 40, "\(followed.warnings)")
        #expect(publicServer.requests == 1)

        let looping = try plan(avatar: "http://\(outside):\(loop.port)/a.png")
        #expect(looping.warnings.first?.contains("more than 3 redirects") == true, "\(looping.warnings)")
        #expect(loop.requests == 4)
    }

    @Test func anAllowedHttpAvatarLoadsAndASlowOrHugeOneDoesNot() throws {
        let png = try Data(contentsOf: try picture("pngenc", "avatar.png"))
        let server = try BreakingHTTPServer(body: png, sendFraction: 1)
        defer { server.stop() }
        let loaded = try plan(avatar: "http://127.0.0.1:\(server.port)/avatar.png", allowPrivate: true)
        #expect(loaded.avatars["a"]?.width == 40)

        let stalled = try BreakingHTTPServer(body: png, sendFraction: 0.5, hold: true)
        defer { stalled.stop() }
        stalled.breakTransfers()
        let started = Date()
        let slow = try plan(avatar: "http://127.0.0.1:\(stalled.port)/avatar.png", allowPrivate: true)
        #expect(Date().timeIntervalSince(started) < 6)
        #expect(slow.avatars.isEmpty && slow.warnings.count == 1, "\(slow.warnings)")

        let huge = try BreakingHTTPServer(body: Data(count: 6 * 1024 * 1024), sendFraction: 1)
        defer { huge.stop() }
        let big = try plan(avatar: "http://127.0.0.1:\(huge.port)/avatar.png", allowPrivate: true)
        #expect(big.warnings.first?.contains("larger than 5 MB") == true, "\(big.warnings)")
    }
}
