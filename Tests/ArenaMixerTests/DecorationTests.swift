import ArenaLayout
import ArenaMixer
import ArenaOverlay
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// Background picture, watermarks and custom layouts, read back from decoded frames.
@Suite struct DecorationTests {
    /// A `width` x `height` PNG in `folder`, in one colour or (with `bottom`) two halves.
    private static func picture(_ name: String, in folder: URL, width: Int, height: Int, _ top: UInt32, bottom: UInt32? = nil) throws {
        let pixels = (0..<height).flatMap { y in Array(repeating: 0xFF00_0000 | (y >= height / 2 ? bottom ?? top : top), count: width) }
        guard OverlayImage(x: 0, y: 0, width: width, height: height, pixels: pixels).writePNG(to: folder.appendingPathComponent(name).path) else {
            throw GStreamerError(message: "cannot write \(name)")
        }
    }

    @Test func backgroundWatermarksAndThreeCellsWithZOrder() async throws {
        let decoded = try await offPool { () throws -> RGBFrame? in
        let folder = try TestMedia.workspace()
        try Self.picture("bg.png", in: folder, width: 100, height: 200, 0xFFFF00, bottom: 0xFF00FF)   // yellow over magenta
        try Self.picture("logo.png", in: folder, width: 40, height: 20, 0x00FFFF)                      // cyan, 2:1
        try Self.picture("badge.png", in: folder, width: 30, height: 30, 0xFF8000)                     // orange
        let alice = try TestMedia.clip(rgb: Colour.red, width: 160, height: 120), bob = try TestMedia.clip(rgb: Colour.green, width: 160, height: 120), carol = try TestMedia.clip(rgb: Colour.blue, width: 160, height: 120)
        let (_, path) = try render("""
            {"canvas": {"width": 720, "height": 1280}, "duration": 1,
             "hosts": \(hostsJSON([("alice", alice), ("bob", bob), ("carol", carol)])),
             "layout": {"units": "pixels", "cells": [
               {"x": 40, "y": 200, "width": 400, "height": 400, "zOrder": 1},
               {"x": 240, "y": 400, "width": 400, "height": 400, "zOrder": 3},
               {"x": 100, "y": 840, "width": 520, "height": 300, "zOrder": 2, "fit": "contain"}]},
             "images": {"bg": "bg.png", "logo": "logo.png", "badge": "badge.png"},
             "decorations": {"background": "bg",
               "watermarks": [{"image": "logo", "anchor": "topRight", "offset": [20, 30], "width": 80},
                              {"image": "badge", "anchor": "bottomLeft", "offset": [10, 10], "width": 60, "height": 60, "opacity": 0.5}]},
             "overlays": {"nicknames": false},
             "output": {"video": {"preset": "ultrafast", "bitrateKbps": 8000}}}
            """, in: folder)
        return try VideoFrames.decode(path: path) { $0 == 15 }.kept.first
        }
        let frame = try #require(decoded)
        // The 1:2 picture covers the 9:16 canvas: 720 x 1440 with 80 px cut at top and bottom.
        expectColour(frame, x: 20, y: 100, 0xFFFF00)
        expectColour(frame, x: 700, y: 600, 0xFFFF00)
        expectColour(frame, x: 700, y: 1200, 0xFF00FF)
        // Bob (z 3) over alice (z 1) where they overlap; carol's 4:3 picture whole inside her 520 x 300 cell (400 x 300, black bars).
        expectColour(frame, x: 100, y: 260, Colour.red)
        expectColour(frame, x: 300, y: 500, Colour.green)
        expectColour(frame, x: 600, y: 760, Colour.green)
        expectColour(frame, x: 130, y: 990, 0x000000)
        expectColour(frame, x: 590, y: 990, 0x000000)
        expectColour(frame, x: 360, y: 990, Colour.blue)
        // The logo: 80 x 40 (its aspect ratio), 20 in from the right, 30 down; the badge at half opacity over magenta.
        expectColour(frame, x: 720 - 20 - 40, y: 30 + 20, 0x00FFFF)
        expectColour(frame, x: 720 - 20 - 90, y: 30 + 20, 0xFFFF00)
        expectColour(frame, x: 720 - 20 - 40, y: 30 + 50, 0xFFFF00)
        expectColour(frame, x: 40, y: 1280 - 40, 0xFF4080, tolerance: 20)
    }

