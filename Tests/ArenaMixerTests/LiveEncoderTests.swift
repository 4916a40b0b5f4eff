import Foundation
import Testing

/// A live mix that one core encodes several times faster than real time runs x264 on one
/// thread (cheaper when a machine runs several mixes); a larger or slower encode keeps
/// sliced threads. Read from the settings x264 writes into the stream it made.
@Suite struct LiveEncoderTests {
    @Test func smallLiveMixesEncodeOnOneThreadLargerOnesOnSlices() throws {
        let folder = try TestMedia.workspace()
        let ports = TestPorts.take(2)
        func room(_ name: String, canvas: (Int, Int), preset: String, port: Int) -> String {
            """
            {"canvas": {"width": \(canvas.0), "height": \(canvas.1)}, "output": {"video": {"preset": "\(preset)"}},
             "hosts": [{"userId": "\(name)", "input": {"rtp": {"video": {"port": \(port)}}}}],
             "outputs": [{"type": "recording", "path": "\(name).mkv"}]}
            """
        }
        let mix = try RunningLiveMix(specs: [room("small", canvas: (720, 1280), preset: "veryfast", port: ports[0]),
                                             room("slower", canvas: (720, 1280), preset: "faster", port: ports[1])], in: folder)
        Thread.sleep(forTimeInterval: 2)
        try mix.stop()

        func x264Options(_ name: String) throws -> String {
            let bytes = try Data(contentsOf: folder.appendingPathComponent("\(name)-00001.mkv"))
            let start = try #require(bytes.range(of: Data("options: ".utf8)), "\(name): no x264 settings in the stream")
            return String(decoding: bytes[start.upperBound...].prefix(2000).prefix { $0 != 0 }, as: UTF8.self)
        }
        let small = try x264Options("small"), slower = try x264Options("slower")
        #expect(small.contains(" threads=1 ") && small.contains(" sliced_threads=0 "), "\(small)")
        #expect(slower.contains(" sliced_threads=1 "), "\(slower)")
    }
}
