import ArenaFrame
import ArenaLayout
import ArenaSpec
import GStreamerKit

/// One host's pieces of the compositing graph: a placeholder layer (a never-ending 16 x 16
/// source of the placeholder colour, scaled to the cell), the video branch (crop and scale
/// to the cell) on the compositor pad just above it, and the audio chain into the mixer.
struct HostLayers: Sendable {
    let input: InputPlan
    let branch: InputBranch
    let video: Pad
    let placeholder: Pad
    let audio: Pad?
    /// Where the input's decoded video (and audio) enter.
    let inlets: [Pad]
    /// Every element added (to start them when the graph already plays).
    let elements: [Element]

    static let rawAudio = try! Caps(mediaType: "audio/x-raw", [
        "format": .string("S16LE"), "layout": .string("interleaved"), "rate": .int(48_000), "channels": .int(2),
    ])

    /// Adds the layers of `input` to `pipeline`, on `compositor` and `mixer` pads that show nothing yet.
    static func add(_ input: InputPlan, plan: MixPlan, state: MixState, to pipeline: Pipeline, compositor: Element,
                    mixer: Element) throws -> HostLayers {
        let index = input.index
        let tiny = try Caps(mediaType: "video/x-raw", [
            "format": .string("I420"), "width": .int(16), "height": .int(16), "framerate": .fraction(plan.canvas.framesPerSecond, 1),
        ])
        var elements = try solidSource("placeholder-\(index)", .placeholder, caps: tiny, live: plan.isLive, in: pipeline)
        let placeholder = try compositor.requestPad("sink_%u")
        try placeholder.set("alpha", 0.0)
        try elements.last!.staticPad("src").link(placeholder)

        let branch = try InputBranch(input: input, plan: plan, state: state)
        try pipeline.addChain(branch.elements)
        elements += branch.elements
        let video = try compositor.requestPad("sink_%u")
        try video.set("alpha", 0.0)
        try branch.elements.last!.staticPad("src").link(video)
        try branch.start()
        var inlets = [branch.inlet]

        var audio: Pad?
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
            audio = pad
            inlets.append(try chain[0].staticPad("sink"))
        }
        return HostLayers(input: input, branch: branch, video: video, placeholder: placeholder, audio: audio, inlets: inlets,
                          elements: elements)
    }

    /// A never-ending source of one colour with its caps filter, added to `pipeline`.
    static func solidSource(_ name: String, _ colour: RGBColour, caps: Caps, live: Bool, in pipeline: Pipeline) throws -> [Element] {
        let source = try Element(factory: "videotestsrc", name: name, [
            "is-live": .bool(live), "pattern": .nick("solid-color"), "foreground-color": .uint32(UInt32(0xFF00_0000) | colour.rgb),
        ])
        let filter = try Element(factory: "capsfilter", name: "\(name)-caps", ["caps": .caps(caps)])
        try pipeline.addChain([source, filter])
        return [source, filter]
    }

    /// What the compositor pads were last set to.
    struct Applied: Equatable {
        var rect: Rect
        var zOrder: Int
        var placed: Bool
        var showsVideo: Bool
    }

    /// Sets the two compositor pads for `cell` (nil: not on screen, both hidden where they were).
    func apply(_ cell: FramePlan.Cell?, previous: Applied?) throws -> Applied {
        let applied = Applied(rect: cell?.rect ?? previous?.rect ?? Rect(x: 0, y: 0, width: 2, height: 2),
                              zOrder: cell?.zOrder ?? previous?.zOrder ?? 1, placed: cell != nil, showsVideo: cell?.showsVideo ?? false)
        guard applied != previous else { return applied }
        for pad in [placeholder, video] {
            try pad.set("xpos", Int32(applied.rect.x))
            try pad.set("ypos", Int32(applied.rect.y))
            try pad.set("width", Int32(applied.rect.width))
            try pad.set("height", Int32(applied.rect.height))
        }
        try placeholder.set("zorder", UInt32(2 * applied.zOrder - 1))
        try video.set("zorder", UInt32(2 * applied.zOrder))
        try placeholder.set("alpha", applied.placed ? 1.0 : 0.0)
        try video.set("alpha", applied.placed && applied.showsVideo ? 1.0 : 0.0)
        return applied
    }
}
