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
        let voice = VoiceMeter()
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
            audio = pad
            inlets.append(try chain[0].staticPad("sink"))
        }
        return HostLayers(input: input, branch: branch, video: video, audio: audio, inlets: inlets, elements: elements, voice: voice)
    }
}

/// A host's ``VoiceActivity``, fed on the audio thread and read on the compositor's.
final class VoiceMeter: Sendable {
    private let activity = Mutex(VoiceActivity())

    func add(level: Double, at time: UInt64, duration: UInt64) {
        activity.withLock { $0.add(level: level, at: time, duration: duration) }
    }

    func speaking(at time: UInt64) -> Bool {
        activity.withLock { $0.speaking(at: time) }
    }

}
