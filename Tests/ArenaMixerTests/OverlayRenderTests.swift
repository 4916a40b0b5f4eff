import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

@Suite struct OverlayRenderTests {
    private func battleSpec(overlays: String = "") throws -> String {
        let alice = try TestMedia.clip(rgb: Colour.red, seconds: 3)
        let bob = try TestMedia.clip(rgb: Colour.green, seconds: 3)
        return """
            {"template": 600, "duration": 3, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])), \(overlays)
             "timeline": [
               {"at": 0.2, "event": "battleRequest", "battleId": "pk", "inviter": "alice", "invitees": ["bob"], "needResponse": false},
               {"at": 1.0, "event": "score", "battleId": "pk", "userId": "alice", "score": 3},
               {"at": 1.0, "event": "score", "battleId": "pk", "userId": "bob", "score": 1}
             ],
             "output": {"video": {"preset": "ultrafast"}}}
            """
    }

    private func isRed(_ pixel: (red: UInt8, green: UInt8, blue: UInt8)) -> Bool { pixel.red > 180 && pixel.blue < 150 }

    @Test func theBarSplitsAtTheScoreRatioAndNamesAreWhiteInTheirCapsules() throws {
        let (_, path) = try render(try battleSpec())
        let frames = try VideoFrames.decode(path: path) { $0 == 15 || $0 == 60 }.kept
        // The bar spans the battle area's top, (0, 276) to (720, 304). At 0:0 it splits in half;
        // 0.5 s after the 3:1 update, at 3/4 of 720 = 540.
        for (frame, expected) in zip(frames, [360, 540]) {
            let split = try #require((200..<700).first { isRed(frame.rgb(x: $0, y: 277)) })
            #expect(abs(split - expected) <= 2, "frame \(frame.index): the bar turns red at x = \(split), expected \(expected)")
            expectColour(frame, x: expected - 20, y: 290, 0x1C66E5, tolerance: 24)
            expectColour(frame, x: expected + 20, y: 290, 0xF15065, tolerance: 24)
        }
        // Alice's name: a capsule at the bottom-left of her cell (left 19, bottom 914) with white text.
        var white = 0
        for x in 19..<120 {
            for y in 880..<912 {
                let pixel = frames[1].rgb(x: x, y: y)
                if pixel.red > 200 && pixel.green > 200 && pixel.blue > 200 { white += 1 }
            }
        }
        #expect(white > 15, "\(white) white pixels in alice's name capsule")
    }

    @Test func overlaysCanBeTurnedOff() throws {
        let (_, path) = try render(try battleSpec(overlays: #""overlays": {"enabled": false},"#))
        let frame = try #require(try VideoFrames.decode(path: path) { $0 == 60 }.kept.first)
        expectColour(frame, x: 100, y: 290, Colour.red)   // alice's video where the bar would be
        expectColour(frame, x: 60, y: 897, Colour.red)    // and where her name would be
    }
}
