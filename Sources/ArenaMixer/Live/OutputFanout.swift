import ArenaSpec
import GStreamerKit
import Synchronization

/// A live mix's outputs, fed from its one encode: every encoded buffer goes to each output
/// (on the encoders' threads), and the list can change while it runs.
final class OutputFanout: Sendable {
    private let state = Mutex<(outputs: [OutputPipeline], encodedFrames: Int)>(([], 0))

    var outputs: [OutputPipeline] { state.withLock { $0.outputs } }
    /// Video frames encoded so far.
    var encodedFrames: Int { state.withLock { $0.encodedFrames } }

    /// Replaces the list; returns the outputs that were in it.
    @discardableResult
    func replace(with outputs: [OutputPipeline]) -> [OutputPipeline] {
        state.withLock { state in
            defer { state.outputs = outputs }
            return state.outputs
        }
    }

    /// Changes the list in one step; `change` gets the current list and returns the new one
    /// and what the caller needs of it.
    func update<Extra>(_ change: ([OutputPipeline]) -> ([OutputPipeline], Extra, Extra)) -> (Extra, Extra) {
        state.withLock { state in
            let (outputs, first, second) = change(state.outputs)
            state.outputs = outputs
            return (first, second)
        }
    }

    func feedVideo(_ sample: Sample) {
        let outputs = state.withLock { state in
            state.encodedFrames += 1
            return state.outputs
        }
        for output in outputs { output.feedVideo(sample) }
    }

    func feedAudio(_ sample: Sample) {
        for output in outputs { output.feedAudio(sample) }
    }
}
