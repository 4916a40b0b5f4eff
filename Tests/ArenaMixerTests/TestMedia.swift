import ArenaLayout
import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Synchronization
import Testing

/// Solid-colour host clips made with GStreamer test sources, once per process.
enum TestMedia {
    static let folder: URL = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// Clips made by this process; held while one is made, so each is made once.
    private static let made = Mutex<Set<String>>([])

    enum Format: String {
        case mp4H264 = "mp4", webmVP8 = "webm", mkvVP9 = "mkv"
    }

    /// A clip of one colour (`0xRRGGBB`), with a 440 Hz tone unless `audio` is false; its
    /// frames in `pixels` (I420_10LE: H.264's High 10 profile).
    static func clip(rgb: UInt32, width: Int = 640, height: Int = 480, fps: Int = 30, seconds: Double = 2,
                     audio: Bool = true, format: Format = .mp4H264, pixels: String = "I420") throws -> URL {
        let name = String(format: "%06X-%dx%d-%d-%.1f-%@-%@.%@", rgb, width, height, fps, seconds, audio ? "a" : "n", pixels, format.rawValue)
        let file = folder.appendingPathComponent(name)
        return try made.withLock { made in
        if made.contains(name) { return file }
        let frames = Int((seconds * Double(fps)).rounded())
        let (encoder, muxer, audioEncoder) = switch format {
        case .mp4H264: ("x264enc speed-preset=ultrafast", "mp4mux", "avenc_aac")
        case .webmVP8: ("vp8enc deadline=1", "webmmux", "opusenc")
        case .mkvVP9: ("vp9enc deadline=1 cpu-used=8", "matroskamux", "opusenc")
        }
        var description = """
            videotestsrc pattern=solid-color foreground-color=\(0xFF00_0000 | rgb) num-buffers=\(frames) \
            ! video/x-raw,format=I420,width=\(width),height=\(height),framerate=\(fps)/1 ! videoconvert ! video/x-raw,format=\(pixels) ! \(encoder) \
            ! \(muxer) name=mux ! filesink location="\(file.path)"
            """
        if audio {
            let buffers = Int((seconds * 48000 / 1024).rounded(.up))
            description += " audiotestsrc num-buffers=\(buffers) samplesperbuffer=1024 ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! \(audioEncoder) ! mux."
        }
        try Pipeline(launch: description).runToEnd(timeLimit: 60)
        made.insert(name)
        return file
        }
    }

    /// A fresh folder for one test's spec and output.
    static func workspace() throws -> URL {
        let folder = folder.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}

/// Writes `json` as a spec in a new folder and plans it, to render to `out.<ext>`.
func planned(_ json: String, output: String = "out.mp4", in workspace: URL? = nil) throws -> MixPlan {
    let folder = try workspace ?? TestMedia.workspace()
    let specFile = folder.appendingPathComponent("spec.json")
    try Data(json.utf8).write(to: specFile)
    return try MixPlan(spec: try MixSpec.load(file: specFile), templates: try TemplateLibrary.bundled(),
                       outputOverride: folder.appendingPathComponent(output).path)
}

/// Writes `json` as a spec in a new folder, plans it and renders it to `out.<ext>`.
@discardableResult
func render(_ json: String, output: String = "out.mp4", in workspace: URL? = nil) throws -> (plan: MixPlan, path: String) {
    let plan = try planned(json, output: output, in: workspace)
    let result = try MixRenderer(plan: plan).run()
    return (plan, result.path)
}

/// The hosts array of a spec, one input file per host.
func hostsJSON(_ inputs: [(String, URL)]) -> String {
    "[" + inputs.map { #"{"userId": "\#($0.0)", "input": "\#($0.1.path)"}"# }.joined(separator: ", ") + "]"
}

/// Expects the pixel at (x, y) to be `rgb` within `tolerance` per channel (encoding shifts colours a little).
func expectColour(_ frame: RGBFrame, x: Int, y: Int, _ rgb: UInt32, tolerance: Int = 14,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    let (red, green, blue) = frame.rgb(x: x, y: y)
    let expected = (Int(rgb >> 16 & 0xFF), Int(rgb >> 8 & 0xFF), Int(rgb & 0xFF))
    let close = abs(Int(red) - expected.0) <= tolerance && abs(Int(green) - expected.1) <= tolerance
        && abs(Int(blue) - expected.2) <= tolerance
    #expect(close, "frame \(frame.index) at (\(x), \(y)) is (\(red), \(green), \(blue)), expected \(String(format: "#%06X", rgb))",
            sourceLocation: sourceLocation)
}

/// Colours used for hosts: pure enough to survive 4:2:0 and H.264.
enum Colour {
    static let red: UInt32 = 0xE02020
    static let green: UInt32 = 0x20C020
    static let blue: UInt32 = 0x2040E0
    static let yellow: UInt32 = 0xE0E020
    static let black: UInt32 = 0x000000
    static let placeholder: UInt32 = 0x1F2024
}

/// Peak levels of a file's audio.
enum AudioLevels {
    /// The largest absolute sample in each `window` seconds (mono, 8 kHz).
    static func peaks(path: String, window: Double) throws -> [Float] {
        let samples = try AudioSamples.decode(path: path, sampleRate: 8000)
        let size = Int(8000 * window)
        return stride(from: 0, to: samples.count, by: size).map { start in
            samples[start..<min(samples.count, start + size)].map(abs).max() ?? 0
        }
    }
}

/// Expects the cell centred at (x, y), at least 200 px high, to show the avatar
/// placeholder: the `#1F2024` fill below the centre and the default avatar's light head
/// just above it.
func expectPlaceholder(_ frame: RGBFrame, x: Int, y: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    expectColour(frame, x: x, y: y + 80, Colour.placeholder, tolerance: 6, sourceLocation: sourceLocation)
    expectColour(frame, x: x, y: y - 9, 0xE6E7EA, tolerance: 16, sourceLocation: sourceLocation)
}

/// Runs blocking `work` (making clips, a render, a decode, a live mix) on a thread of its own,
/// so that the test run's few pool threads stay free for the service tests' awaits; the test
/// checks what it returns.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