    /// The change takes effect on the frame after the last one planned when it was made.
    /// The live mix runs on a thread of its own for 3 s (its waits are not held up by a busy
    /// test pool, so its recording stays short).
    @Test func aRunningMixSwitchesItsLayoutAndAWatermarkOnTheNextFrame() async throws {
        let (before, after, frames) = try await offPool { () throws -> (UInt64, UInt64, [(time: UInt64, cells: [[Int]], watermark: Bool)]) in
            let folder = try TestMedia.workspace()
            try Self.picture("logo.png", in: folder, width: 40, height: 20, 0x00FFFF)
            let ports = TestPorts.take(2)
            let mix = try RunningLiveMix(spec: """
                {"template": 600, "canvas": {"width": 360, "height": 640, "fps": 30},
                 "hosts": [{"userId": "alice", "input": {"rtp": {"video": {"port": \(ports[0])}}}},
                           {"userId": "bob", "input": {"rtp": {"video": {"port": \(ports[1])}}}}],
                 "images": {"logo": "logo.png"},
                 "live": {"disconnectTimeoutMs": 600000},
                 "output": {"video": {"preset": "ultrafast", "layoutSEI": "everyFrame"}},
                 "outputs": [{"type": "recording", "path": "live.mkv", "segmentSeconds": 600}]}
                """, in: folder)
            Thread.sleep(forTimeInterval: 1.5)
            guard let running = mix.running.first, let before = running.outputTime else { throw GStreamerError(message: "the mix did not start") }
            // What a PATCH body's `decorations` and `layout` parse into.
            var decorationFields = try JSONFields.decode(Data(#"{"watermarks": [{"image": "logo", "anchor": "topRight", "offset": [10, 10], "width": 40}]}"#.utf8),
                                                         source: "decorations")
            let decorations = try Decorations.parse(&decorationFields, images: ["logo"])
            var layoutFields = try JSONFields.decode(Data(#"{"cells": [{"x": 0, "y": 0, "width": 1, "height": "full"}, {"x": 0.5, "y": 0.05, "width": 0.4, "height": 0.4, "zOrder": 5}]}"#.utf8),
                                                     source: "layout")
            let layout = try CustomLayout.parse(&layoutFields, canvas: Size(width: 360, height: 640))
            try running.switchTemplate(to: layout)
            try running.setDecorations(decorations)
            let after = running.outputTime ?? before
            Thread.sleep(forTimeInterval: 1.5)
            try mix.stop()

            let recording = folder.appendingPathComponent("live-00001.mkv").path
            let messages = try LayoutSEITests.messages(in: recording)
            let decoded = try VideoFrames.decode(path: recording) { _ in true }.kept
            guard messages.count == decoded.count else { throw GStreamerError(message: "\(messages.count) layouts for \(decoded.count) frames") }
            return (before, after, zip(messages, decoded).map { message, frame in
                (UInt64(message["timeMs"] as? Int ?? 0) * 1_000_000,
                 (message["cells"] as? [[String: Any]] ?? []).map { [$0["x"], $0["y"], $0["width"], $0["height"]].compactMap { $0 as? Int } },
                 isClose(frame.rgb(x: 360 - 10 - 20, y: 10 + 10), 0x00FFFF, tolerance: 40))
            })
        }
        #expect(frames.count > 60)
        let frameTime: UInt64 = 33_333_333
        for (time, cells, watermark) in frames {
            if time <= before {
                #expect(cells == [[0, 138, 180, 322], [180, 138, 180, 322]] && !watermark, "frame at \(time / 1_000_000) ms, before the change")
            } else if time >= after + frameTime - 1_000_000 {
                #expect(cells != [[0, 138, 180, 322], [180, 138, 180, 322]] && watermark, "frame at \(time / 1_000_000) ms, after the change: \(cells)")
            }
            if time >= after + 10 * frameTime {
                #expect(cells == [[0, 0, 360, 640], [180, 18, 144, 144]], "settled on the new layout at \(time / 1_000_000) ms: \(cells)")
            }
        }
    }
}
