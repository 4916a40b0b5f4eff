import ArenaFrame
import Foundation
import ArenaLayout
import ArenaSpec
import GStreamerKit
import Synchronization

/// One host's pieces of the compositing graph: the video branch onto a compositor pad that
/// only stages its frames (alpha 0: the compositor never blends it; ``CellPainter`` paints
/// the staged frame into the host's cell), and the audio chain into the mixer.
struct HostLayers: Sendable {
    let input: InputPlan
    let branch: InputBranch
    let video: Pad
    let audio: Pad?
    /// Where the input's decoded video (and audio) enter.
    let inlets: [Pad]
    /// Every element added (to start them when the graph already plays).
    let elements: [Element]
    /// Whether the host is heard, from the level of the sound going into the mixer.
    let voice: VoiceMeter

    /// The mix's audio rate, every input's sound converted to it.
    static let audioRate = 48_000

    static let rawAudio = try! Caps(mediaType: "audio/x-raw", [
        "format": .string("S16LE"), "layout": .string("interleaved"), "rate": .int(audioRate), "channels": .int(2),
    ])

    /// Adds the layers of `input` to `pipeline`, on `compositor` and `mixer` pads that show nothing yet.
    static func add(_ input: InputPlan, plan: MixPlan, state: MixState, to pipeline: Pipeline, compositor: Element,
                    mixer: Element) throws -> HostLayers {
        let index = input.index
        let branch = try InputBranch(input: input)
        try pipeline.addChain(branch.elements)
        var elements = branch.elements
        let video = try compositor.requestPad("sink_%u")
        try video.set("alpha", 0.0)
        try branch.elements.last!.staticPad("src").link(video)
        branch.start()
        var inlets = [branch.inlet]

        var audio: Pad?
        let voice = VoiceMeter(hasSound: input.hasAudio)
        if input.hasAudio {
            let chain = [
                try Element(factory: "audioconvert", name: "audio-convert-\(index)"),
                try Element(factory: "audioresample", name: "audio-resample-\(index)"),
                try Element(factory: "capsfilter", name: "audio-caps-\(index)", ["caps": .caps(rawAudio)]),
            ]
            try pipeline.addChain(chain)
            elements += chain
            let pad = try mixer.requestPad("sink_%u")
            try pad.set("mute", true)
            try pad.set("volume", input.host.volume)
            try chain.last!.staticPad("src").link(pad)
            // Heard as the mix plays it: the host's volume counts (0: never speaking).
            let gain = 20 * log10(max(input.host.volume, 1e-6))
            try chain.last!.staticPad("src").addTimedBufferDataProbe { [voice] pts, duration, samples in
                guard let pts else { return }
                let length = duration ?? UInt64(samples.count / 4) * 1_000_000_000 / UInt64(audioRate)
                voice.add(level: VoiceActivity.level(ofS16: samples) + gain, at: pts, duration: length)
            }
            try chain.last!.staticPad("src").addStreamMarkProbe { [voice] in voice.mark($0) }
            audio = pad
            inlets.append(try chain[0].staticPad("sink"))
        }
        return HostLayers(input: input, branch: branch, video: video, audio: audio, inlets: inlets, elements: elements, voice: voice)
    }
}

/// A host's ``VoiceActivity``, fed on the audio thread and read on the compositor's. A
/// render's frame first waits until the host's sound has come through its time (or ended):
/// the encoder holds some frames back, so the muxer would otherwise keep the sound behind
/// the pictures being painted, and whether a ring shows would depend on which thread ran
/// first. A live mix never waits.
final class VoiceMeter: @unchecked Sendable {
    /// How long a render's frame waits for its hosts' sound, all of them together: well inside
    /// a render's stall limit (10 s; 2 s in BrokenStreamTests), so that a stalled input is
    /// still the one reported.
    static let patience: TimeInterval = 0.5

    // Unchecked Sendable: everything below is read and written under `condition`.
    private let condition = NSCondition()
    private var activity = VoiceActivity()
    /// Where the sound (or a gap in it) has come through to.
    private var heard: UInt64 = 0
    /// No more sound to wait for: none, or it ended.
    private var done: Bool
    /// False after a wait ran out (a stalled stream; one that starts late without gap events),
    /// until the sound has caught up with the frames again: a sound that lags is not waited
    /// for frame after frame.
    private var patient = true

    init(hasSound: Bool) {
        done = !hasSound
    }

    func add(level: Double, at time: UInt64, duration: UInt64) {
        condition.withLock {
            activity.add(level: level, at: time, duration: duration)
            heard = max(heard, time &+ duration)
            condition.broadcast()
        }
    }

    /// A stream mark on the sound: a gap moves it on, the end stops the waits.
    func mark(_ mark: Pad.StreamMark) {
        condition.withLock {
            switch mark {
            case .gap(let end): heard = max(heard, end)
            case .endOfStream: done = true
            }
            condition.broadcast()
        }
    }

    /// Whether the host's sound has ended, or come through past `time`.
    func isHeard(through time: UInt64) -> Bool {
        condition.withLock { done || heard > time }
    }

    /// Whether the host is heard at `time`; with a `deadline`, once the sound has come past it
    /// (or until then).
    func speaking(at time: UInt64, waitingUntil deadline: Date?) -> Bool {
        condition.withLock {
            if heard > time { patient = true }
            if let deadline, patient {
                while !done && heard <= time {
                    if !condition.wait(until: deadline) {
                        patient = false
                        break
                    }
                }
            }
            return activity.speaking(at: time)
        }
    }
}
