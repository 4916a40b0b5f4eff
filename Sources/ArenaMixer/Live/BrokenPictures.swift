import ArenaFrame
import Foundation
import GStreamerKit
import Synchronization

/// How long an input's picture has been broken: from a keyframe request going upstream (the
/// depayloader met a loss the jitter buffer gave up on, the decoder met a picture it could
/// not decode whole) to the next picture decoded. Meanwhile the cell shows the last good
/// frame. For the mix status and the service's metrics.
final class BrokenPictures: Sendable {
    /// When the current breakage began (nanoseconds of uptime), and the time of those that ended.
    private let state = Mutex<(since: UInt64?, total: UInt64)>((nil, 0))

    /// Watches `depayloader`'s sink pad (every keyframe request of the chain passes it) and the
    /// decoder's source pad (`decoded`).
    func watch(depayloader: Pad, decoded: Pad) {
        depayloader.onKeyframeRequest { [weak self] in self?.broke() }
        decoded.addBufferProbe { [weak self] _ in
            self?.pictureDecoded()
            return .pass
        }
    }

    private func broke() {
        state.withLock { if $0.since == nil { $0.since = Self.now } }
    }

    private func pictureDecoded() {
        state.withLock { state in
            guard let since = state.since else { return }
            state.total += Self.now.saturatingSubtract(since)
            state.since = nil
        }
    }

    /// Seconds the picture has been broken in all (the current breakage so far included).
    var seconds: Double {
        state.withLock { Double($0.total + ($0.since.map { Self.now.saturatingSubtract($0) } ?? 0)) / 1e9 }
    }

    /// Read under the lock, so that no time read earlier meets a start set later.
    private static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
}
