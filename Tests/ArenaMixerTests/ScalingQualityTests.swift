import ArenaLayout
import CArenaPaint
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// Picture quality of the one-pass painting: a detailed source frame, centre-cropped to a
/// cell and scaled into it as the mix does, against the same crop scaled by ffmpeg's lanczos.
/// Its PSNR must be no more than 1 dB below that of the previous path on the same frame.
@Suite struct ScalingQualityTests {
    /// 8-bit sources. The previous path: videocrop, then videoconvertscale to the cell's caps.
    /// It also added a line or two of black when the even crop's shape differed from the
    /// cell's; it runs here without them (add-borders=false), so the bar is its scaler alone.
    @Test(arguments: [
        ("pinwheel", 1280, 720, 360, 640), ("zone-plate", 1280, 720, 360, 640), ("pinwheel", 540, 960, 360, 640),
        ("zone-plate", 1920, 1080, 240, 426), ("pinwheel", 640, 360, 720, 1280), ("zone-plate", 1080, 1920, 240, 426),
        ("pinwheel", 1080, 1920, 240, 426), ("zone-plate", 1920, 1080, 120, 213),
    ])
    func paintedCellsAreAsSharpAsThePreviousPath(pattern: String, width: Int, height: Int, cellWidth: Int, cellHeight: Int) throws {
        let scene = try Scene(pattern: pattern, width: width, height: height, cell: Size(width: cellWidth, height: cellHeight), format: "I420")
        defer { scene.remove() }
        let previousPath = scene.folder.appendingPathComponent("previous.yuv").path
        let insets = scene.insets
        try Pipeline(launch: """
            \(scene.source) ! videocrop left=\(insets.left) right=\(insets.right) top=\(insets.top) bottom=\(insets.bottom) ! videoconvertscale add-borders=false \
            ! video/x-raw,format=I420,width=\(cellWidth),height=\(cellHeight),pixel-aspect-ratio=1/1 ! filesink location=\(previousPath)
            """).runToEnd(timeLimit: 20)
        let previous = [UInt8](try Data(contentsOf: URL(fileURLWithPath: previousPath)))
        try scene.expectAsSharp(painted: try scene.paint(depth: 8), as: previous)
    }

    /// 10-bit sources, narrowed as they are scaled. The previous path: videoconvert to 8-bit
    /// I420 first (the whole frame), then the same painting.
    @Test(arguments: [("zone-plate", 1280, 720, 360, 640), ("pinwheel", 1920, 1080, 240, 426)])
    func tenBitCellsAreAsSharpAsConvertingFirst(pattern: String, width: Int, height: Int, cellWidth: Int, cellHeight: Int) throws {
        let scene = try Scene(pattern: pattern, width: width, height: height, cell: Size(width: cellWidth, height: cellHeight), format: "I420_10LE")
        defer { scene.remove() }
        let convertedPath = scene.folder.appendingPathComponent("converted.yuv").path
        try Pipeline(launch: "\(scene.source) ! videoconvert ! video/x-raw,format=I420 ! filesink location=\(convertedPath)").runToEnd(timeLimit: 20)
        let converted = try Data(contentsOf: URL(fileURLWithPath: convertedPath))
        try scene.expectAsSharp(painted: try scene.paint(depth: 10), as: try scene.paint(converted, depth: 8))
    }

    /// One source frame, its centre crop for a cell, and the lanczos reference of the crop's luma.
    struct Scene {
        let folder: URL
        let source: String
        let frame: Data
        let width: Int, height: Int
        /// Bytes a sample of `frame`: 1, or 2 for a 10-bit format.
        let sampleBytes: Int
        let cell: Size
        let insets: CropInsets
        let crop: arena_rect

        init(pattern: String, width: Int, height: Int, cell: Size, format: String) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-quality-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let detail = pattern == "zone-plate" ? " kx2=20 ky2=20 kt=0" : ""
            source = "videotestsrc pattern=\(pattern)\(detail) num-buffers=1 ! video/x-raw,format=\(format),width=\(width),height=\(height)"
            let sourcePath = folder.appendingPathComponent("source.yuv").path
            try Pipeline(launch: "\(source) ! filesink location=\(sourcePath)").runToEnd(timeLimit: 20)
            frame = try Data(contentsOf: URL(fileURLWithPath: sourcePath))
            (self.width, self.height, self.cell) = (width, height, cell)
            sampleBytes = format.hasSuffix("_10LE") ? 2 : 1
            insets = CropInsets.centreCrop(source: Size(width: width, height: height), cell: cell)
            crop = arena_rect(x: Int32(insets.left), y: Int32(insets.top), width: Int32(width - insets.left - insets.right),
                              height: Int32(height - insets.top - insets.bottom))
        }

