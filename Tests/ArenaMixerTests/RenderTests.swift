import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// Whole renders from generated inputs, decoded back and checked pixel by pixel. Cell
/// centres come from the reference geometry on 720 x 1280 (see ArenaLayoutTests).
@Suite(.serialized) struct RenderTests {
    @Test func twoHostsSideBySideOnBlack() throws {
        let alice = try TestMedia.clip(rgb: Colour.red, width: 640, height: 480)
        let bob = try TestMedia.clip(rgb: Colour.green, width: 1280, height: 720)
        let (_, path) = try render("""
            {"template": 600, "duration": 2, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])),
             "output": {"video": {"preset": "ultrafast"}}}
            """)
        let (count, frames) = try VideoFrames.decode(path: path) { $0 == 30 }
        #expect(count == 60)
        let frame = try #require(frames.first)
        expectColour(frame, x: 180, y: 598, Colour.red)     // cell (0, 276, 360, 644)
        expectColour(frame, x: 540, y: 598, Colour.green)   // cell (360, 276, 360, 644)
        expectColour(frame, x: 4, y: 280, Colour.red)       // just inside the cell's corner: filled, not letterboxed
        expectColour(frame, x: 716, y: 916, Colour.green)
        expectColour(frame, x: 360, y: 100, Colour.black)   // above the cells
        expectColour(frame, x: 360, y: 1100, Colour.black)  // below the cells
        expectColour(frame, x: 360, y: 270, Colour.black)   // 6 px above the cells' top edge
    }

    @Test func aColouredCanvasShowsAroundTheCells() throws {
        let alice = try TestMedia.clip(rgb: Colour.red)
        let (_, path) = try render("""
            {"template": 600, "duration": 0.5, "canvas": {"background": "#3060A0"},
             "hosts": \(hostsJSON([("alice", alice), ("bob", alice)])), "output": {"video": {"preset": "ultrafast"}}}
            """)
        let frame = try #require(try VideoFrames.decode(path: path) { $0 == 5 }.kept.first)
        expectColour(frame, x: 360, y: 100, 0x3060A0)
        expectColour(frame, x: 180, y: 598, Colour.red)
    }

    @Test func outputStreamIsH264AtTheCanvasSizeWithAudio() throws {
        let alice = try TestMedia.clip(rgb: Colour.red)
        let bob = try TestMedia.clip(rgb: Colour.green, audio: false)
        let (_, path) = try render("""
            {"template": 600, "duration": 1.5, "canvas": {"fps": 25},
             "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])), "output": {"video": {"preset": "ultrafast"}}}
            """)
        let info = try MediaInfo.discover(uri: URL(fileURLWithPath: path).absoluteString)
        #expect(info.container == "video/quicktime")
        #expect(info.video.count == 1)
        #expect(info.video.first?.codec == "video/x-h264")
        #expect(info.video.first?.width == 720)
        #expect(info.video.first?.height == 1280)
        #expect(info.video.first?.frameRate == 25)
        #expect(info.audio.first?.codec == "audio/mpeg")
        #expect(info.audio.first?.sampleRate == 48000)
        #expect(try VideoFrames.decode(path: path).count == 38)  // 1.5 s x 25 fps = 37.5, rounded
    }

    @Test func fourHostsInAGrid() throws {
        let colours = [Colour.red, Colour.green, Colour.blue, Colour.yellow]
        let hosts = try colours.enumerated().map { ("host\($0.offset)", try TestMedia.clip(rgb: $0.element)) }
        let (_, path) = try render("""
            {"template": 600, "duration": 1, "hosts": \(hostsJSON(hosts)), "output": {"video": {"preset": "ultrafast"}}}
            """)
        let frame = try #require(try VideoFrames.decode(path: path) { $0 == 15 }.kept.first)
        expectColour(frame, x: 180, y: 456, Colour.red)      // (0, 276, 360, 360)
        expectColour(frame, x: 540, y: 456, Colour.green)    // (360, 276, 360, 360)
        expectColour(frame, x: 180, y: 816, Colour.blue)     // (0, 636, 360, 360)
        expectColour(frame, x: 540, y: 816, Colour.yellow)   // (360, 636, 360, 360)
        expectColour(frame, x: 360, y: 1100, Colour.black)
    }

