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
    private let access: FileAccess
    /// The hubs, and whether the run has ended (no new hub then).
    private let state = Mutex<(hubs: [InputHub], stopped: Bool)>(([], false))

    /// File inputs are opened under `access`, each time their pipeline is built.
    init(frameDuration: UInt64, access: FileAccess, warning: @escaping @Sendable (String) -> Void) {
        self.frameDuration = frameDuration
        self.access = access
        self.warning = warning
    }

    /// The hub receiving `source`, started now if it is new; `label` names it in warnings.
    /// Refused when a different input of the run listens on one of its ports, or the run ended.
    func hub(for source: InputSource, hasAudio: Bool, label: String) throws(MixError) -> InputHub {
        let found = state.withLock { state -> Result<(hub: InputHub, isNew: Bool), MixError> in
            guard !state.stopped else { return .failure(.ended) }
            if let shared = state.hubs.first(where: { $0.source == source }) { return .success((shared, false)) }
            if let port = state.hubs.lazy.compactMap({ source.sharedPort(with: $0.source) }).first {
                return .failure(.spec(SpecError(field: "hosts", "\(label) uses port \(port), which a different input uses")))
            }
            let hub = InputHub(source: source, hasAudio: hasAudio, frameDuration: frameDuration, access: access, label: label,
                               warning: warning)
            state.hubs.append(hub)
            return .success((hub, true))
        }
        let (hub, isNew) = try found.get()
        if isNew { hub.start(on: clock) }
        return hub
    }

    /// The hub receiving `source`, if there is one.
    func existing(for source: InputSource) -> InputHub? {
        state.withLock { $0.hubs.first { $0.source == source } }
    }

    /// Stops every hub; no new one starts after this.
    func stopAll() {
        let all = state.withLock { state in
            defer {
                state.hubs = []
                state.stopped = true
            }
            return state.hubs
        }
        for hub in all { hub.stop() }
    }
}
