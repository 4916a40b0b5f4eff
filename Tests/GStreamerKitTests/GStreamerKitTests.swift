import Foundation
import GStreamerKit
import GStreamerTestSupport
import Synchronization
import Testing

/// The fence: checked properties, values built into caps, and buffers through appsrc and
/// appsink with their times and bytes intact.
@Suite struct GStreamerKitTests {
    @Test func propertiesAreCheckedByNameTypeAndRange() throws {
        let source = try Element(factory: "audiotestsrc", name: "tone")
        try source.set("volume", 0.5)
        try source.set("wave", nick: "silence")
        let refused: [(String, () throws -> Void)] = [
            ("no property", { try source.set("no-such-property", true) }),
            ("a gdouble, not", { try source.set("volume", Int32(1)) }),
            ("cannot be", { try source.set("volume", 2.5) }),
            ("has no value", { try source.set("wave", nick: "sine ! filesink location=/tmp/x") }),
            ("a gboolean, not", { try source.set("is-live", "true") }),
        ]
        for (expected, attempt) in refused {
            let error = try #require(throws: GStreamerError.self) { try attempt() }
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.description.contains("tone"), "the element is named: \(error)")
        }
    }

    @Test func capsFromValuesCannotGrowFields() throws {
        let caps = try Caps(mediaType: "application/x-rtp", ["media": .string("video,payload=1"), "payload": .int(96)])
        #expect(caps.mediaType == "application/x-rtp")
        #expect(caps.int("payload") == 96)
        let framed = try Caps(mediaType: "video/x-raw", ["framerate": .fraction(30, 1)])
        #expect(framed.fraction("framerate")! == (30, 1))
    }

    /// videotestsrc -> appsink; its samples pushed into appsrc -> identity -> appsink come out
    /// with their running times moved back by `from` and the same bytes.
    @Test func samplesGoThroughAppSourceAndSinkUnchanged() throws {
        let producer = try Pipeline(launch: "videotestsrc num-buffers=5 pattern=ball ! video/x-raw,format=I420,width=64,height=48,framerate=10/1 ! appsink name=out sync=false")
        let sent = try collect(from: producer, sink: "out", count: 5) { }
        #expect(sent.map(\.time) == (0..<5).map { UInt64($0) * 100_000_000 })

        let consumer = Pipeline(name: "consumer")
        let source = try Element(factory: "appsrc", name: "in", ["format": .nick("time")])
        let sink = try Element(factory: "appsink", name: "out", ["sync": .bool(false)])
        try consumer.addChain([source, try Element(factory: "identity"), sink])
        let received = try collect(from: consumer, sink: "out", count: 4) {
            for sample in sent.dropFirst().map(\.sample) { #expect(source.push(sample, from: 100_000_000) == .ok) }
            source.endAppStream()
        }
        #expect(received.map(\.time) == (0..<4).map { UInt64($0) * 100_000_000 })
        #expect(received.map(\.bytes) == sent.dropFirst().map(\.bytes))
        #expect(received.allSatisfy { $0.bytes.count == 64 * 48 * 3 / 2 })
    }

    private func collect(from pipeline: Pipeline, sink name: String, count: Int,
                         feed: () throws -> Void) throws -> [(sample: Sample, time: UInt64, bytes: [UInt8])] {
        let samples = Mutex<[(sample: Sample, time: UInt64, bytes: [UInt8])]>([])
        let done = DispatchSemaphore(value: 0)
        try #require(pipeline.element(named: name)).onNewSample { sample in
            let bytes = sample.withBytes { Array($0) } ?? []
            samples.withLock {
                $0.append((sample, sample.runningTime ?? .max, bytes))
                if $0.count == count { done.signal() }
            }
        }
        try pipeline.play()
        defer { pipeline.stop() }
        try feed()
        #expect(done.wait(timeout: .now() + 10) == .success)
        return samples.withLock { $0 }
    }
}