    /// Cells glide to their new rectangles over 300 ms (9 frames at 30 fps, eased), the frame
    /// the change is scheduled for being the first step, and a new cell fades in.
    @Test func joinAndLeaveGlideTheCellsToTheirNewPlaces() async throws {
        let (count, frames) = try await offPool {
            let alice = try TestMedia.clip(rgb: Colour.red, seconds: 3)
            let bob = try TestMedia.clip(rgb: Colour.green, seconds: 3)
            let carol = try TestMedia.clip(rgb: Colour.blue, seconds: 3)
            let (_, path) = try render("""
                {"template": 600, "duration": 3, "hosts": \(hostsJSON([("alice", alice), ("bob", bob), ("carol", carol)])),
                 "timeline": [{"at": 1, "event": "hostJoined", "userId": "carol"},
                              {"at": 2, "event": "hostLeft", "userId": "bob"}],
                 "output": {"video": {"preset": "ultrafast", "bitrateKbps": 8000}}}
                """)
            return try VideoFrames.decode(path: path) { (27...42).contains($0) || (57...72).contains($0) }
        }
        #expect(count == 90)
        /// The first column at or after `from` on row `y` that is not `colour`.
        func edge(_ frame: RGBFrame, y: Int, from: Int, _ colour: UInt32) -> Int {
            (from..<frame.width).first { !isClose(frame.rgb(x: $0, y: y), colour, tolerance: 40) } ?? frame.width
        }
        // Carol joins at frame 30: alice's cell (0, 276, 360, 644) becomes the big (0, 276, 480, 480).
        let aliceEdges = frames.filter { $0.index < 45 }.map { ($0.index, edge($0, y: 300, from: 0, Colour.red)) }
        for (index, right) in aliceEdges {
            switch index {
            case ..<30: #expect(abs(right - 360) <= 2, "frame \(index): alice's cell ends at \(right)")
            case 30..<38: #expect(right > 362 && right <= 482, "frame \(index): alice's cell ends at \(right), between the layouts")
            default: #expect(abs(right - 480) <= 2, "frame \(index): alice's cell ends at \(right)")
            }
        }
        let gliding = aliceEdges.filter { (30..<38).contains($0.0) }.map(\.1)
        #expect(gliding == gliding.sorted() && gliding.filter { $0 < 476 }.count >= 5, "a glide, not a jump: \(gliding)")
        #expect(gliding[0] - 360 > 478 - gliding.last!, "eased out: fast first, slow last: \(gliding)")
        // Carol's cell (480, 516, 240, 240) fades in over the same frames.
        let carolBlue = frames.filter { (29...39).contains($0.index) }.map { Int($0.rgb(x: 600, y: 636).blue) }
        #expect(carolBlue.first! < 100 && carolBlue.last! > 200 && carolBlue == carolBlue.sorted(), "carol's blue: \(carolBlue)")
        // Bob leaves at frame 60: carol glides from (480, 516, 240, 240) to (360, 276, 360, 644).
        for frame in frames where frame.index >= 57 {
            let left = (0..<720).first { isClose(frame.rgb(x: $0, y: 560), Colour.blue, tolerance: 40) } ?? 720
            switch frame.index {
            case ..<60: #expect(abs(left - 480) <= 2, "frame \(frame.index): carol's cell starts at \(left)")
            case 60..<68: #expect(left >= 358 && left < 478, "frame \(frame.index): carol's cell starts at \(left)")
            default:
                #expect(abs(left - 360) <= 2, "frame \(frame.index): carol's cell starts at \(left)")
                expectColour(frame, x: 180, y: 598, Colour.red)
                expectColour(frame, x: 540, y: 900, Colour.blue)
            }
        }
    }

    @Test func anInputThatEndsEarlyShowsThePlaceholderAndTheMixGoesOn() throws {
        let alice = try TestMedia.clip(rgb: Colour.red, seconds: 2)
        let bob = try TestMedia.clip(rgb: Colour.green, seconds: 1)
        let (_, path) = try render("""
            {"template": 600, "duration": 2, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])),
             "output": {"video": {"preset": "ultrafast"}}}
            """)
        let (count, frames) = try VideoFrames.decode(path: path) { $0 == 15 || $0 == 50 }
        #expect(count == 60)
        expectColour(frames[0], x: 540, y: 598, Colour.green)
        expectPlaceholder(frames[1], x: 540, y: 598)
        expectColour(frames[1], x: 180, y: 598, Colour.red)
    }

    @Test func cameraOffShowsThePlaceholderInThatCellOnly() throws {
        let alice = try TestMedia.clip(rgb: Colour.red)
        let bob = try TestMedia.clip(rgb: Colour.green)
        let (_, path) = try render("""
            {"template": 600, "duration": 2, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])),
             "timeline": [{"at": 1, "event": "cameraOff", "userId": "bob"}],
             "output": {"video": {"preset": "ultrafast"}}}
            """)
        let frames = try VideoFrames.decode(path: path) { $0 == 28 || $0 == 32 }.kept
        expectColour(frames[0], x: 540, y: 598, Colour.green)
        expectPlaceholder(frames[1], x: 540, y: 598)
        expectColour(frames[1], x: 180, y: 598, Colour.red)
    }

    @Test func webmAndMatroskaInputsOfOtherRatesAndSizesWithoutAudio() throws {
        let alice = try TestMedia.clip(rgb: Colour.red, width: 480, height: 854, fps: 25, audio: false, format: .webmVP8)
        let bob = try TestMedia.clip(rgb: Colour.blue, width: 1000, height: 562, fps: 60, audio: false, format: .mkvVP9)
        let (_, path) = try render("""
            {"template": 600, "duration": 1, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])),
             "output": {"video": {"preset": "ultrafast"}, "audio": {"codec": "opus"}}}
            """, output: "out.mkv")
        let info = try MediaInfo.discover(uri: URL(fileURLWithPath: path).absoluteString)
        #expect(info.container == "video/x-matroska")
        #expect(info.audio.first?.codec == "audio/x-opus")
        let (count, frames) = try VideoFrames.decode(path: path) { $0 == 20 }
        #expect(count == 30)
        expectColour(frames[0], x: 180, y: 598, Colour.red)
        expectColour(frames[0], x: 540, y: 598, Colour.blue)
    }

