import ArenaFrame
import ArenaLayout
import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// One host's video path from its decoder to its compositor pad: a centre crop to the cell's
/// aspect ratio, and a conversion to I420 at exactly the cell's size, so that the compositor
/// blends at 1:1. They run on the thread that delivers the frames (the decoder's, or the
/// hub's appsrc's): a queue of their own measured 4 to 7 % more CPU per mix in thread
/// hand-offs, and decoding beside the other inputs already keeps the cores busy.
///
/// Crop and size follow the host's cell at each buffer's time; both are changed only on
/// that streaming thread, in its pad probes, so they need no lock.
final class InputBranch: @unchecked Sendable {  // crop state: its streaming thread only; frame time: a Mutex
    /// Where decoded frames enter the branch.
    let inlet: Pad
    private let crop: Element
    private let scale: Element
    private let caps: Element
    private let userId: String
    private let state: MixState
    private var sourceSize: Size?
    private var cellSize: Size
    private let latestFrameTime = Mutex<UInt64?>(nil)

    init(input: InputPlan, plan: MixPlan, state: MixState) throws {
        userId = input.host.userId
        self.state = state
        crop = try Element(factory: "videocrop", name: "crop-\(input.index)")
        inlet = try crop.staticPad("sink")
        scale = try Element(factory: "videoconvertscale", name: "scale-\(input.index)")
        caps = try Element(factory: "capsfilter", name: "cell-caps-\(input.index)")
        // Start at the first cell the host will have, so the common case never renegotiates.
        cellSize = plan.schedule.changes.lazy.compactMap { $0.layout.placement(of: input.host.userId)?.rect.size }.first
            ?? plan.canvas.size
    }

    var elements: [Element] { [crop, scale, caps] }

    /// Sets the initial caps and watches the incoming caps and buffer times.
    func start() throws {
        try applyCellCaps()
        let pad = inlet
        pad.addCapsProbe { [weak self] caps in
            guard let self, let width = caps.int("width"), let height = caps.int("height") else { return }
            let (parN, parD) = caps.fraction("pixel-aspect-ratio") ?? (1, 1)
            self.sourceSize = Size(width: parD > 0 ? width * parN / parD : width, height: height)
            self.applyCrop()
        }
        pad.addBufferProbe { [weak self] pts in
            guard let self, let pts else { return .pass }
            self.latestFrameTime.withLock { $0 = pts }
            guard let cell = self.state.layout(at: pts).placement(of: self.userId)?.rect.size,
                  cell != self.cellSize else { return .pass }
            self.cellSize = cell
            self.applyCrop()
            try? self.applyCellCaps()
            return .pass
        }
    }

    /// The time of the latest frame that went through, if any.
    var latestFrame: UInt64? { latestFrameTime.withLock { $0 } }

    /// Streaming thread only; videocrop's sides are gint properties, so a set cannot fail.
    private func applyCrop() {
        guard let sourceSize else { return }
        let insets = CropInsets.centreCrop(source: sourceSize, cell: cellSize)
        for (side, inset) in [("left", insets.left), ("right", insets.right), ("top", insets.top), ("bottom", insets.bottom)] {
            try? crop.set(side, Int32(inset))
        }
    }

    private func applyCellCaps() throws {
        try caps.set("caps", try Caps(mediaType: "video/x-raw", [
            "format": .string("I420"), "width": .int(cellSize.width), "height": .int(cellSize.height), "pixel-aspect-ratio": .fraction(1, 1),
        ]))
    }
}
