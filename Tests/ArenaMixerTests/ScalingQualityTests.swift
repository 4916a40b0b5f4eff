import ArenaLayout
import CArenaPaint
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// Picture quality of the one-pass painting: a detailed source frame, centre-cropped to a
/// cell and scaled into it as the mix does, against the same crop scaled by ffmpeg's lanczos.
/// Its PSNR must be no more than 1 dB below that of the previous path (videocrop, then
/// videoconvertscale to the cell's caps) on the same frame. That path also added a line or
/// two of black when the even crop's shape differed from the cell's; it runs here without
/// them (add-borders=false), so the bar is its scaler alone.
@Suite struct ScalingQualityTests {
    @Test(arguments: [
        ("pinwheel", 1280, 720, 360, 640), ("zone-plate", 1280, 720, 360, 640), ("pinwheel", 540, 960, 360, 640),
        ("zone-plate", 1920, 1080, 240, 426), ("pinwheel", 640, 360, 720, 1280),
    ])
    func paintedCellsAreAsSharpAsThePreviousPath(pattern: String, width: Int, height: Int, cellWidth: Int, cellHeight: Int) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-quality-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let detail = pattern == "zone-plate" ? " kx2=20 ky2=20 kt=0" : ""
        let source = "videotestsrc pattern=\(pattern)\(detail) num-buffers=1 ! video/x-raw,format=I420,width=\(width),height=\(height)"
        let sourcePath = folder.appendingPathComponent("source.yuv").path
        try Pipeline(launch: "\(source) ! filesink location=\(sourcePath)").runToEnd(timeLimit: 20)
        let frame = try Data(contentsOf: URL(fileURLWithPath: sourcePath))
        let insets = CropInsets.centreCrop(source: Size(width: width, height: height), cell: Size(width: cellWidth, height: cellHeight))
        let crop = (x: insets.left, y: insets.top, width: width - insets.left - insets.right, height: height - insets.top - insets.bottom)

        // Arena: the crop as pointer offsets, scaled straight into a canvas the cell's size.
        var painted = [UInt8](repeating: 0, count: cellWidth * cellHeight * 3 / 2)
        let chroma = cellWidth * cellHeight / 4
        frame.withUnsafeBytes { bytes in
            let base = bytes.bindMemory(to: UInt8.self).baseAddress!
            painted.withUnsafeMutableBufferPointer { out in
                let o = out.baseAddress!
                var readable = arena_source(planes: (base, base + width * height, base + width * height * 5 / 4),
                                            strides: (Int32(width), Int32(width / 2), Int32(width / 2)), width: Int32(width), height: Int32(height),
                                            chroma_shift_x: 1, chroma_shift_y: 1, uv_interleaved: 0)
                var canvas = arena_canvas(planes: (o, o + cellWidth * cellHeight, o + cellWidth * cellHeight + chroma),
                                          strides: (Int32(cellWidth), Int32(cellWidth / 2), Int32(cellWidth / 2)),
                                          width: Int32(cellWidth), height: Int32(cellHeight))
                let result = arena_paint_scaled(&readable, arena_rect(x: Int32(crop.x), y: Int32(crop.y), width: Int32(crop.width), height: Int32(crop.height)),
                                                &canvas, arena_rect(x: 0, y: 0, width: Int32(cellWidth), height: Int32(cellHeight)))
                #expect(result == 0)
            }
        }

        // The previous path, on the same frame.
        let previousPath = folder.appendingPathComponent("previous.yuv").path
        try Pipeline(launch: """
            \(source) ! videocrop left=\(insets.left) right=\(insets.right) top=\(insets.top) bottom=\(insets.bottom) ! videoconvertscale add-borders=false \
            ! video/x-raw,format=I420,width=\(cellWidth),height=\(cellHeight),pixel-aspect-ratio=1/1 ! filesink location=\(previousPath)
            """).runToEnd(timeLimit: 20)
        let previous = [UInt8](try Data(contentsOf: URL(fileURLWithPath: previousPath)))

        // The reference: ffmpeg's lanczos on the same crop (luma).
        var lumaCrop = Data()
        for row in crop.y..<(crop.y + crop.height) { lumaCrop.append(frame[(row * width + crop.x)..<(row * width + crop.x + crop.width)]) }
        let cropPath = folder.appendingPathComponent("crop.y").path, referencePath = folder.appendingPathComponent("reference.y").path
        try lumaCrop.write(to: URL(fileURLWithPath: cropPath))
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray", "-s", "\(crop.width)x\(crop.height)",
                            "-i", cropPath, "-vf", "scale=\(cellWidth):\(cellHeight):flags=lanczos", "-f", "rawvideo", "-pix_fmt", "gray", referencePath]
        try ffmpeg.run()
        ffmpeg.waitUntilExit()
        #expect(ffmpeg.terminationStatus == 0)
        let reference = [UInt8](try Data(contentsOf: URL(fileURLWithPath: referencePath)))

        let lumaCount = cellWidth * cellHeight
        let now = Self.psnr(Array(painted.prefix(lumaCount)), reference), before = Self.psnr(Array(previous.prefix(lumaCount)), reference)
        print("\(pattern) \(width)x\(height) -> \(cellWidth)x\(cellHeight): PSNR against lanczos \(String(format: "%.2f", now)) dB, previous path \(String(format: "%.2f", before)) dB")
        #expect(now >= before - 1, "PSNR \(now) dB against the previous path's \(before) dB")
    }

    static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count && !a.isEmpty)
        let squared = zip(a, b).reduce(0.0) { sum, pair in let d = Double(pair.0) - Double(pair.1); return sum + d * d }
        let mean = squared / Double(a.count)
        return mean == 0 ? 99 : 10 * log10(255 * 255 / mean)
    }
}