    /// A 10-bit input (H.264 High 10) is read by the painting step as it is, narrowed to 8 bits
    /// as it is scaled, beside an 8-bit one.
    @Test func aTenBitInputIsPaintedBesideAnEightBitOne() throws {
        let alice = try TestMedia.clip(rgb: Colour.green, width: 1280, height: 720, audio: false, pixels: "I420_10LE")
        let bob = try TestMedia.clip(rgb: Colour.yellow, width: 720, height: 1280, audio: false)
        let probe = Process(), output = Pipe()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/ffprobe")
        probe.arguments = ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=pix_fmt", "-of", "csv=p=0", alice.path]
        probe.standardOutput = output
        try probe.run()
        probe.waitUntilExit()
        let pixels = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(pixels.hasPrefix("yuv420p10le"), "the clip's pixels: \(pixels)")
        let (_, path) = try render("""
            {"template": 600, "duration": 1, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])),
             "output": {"video": {"preset": "ultrafast"}}}
            """)
        let frames = try VideoFrames.decode(path: path) { $0 == 15 }.kept
        expectColour(frames[0], x: 180, y: 598, Colour.green)
        expectColour(frames[0], x: 540, y: 598, Colour.yellow)
    }

    @Test func anInputThatChangesSizeMidStreamKeepsFillingItsCell() throws {
        // Two MPEG-TS segments, 4:3 green then 16:9 blue, joined as one stream.
        let folder = try TestMedia.workspace()
        var joined = Data()
        for (index, (rgb, width, height)) in [(Colour.green, 640, 480), (Colour.blue, 1280, 720)].enumerated() {
            let part = folder.appendingPathComponent("part\(index).ts")
            try Pipeline(launch: """
                videotestsrc pattern=solid-color foreground-color=\(0xFF00_0000 | rgb) num-buffers=30 \
                timestamp-offset=\(index * 1_000_000_000) ! video/x-raw,width=\(width),height=\(height),framerate=30/1 \
                ! x264enc speed-preset=ultrafast key-int-max=10 ! h264parse config-interval=-1 ! mpegtsmux \
                ! filesink location=\(part.path)
                """).runToEnd(timeLimit: 30)
            joined.append(try Data(contentsOf: part))
        }
        let rotating = folder.appendingPathComponent("rotating.ts")
        try joined.write(to: rotating)
        let alice = try TestMedia.clip(rgb: Colour.red)
        let (_, path) = try render("""
            {"template": 600, "duration": 2, "hosts": \(hostsJSON([("alice", alice), ("bob", rotating)])),
             "output": {"video": {"preset": "ultrafast"}}}
            """)
        let (count, frames) = try VideoFrames.decode(path: path) { $0 == 15 || $0 == 45 }
        #expect(count == 60)
        for (frame, colour) in zip(frames, [Colour.green, Colour.blue]) {
            expectColour(frame, x: 540, y: 598, colour)  // centre of (360, 276, 360, 644)
            expectColour(frame, x: 364, y: 280, colour)  // its corners: still filled, no bars
            expectColour(frame, x: 716, y: 916, colour)
        }
    }

    @Test func floatTemplateDrawsTheTileAboveTheFullScreenHost() throws {
        let alice = try TestMedia.clip(rgb: Colour.red)
        let bob = try TestMedia.clip(rgb: Colour.green)
        let (_, path) = try render("""
            {"template": 601, "duration": 1, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])),
             "timeline": [{"at": 0.5, "event": "cameraOff", "userId": "alice"}],
             "output": {"video": {"preset": "ultrafast"}}}
            """)
        let frames = try VideoFrames.decode(path: path) { $0 == 5 || $0 == 25 }.kept
        expectColour(frames[0], x: 360, y: 100, Colour.red)     // slot 0 fills the canvas
        expectColour(frames[0], x: 648, y: 1012, Colour.green)  // tile (592, 904, 112, 216)
        // With the owner's camera off, its placeholder stays under the tile.
        expectColour(frames[1], x: 360, y: 100, Colour.placeholder, tolerance: 6)
        expectPlaceholder(frames[1], x: 360, y: 640)                // the avatar, centred in the canvas
        expectColour(frames[1], x: 648, y: 1012, Colour.green)
    }
}

func isClose(_ pixel: (red: UInt8, green: UInt8, blue: UInt8), _ rgb: UInt32, tolerance: Int = 14) -> Bool {
    abs(Int(pixel.red) - Int(rgb >> 16 & 0xFF)) <= tolerance && abs(Int(pixel.green) - Int(rgb >> 8 & 0xFF)) <= tolerance
        && abs(Int(pixel.blue) - Int(rgb & 0xFF)) <= tolerance
}
