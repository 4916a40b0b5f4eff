import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// The shared part of a live run: one clock and base time for every pipeline, and one
/// ``InputHub`` per distinct input, made and started when a mix first names it.
final class InputHubs: Sendable {
    let clock = SharedClock()
    private let frameDuration: UInt64
    private let warning: @Sendable (String) -> Void
    private let hubs = Mutex<[InputHub]>([])

    init(frameDuration: UInt64, warning: @escaping @Sendable (String) -> Void) {
        self.frameDuration = frameDuration
        self.warning = warning
    }

    /// The hub receiving `source`, started now if it is new; `label` names it in warnings.
    func hub(for source: InputSource, hasAudio: Bool, label: String) -> InputHub {
        let (hub, isNew) = hubs.withLock { hubs in
            if let shared = hubs.first(where: { $0.source == source }) { return (shared, false) }
            let hub = InputHub(source: source, hasAudio: hasAudio, frameDuration: frameDuration, label: label, warning: warning)
            hubs.append(hub)
            return (hub, true)
        }
        if isNew { hub.start(on: clock) }
        return hub
    }

    /// A port of `source` on which a different input of the run listens already, if any.
    func portInUse(by source: InputSource) -> Int? {
        guard case .rtp(let wanted) = source else { return nil }
        for hub in hubs.withLock({ $0 }) where hub.source != source {
            guard case .rtp(let used) = hub.source else { continue }
            if let port = wanted.ports.first(where: used.ports.contains) { return port }
        }
        return nil
    }

    func stopAll() {
        let all = hubs.withLock { hubs in
            defer { hubs = [] }
            return hubs
        }
        for hub in all { hub.stop() }
    }
}
