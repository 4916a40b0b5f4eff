import ArenaFrame
import ArenaLayout
@testable import ArenaMixer
import ArenaSpec
import Foundation
@testable import GStreamerKit
import Testing

/// The overlay stage over a long battle: every score change animates the bar through new
/// images, and none of them may pile up in memory.
@Suite struct OverlayFeedTests {
    @Test func overlayImagesStayBoundedThroughALongBattle() throws {
        let clip = try TestMedia.clip(rgb: Colour.red, seconds: 1)
        let scores = (1..<120).map { #"{"at": \#(Double($0) / 2 + 0.25), "event": "score", "battleId": "pk", "userId": "\#($0 % 2 == 0 ? "a" : "b")", "score": \#($0 * 7)}"# }
        let json = """
            {"canvas": {"width": 360, "height": 640, "fps": 30}, "duration": 62,
             "hosts": [{"userId": "a", "userName": "Alice", "input": "\(clip.path)"}, {"userId": "b", "userName": "Bob", "input": "\(clip.path)"}],
             "timeline": [{"at": 0.1, "event": "battleRequest", "battleId": "pk", "inviter": "a", "invitees": ["b"], "duration": 61, "needResponse": false},
                          \(scores.joined(separator: ","))]}
            """
        let folder = try TestMedia.workspace()
        let plan = try MixPlan(spec: try MixSpec.parse(Data(json.utf8), source: "spec.json", baseDirectory: folder),
                               templates: try TemplateLibrary.bundled(), outputOverride: folder.appendingPathComponent("feed.mp4").path)
        let state = MixState(plan: plan)
        let feed = OverlayFeed(plan: plan)
        let planner = FramePlanner(canvas: plan.canvas.size, staleAfter: nil)
        let fresh = InputFreshness(hasFrame: true, latestFrame: 0)
        let (width, height) = (360, 640)
        var luma = [UInt8](repeating: 16, count: width * height)
        var cb = [UInt8](repeating: 128, count: width * height / 4), cr = cb
        var largest = 0
        var drawnBefore = 0
        for index in 0..<(61 * 30) {
            let pts = UInt64(index) * 1_000_000_000 / 30
            state.frameStarted(at: pts)
            drawnBefore = feed.drawnImages
            luma.withUnsafeMutableBufferPointer { y in
                cb.withUnsafeMutableBufferPointer { u in
                    cr.withUnsafeMutableBufferPointer { v in
                        let video = WritableVideoFrame(width: width, height: height, planes: [y.baseAddress!, u.baseAddress!, v.baseAddress!],
                                                       strides: [width, width / 2, width / 2], isBT709: true, isFullRange: false, pts: pts)
                        let frame = planner.plan(at: pts, layout: state.layout(at: pts), session: state.session(at: pts),
                                                 names: ["a": "Alice", "b": "Bob"], freshness: ["a": fresh, "b": fresh],
                                                 scoreChanges: { state.scoreChanges(of: $0, at: pts) })
                        feed.blend(frame.overlay, into: video)
                    }
                }
            }
            largest = max(largest, feed.cachedImages)
        }
        // The last frame (after the battle's end, nothing moving) reused every image it showed.
        #expect(feed.drawnImages == drawnBefore)
        // 119 score changes, each animated over 15 frames, and 61 timer texts: over 1,800
        // distinct images went through; a handful are kept at any time.
        let aliceGifts: Int64 = stride(from: 2, to: 120, by: 2).reduce(0) { $0 + Int64($1 * 7) }
        #expect(state.session(at: 60_000_000_000).battle?.scores["a"] == aliceGifts)
        #expect(largest > 4)
        #expect(largest <= 64, "kept \(largest) overlay images")
    }
}
