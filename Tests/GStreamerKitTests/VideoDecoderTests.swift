import CGStreamer
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Synchronization
import Testing

/// arenavideodec against GStreamer's own libav decoders: the same pictures, times and caps,
/// whether downstream takes libav's planes as they are (the compositor: strides from a video
/// meta) or gets a copy (appsink); decodebin picks it; broken streams end, never crash.
@Suite(.serialized) struct VideoDecoderTests {
    /// One decoded picture: its time, what the caps say of it, and its visible bytes per plane.
    struct Picture: Equatable {
        var pts: UInt64?
        var width, height: Int
        var isBT709, isFullRange: Bool
        var planes: [[UInt8]]
    }

    private let folder: URL = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-decoder-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// Encodes 45 frames of a moving test picture; `raw` is the caps before the encoder (each
    /// encoder on one thread, so as not to starve the service tests running beside these).
    private func clip(_ name: String, raw: String, encoder: String) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Pipeline(launch: "videotestsrc num-buffers=45 pattern=ball ! \(raw),framerate=30/1 ! \(encoder) ! mp4mux ! filesink location=\(path)")
            .runToEnd(timeLimit: 60)
        return path
    }

    /// Every picture `decoder` makes of `path`, taken after `tail` (appsink right after the decoder if empty).
    private func pictures(_ path: String, parser: String, decoder: String, tail: String = "") throws -> [Picture] {
        let pipeline = try Pipeline(launch: "filesrc location=\(path) ! qtdemux ! \(parser) ! \(decoder) ! \(tail) appsink name=out sync=false")
        let pictures = Mutex<[Picture]>([])
        try #require(pipeline.element(named: "out")).onNewSample { sample in
            guard let frame = sample.videoFrame(), let layout = frame.layout, case .planar(let shiftX, let shiftY) = layout else { return }
            let bytes: [[UInt8]] = frame.withPlanes { planes, strides in
                planes.indices.map { plane -> [UInt8] in
                    let width = plane == 0 ? frame.width : (frame.width + (1 << shiftX) - 1) >> shiftX
                    let rows = plane == 0 ? frame.height : (frame.height + (1 << shiftY) - 1) >> shiftY
                    var visible: [UInt8] = []
                    for row in 0..<rows { visible += UnsafeBufferPointer(start: planes[plane] + row * strides[plane], count: width) }
                    return visible
                }
            } ?? []
            let picture = Picture(pts: sample.runningTime, width: frame.width, height: frame.height,
                                  isBT709: frame.isBT709, isFullRange: frame.isFullRange, planes: bytes)
            pictures.withLock { $0.append(picture) }
        }
        try pipeline.runToEnd(timeLimit: 60)
        return pictures.withLock { $0 }
    }

    private func expectSamePictures(_ path: String, parser: String, reference: String, tail: String = "") throws {
        let expected = try pictures(path, parser: parser, decoder: reference, tail: tail)
        let decoded = try pictures(path, parser: parser, decoder: "arenavideodec max-threads=1", tail: tail)
        #expect(expected.count == 45, "\(reference) decoded \(expected.count) pictures")
        #expect(decoded.count == expected.count)
        for (index, (picture, wanted)) in zip(decoded, expected).enumerated() where picture != wanted {
            let times = "pts \(String(describing: picture.pts)) vs \(String(describing: wanted.pts))"
            let sizes = "\(picture.width)x\(picture.height) vs \(wanted.width)x\(wanted.height), BT.709 \(picture.isBT709) vs \(wanted.isBT709)"
            Issue.record("picture \(index) differs from \(reference)'s: \(times), \(sizes)")
            break
        }
    }

    /// B-frames (pictures leave in another order than they come), a size that is no multiple
    /// of 16 (libav crops and pads its planes), through appsink (a copy) and the compositor
    /// (libav's planes and strides as they are).
    @Test func h264WithBFramesDecodesAsAvdecDoes() throws {
        let path = try clip("b-frames.mp4", raw: "video/x-raw,format=I420,width=322,height=182",
                            encoder: "x264enc speed-preset=veryfast bframes=2 key-int-max=20 threads=1 ! h264parse")
        try expectSamePictures(path, parser: "h264parse", reference: "avdec_h264 max-threads=1")
        try expectSamePictures(path, parser: "h264parse", reference: "avdec_h264 max-threads=1",
                               tail: "compositor ! video/x-raw,format=I420 !")
    }

    /// What reaches an appsink: libav's own planes (one read-only memory each) once the sink
    /// says it takes video meta, as an input hub's does; a copy in one plain buffer otherwise.
    @Test func picturesAreHandedOnUncopiedWhereTheSinkTakesVideoMeta() throws {
        let path = try clip("handed.mp4", raw: "video/x-raw,format=I420,width=322,height=182", encoder: "x264enc speed-preset=ultrafast threads=1 ! h264parse")
        for takesMeta in [true, false] {
            let pipeline = try Pipeline(launch: "filesrc location=\(path) ! qtdemux ! h264parse ! arenavideodec ! appsink name=out sync=false")
            let sink = try #require(pipeline.element(named: "out"))
            if takesMeta { try sink.staticPad("sink").acceptVideoMeta() }
            let memories = Mutex<Set<String>>([])
            sink.onNewSample { sample in
                guard let buffer = gst_sample_get_buffer(sample.pointer) else { return }
                let count = gst_buffer_n_memory(buffer)
                let readOnly = (0..<count).allSatisfy { gst_buffer_peek_memory(buffer, $0).pointee.mini_object.flags & GST_MEMORY_FLAG_READONLY.rawValue != 0 }
                memories.withLock { _ = $0.insert("\(count) \(readOnly ? "read-only" : "writable")") }
            }
            try pipeline.runToEnd(timeLimit: 30)
            #expect(memories.withLock { $0 } == [takesMeta ? "3 read-only" : "1 writable"], "takes video meta: \(takesMeta)")
        }
    }

    @Test func h264In444AndH265DecodeAsAvdecDoes() throws {
        let full = try clip("444.mp4", raw: "video/x-raw,format=Y444,width=160,height=96", encoder: "x264enc speed-preset=ultrafast threads=1 ! h264parse")
        try expectSamePictures(full, parser: "h264parse", reference: "avdec_h264 max-threads=1")
        let hevc = try clip("hevc.mp4", raw: "video/x-raw,format=I420,width=200,height=120", encoder: "x265enc speed-preset=ultrafast option-string=pools=none:frame-threads=1 ! h265parse")
        try expectSamePictures(hevc, parser: "h265parse", reference: "avdec_h265 max-threads=1")
    }

    /// Two byte-stream clips of different sizes back to back: the second's parameter sets
    /// change the pictures' size mid-stream, and the output caps follow.
    @Test func aSizeChangeMidStreamIsFollowed() throws {
        var joined = Data()
        for (name, size) in [("small", "width=160,height=96"), ("large", "width=240,height=136")] {
            let path = folder.appendingPathComponent("\(name).h264").path
            try Pipeline(launch: "videotestsrc num-buffers=20 pattern=ball ! video/x-raw,format=I420,\(size),framerate=30/1 "
                         + "! x264enc speed-preset=ultrafast key-int-max=10 threads=1 ! video/x-h264,stream-format=byte-stream ! filesink location=\(path)")
                .runToEnd(timeLimit: 60)
            joined += try Data(contentsOf: URL(fileURLWithPath: path))
        }
        let path = folder.appendingPathComponent("joined.h264").path
        try joined.write(to: URL(fileURLWithPath: path))
        let pipeline = { (decoder: String) in
            "filesrc location=\(path) ! h264parse ! video/x-h264,alignment=au ! \(decoder) ! appsink name=out sync=false"
        }
        let sizes = { (decoder: String) throws -> [String] in
            let seen = Mutex<[String]>([])
            let run = try Pipeline(launch: pipeline(decoder))
            try #require(run.element(named: "out")).onNewSample { sample in
                if let frame = sample.videoFrame() { seen.withLock { $0.append("\(frame.width)x\(frame.height)") } }
            }
            try run.runToEnd(timeLimit: 60)
            return seen.withLock { $0 }
        }
        let decoded = try sizes("arenavideodec")
        #expect(decoded == Array(repeating: "160x96", count: 20) + Array(repeating: "240x136", count: 20), "\(decoded)")
        #expect(decoded == (try sizes("avdec_h264")))
    }

    @Test func decodebinPicksIt() throws {
        let path = try clip("pick.mp4", raw: "video/x-raw,format=I420,width=64,height=48", encoder: "x264enc speed-preset=ultrafast threads=1 ! h264parse")
        let pipeline = try Pipeline(launch: "filesrc location=\(path) ! decodebin name=d ! fakesink")
        let chosen = Mutex<[String]>([])
        try #require(pipeline.element(named: "d")).onDeepElementAdded { element in
            if let factory = element.factoryName { chosen.withLock { $0.append(factory) } }
        }
        try pipeline.runToEnd(timeLimit: 30)
        #expect(chosen.withLock { $0.contains("arenavideodec") && !$0.contains("avdec_h264") }, "\(chosen.withLock { $0 })")
    }

    /// Bytes overwritten all through the coded pictures: the decoder drops what it cannot
    /// decode, or fails with an error naming it; it does not crash or hang.
    @Test func brokenPicturesEndTheStreamOrFailCleanly() throws {
        let path = try clip("broken.mp4", raw: "video/x-raw,format=I420,width=320,height=180", encoder: "x264enc speed-preset=ultrafast key-int-max=10 threads=1 ! h264parse")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        var generator = SystemRandomNumberGenerator()
        let mdat = try #require(bytes.indices.dropLast(4).first { bytes[$0...($0 + 3)].elementsEqual("mdat".utf8) })
        for _ in 0..<400 { bytes[Int.random(in: (mdat + 64)..<(bytes.count - 4096), using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let decoded = try pictures(path, parser: "h264parse", decoder: "arenavideodec")
            #expect(decoded.count <= 45)
        } catch let error as GStreamerError {
            #expect(error.description.contains("arenavideodec") || error.description.contains("h264parse"), "\(error)")
        }
    }
}
