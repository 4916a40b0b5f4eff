import ArenaSpec
import GStreamerKit
import Synchronization

/// One host's video path from its decoder to its compositor pad. Frames in a layout the
/// painting step reads (8-bit I420, YV12, 4:2:2, 4:4:4, NV12, NV21; 10- and 12-bit 4:2:0,
/// 4:2:2 and 4:4:4, narrowed to 8 bits as they are scaled) pass untouched; others are
/// converted by videoconvert to the nearest of those (RGB to 4:4:4, for one). Cropping and
/// scaling happen later, straight into the output frame (``CellPainter``), so the compositor only stages frames.
/// They run on the thread that delivers the frames (the decoder's, or the hub's appsrc's).
final class InputBranch: Sendable {
    /// Where decoded frames enter the branch.
    let inlet: Pad
    let elements: [Element]
    private let latestFrameTime = Mutex<UInt64?>(nil)

    init(input: InputPlan) throws {
        let convert = try Element(factory: "videoconvert", name: "convert-\(input.index)")
        let readable = try Caps(mediaType: "video/x-raw", ["format": .strings(HeldVideoFrame.readableFormats)])
        elements = [convert, try Element(factory: "capsfilter", name: "readable-caps-\(input.index)", ["caps": .caps(readable)])]
        inlet = try convert.staticPad("sink")
    }

    /// Starts noting the time of each frame that comes in.
    func start() {
        inlet.addBufferProbe { [weak self] pts in
            if let self, let pts { self.latestFrameTime.withLock { $0 = pts } }
            return .pass
        }
    }

    /// The time of the latest frame that went through, if any.
    var latestFrame: UInt64? { latestFrameTime.withLock { $0 } }
}
