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

    /// Ticks each second, pushed into an audio mixer 33 ms later from 2.5 s on: marked
    /// discontinuous, the ticks after the move sound 33 ms later; unmarked, the mixer takes the
    /// jump (under its 40 ms alignment threshold) for jitter and plays them where they were.
    @Test func aDiscontinuousPushMovesTheSoundThroughAMixer() throws {
        let producer = try Pipeline(launch: "audiotestsrc wave=ticks num-buffers=250 samplesperbuffer=960 ! audio/x-raw,format=S16LE,rate=48000,channels=1 ! appsink name=out sync=false")
        let produced = try collect(from: producer, sink: "out", count: 250) { }
        let sent = produced.map(\.sample), ticks = Self.onsets(produced).filter { $0 < 4_400 }
        #expect(ticks.count == 5)
        let shift: Int64 = 33_333_333
        for marked in [true, false] {
            let consumer = Pipeline(name: "mixing")
            let source = try Element(factory: "appsrc", name: "in", ["format": .nick("time")])
            let sink = try Element(factory: "appsink", name: "out", ["sync": .bool(false)])
            try consumer.addChain([source, try Element(factory: "audiomixer"), sink])
            let mixed = try collect(from: consumer, sink: "out", until: 4_500_000_000) {
                for (index, sample) in sent.enumerated() {
                    let moved = index >= 125
                    #expect(source.push(sample, from: 0, shiftedBy: moved ? shift : 0, discontinuous: marked && index == 125) == .ok)
                }
                source.endAppStream()
            }
            let expected = ticks.map { $0 < 2_500 || !marked ? $0 : $0 + 33 }
            #expect(Self.onsets(mixed).filter { $0 < 4_400 + 33 } == expected, "marked: \(marked)")
        }
    }

    /// The times (ms) at which mono 16-bit samples rise past 1000 after half a second below it.
    private static func onsets(_ samples: [(sample: Sample, time: UInt64, bytes: [UInt8])]) -> [Int] {
        var onsets: [Int] = [], quiet = 24_001
        for (_, time, bytes) in samples {
            bytes.withUnsafeBytes { raw in
                for (index, value) in raw.bindMemory(to: Int16.self).enumerated() {
                    if abs(Int(value)) > 1_000 {
                        if quiet > 24_000 { onsets.append(Int((Double(time) / 1e6 + Double(index) / 48).rounded())) }
                        quiet = 0
                    } else {
                        quiet += 1
                    }
                }
            }
        }
        return onsets
    }

    /// The samples an appsink gets until one starts at or after running time `end`.
    private func collect(from pipeline: Pipeline, sink name: String, until end: UInt64,
                         feed: () throws -> Void) throws -> [(sample: Sample, time: UInt64, bytes: [UInt8])] {
        try collect(from: pipeline, sink: name, until: { $0.last?.time ?? 0 >= end }, feed: feed)
    }

    /// The first `count` samples an appsink gets.
    private func collect(from pipeline: Pipeline, sink name: String, count: Int,
                         feed: () throws -> Void) throws -> [(sample: Sample, time: UInt64, bytes: [UInt8])] {
        try collect(from: pipeline, sink: name, until: { $0.count == count }, feed: feed)
    }

    /// The samples an appsink gets, each with its running time and bytes, until `done` holds for them.
    private func collect(from pipeline: Pipeline, sink name: String, until done: @escaping @Sendable ([(sample: Sample, time: UInt64, bytes: [UInt8])]) -> Bool,
                         feed: () throws -> Void) throws -> [(sample: Sample, time: UInt64, bytes: [UInt8])] {
        let samples = Mutex<[(sample: Sample, time: UInt64, bytes: [UInt8])]>([])
        let finished = DispatchSemaphore(value: 0)
        try #require(pipeline.element(named: name)).onNewSample { sample in
            let bytes = sample.withBytes { Array($0) } ?? []
            samples.withLock {
                $0.append((sample, sample.runningTime ?? .max, bytes))
                if done($0) { finished.signal() }
            }
        }
        try pipeline.play()
        defer { pipeline.stop() }
        try feed()
        #expect(finished.wait(timeout: .now() + 10) == .success)
        return samples.withLock { $0 }
    }
}
