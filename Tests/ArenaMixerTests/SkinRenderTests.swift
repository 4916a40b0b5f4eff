import ArenaLayout
import ArenaMixer
import ArenaOverlay
import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// A mix drawn with the SDK example's skin, read back from the decoded output.
@Suite struct SkinRenderTests {
    let canvas = Size(width: 720, height: 1280)
    let cells = [Rect(x: 0, y: 276, width: 360, height: 644), Rect(x: 360, y: 276, width: 360, height: 644)]

    /// The score capsule the skin draws for `score` in `cell` over a plain `background`, as the
    /// output should show it (RGB, 0...255) and where.
    private func reference(score: Int64, cell: Int, background: UInt32) throws -> (image: OverlayImage, pixels: [(Int, Int, Int)]) {
        var theme = OverlayTheme()
        theme.skin = .bundled("sdk-example")
        let skin = try SkinLibrary.resolve(theme)
        let hosts = ["alice", "bob"].enumerated().map { index, user in
            OverlayState.Host(userId: user, name: user, cell: cells[index], micOff: false, showsAvatar: false)
        }
        let scores = cell == 0 ? ["alice": score, "bob": 1] : ["alice": 3, "bob": score]
        let battle = BattleView(participants: ["alice", "bob"], scores: scores, ranks: [:], remaining: 20_000_000_000,
                                sinceStart: 2_000_000_000, sinceEnd: nil, outcome: nil, leftShare: 0.5)
        let items = OverlayState(canvas: canvas, hosts: hosts, battle: battle).items(skin: skin).filter { $0.name == "score" }
        try #require(items.count == 2)
        let image = OverlayRenderer(canvas: canvas, skin: skin).image(items[cell])
        let r = Int(background >> 16 & 0xFF), g = Int(background >> 8 & 0xFF), b = Int(background & 0xFF)
        let pixels = image.pixels.map { pixel -> (Int, Int, Int) in
            let a = Int(pixel >> 24)
            return (Int(pixel >> 16 & 0xFF) + r * (255 - a) / 255, Int(pixel >> 8 & 0xFF) + g * (255 - a) / 255, Int(pixel & 0xFF) + b * (255 - a) / 255)
        }
        return (image, pixels)
    }

    /// Mean absolute difference (per channel, 0...255) between the frame and `reference` over its box.
    private func difference(_ frame: RGBFrame, _ reference: (image: OverlayImage, pixels: [(Int, Int, Int)])) -> Double {
        var total = 0
        for y in 0..<reference.image.height {
            for x in 0..<reference.image.width {
                let seen = frame.rgb(x: reference.image.x + x, y: reference.image.y + y), want = reference.pixels[y * reference.image.width + x]
                total += abs(Int(seen.red) - want.0) + abs(Int(seen.green) - want.1) + abs(Int(seen.blue) - want.2)
            }
        }
        return Double(total) / Double(3 * reference.image.width * reference.image.height)
    }

    @Test func theExampleSkinPutsEachScoreAtItsCellsBottomRight() async throws {
        let frame = try await offPool { () throws -> RGBFrame? in
        let alice = try TestMedia.clip(rgb: Colour.red, width: 160, height: 120, seconds: 3)
        let bob = try TestMedia.clip(rgb: Colour.green, width: 160, height: 120, seconds: 3)
        let (_, path) = try render("""
            {"template": 600, "duration": 3, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])),
             "overlays": {"skin": "sdk-example"},
             "timeline": [
               {"at": 0.2, "event": "battleRequest", "battleId": "pk", "inviter": "alice", "invitees": ["bob"], "needResponse": false},
               {"at": 1.0, "event": "score", "battleId": "pk", "userId": "alice", "score": 3},
               {"at": 1.0, "event": "score", "battleId": "pk", "userId": "bob", "score": 1}
             ],
             "output": {"video": {"preset": "ultrafast", "bitrateKbps": 8000}}}
            """)
        return try VideoFrames.decode(path: path) { $0 == 60 }.kept.first
        }.flatMap { $0 }
        let decoded = try #require(frame)
        for (cell, score, background) in [(0, Int64(3), Colour.red), (1, Int64(1), Colour.green)] {
            let expected = try reference(score: score, cell: cell, background: background)
            let box = expected.image
            // Bottom-right, 5 design units in (10 px across, 8 px up on 720 x 1280); 8/4 padding round the text.
            #expect(box.x + box.width == cells[cell].maxX - 10 && box.y + box.height == cells[cell].maxY - 8,
                    "cell \(cell): the capsule's box is \(box.x),\(box.y) \(box.width)x\(box.height)")
            // The capsule is 40 % black over the video: left of the text, at mid-height.
            let dimmed = decoded.rgb(x: box.x + 6, y: box.y + box.height / 2)
            let video = (Int(background >> 16 & 0xFF), Int(background >> 8 & 0xFF), Int(background & 0xFF))
            for (seen, source) in [(Int(dimmed.red), video.0), (Int(dimmed.green), video.1), (Int(dimmed.blue), video.2)] {
                #expect(abs(seen - source * 60 / 100) <= 20, "cell \(cell): \(dimmed) is not 40 % black over \(video)")
            }
            // The text: the frame matches a capsule drawn with this score, and not one with another digit.
            let same = difference(decoded, expected)
            let other = difference(decoded, try reference(score: score == 3 ? 8 : 7, cell: cell, background: background))
            #expect(same < 8 && other > same * 1.5, "cell \(cell): \(same) from the right score's reference, \(other) from another's")
        }
    }
}