        func remove() { try? FileManager.default.removeItem(at: folder) }

        /// Arena: the crop as pointer offsets, scaled straight into a canvas the cell's size
        /// (I420), from `frame` (this scene's own unless given) of `depth`-bit samples.
        func paint(_ frame: Data? = nil, depth: Int) throws -> [UInt8] {
            let bytes = depth > 8 ? 2 : 1
            // Chroma rows round up: an odd height's last row of 2 x 2 blocks is painted too.
            let (lumaSize, chromaSize) = (cell.width * cell.height, (cell.width / 2) * ((cell.height + 1) / 2))
            var painted = [UInt8](repeating: 0, count: lumaSize + 2 * chromaSize)
            let result = (frame ?? self.frame).withUnsafeBytes { data in
                let base = data.bindMemory(to: UInt8.self).baseAddress!
                return painted.withUnsafeMutableBufferPointer { out in
                    let o = out.baseAddress!
                    var readable = arena_source()
                    let luma = width * height * bytes
                    readable.planes = (base, base + luma, base + luma + luma / 4)
                    readable.strides = (Int32(width * bytes), Int32(width / 2 * bytes), Int32(width / 2 * bytes))
                    (readable.width, readable.height) = (Int32(width), Int32(height))
                    (readable.chroma_shift_x, readable.chroma_shift_y, readable.depth) = (1, 1, Int32(depth))
                    var canvas = arena_canvas()
                    canvas.planes = (o, o + lumaSize, o + lumaSize + chromaSize)
                    canvas.strides = (Int32(cell.width), Int32(cell.width / 2), Int32(cell.width / 2))
                    (canvas.width, canvas.height) = (Int32(cell.width), Int32(cell.height))
                    return arena_paint_scaled(&readable, crop, &canvas, arena_rect(x: 0, y: 0, width: Int32(cell.width), height: Int32(cell.height)))
                }
            }
            #expect(result == 0)
            return painted
        }

        /// ffmpeg's lanczos on the crop's luma (10-bit sources scaled as 10-bit, then to 8).
        func reference() throws -> [UInt8] {
            let bytes = sampleBytes
            var lumaCrop = Data()
            for row in Int(crop.y)..<Int(crop.y + crop.height) {
                let start = (row * width + Int(crop.x)) * bytes
                lumaCrop.append(frame[start..<(start + Int(crop.width) * bytes)])
            }
            let cropPath = folder.appendingPathComponent("crop.y").path, referencePath = folder.appendingPathComponent("reference.y").path
            try lumaCrop.write(to: URL(fileURLWithPath: cropPath))
            let ffmpeg = Process()
            ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
            ffmpeg.arguments = ["-nostdin", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", bytes == 2 ? "gray10le" : "gray", "-s", "\(crop.width)x\(crop.height)",
                                "-i", cropPath, "-vf", "scale=\(cell.width):\(cell.height):flags=lanczos", "-f", "rawvideo", "-pix_fmt", "gray", referencePath]
            try ffmpeg.run()
            ffmpeg.waitUntilExit()
            #expect(ffmpeg.terminationStatus == 0)
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: referencePath)))
        }

        /// Expects `painted`'s luma to be no more than 1 dB further from the reference than `previous`'s.
        func expectAsSharp(painted: [UInt8], as previous: [UInt8]) throws {
            let reference = try reference()
            let lumaCount = cell.width * cell.height
            let now = ScalingQualityTests.psnr(Array(painted.prefix(lumaCount)), reference)
            let before = ScalingQualityTests.psnr(Array(previous.prefix(lumaCount)), reference)
            print("\(source) -> \(cell.width)x\(cell.height): PSNR against lanczos \(String(format: "%.2f", now)) dB, previous path \(String(format: "%.2f", before)) dB")
            #expect(now >= before - 1, "PSNR \(now) dB against the previous path's \(before) dB")
        }
    }

    static func psnr(_ a: [UInt8], _ b: [UInt8]) -> Double {
        precondition(a.count == b.count && !a.isEmpty)
        let squared = zip(a, b).reduce(0.0) { sum, pair in let d = Double(pair.0) - Double(pair.1); return sum + d * d }
        let mean = squared / Double(a.count)
        return mean == 0 ? 99 : 10 * log10(255 * 255 / mean)
    }
}
