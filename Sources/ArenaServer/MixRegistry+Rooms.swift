import ArenaSpec
import Foundation

/// Which mixes have a room (a host's user id): what battles are started in.
extension MixRegistry {
    /// Running mixes (not starting, replaying or stopping) whose session has `room` connected.
    func mixes(connecting room: String) -> [MixEntry] {
        all.filter { $0.status == .running && $0.mix?.session.connected.contains(room) == true }
    }

    /// Mixes still starting here that name `room` as a host.
    func startingMixes(naming room: String) -> [MixEntry] {
        all.filter { $0.status == .starting && $0.spec.namesHost(room) }
    }

    /// The first of `records` (mixes other instances run) that is still starting there and
    /// names `room` as a host.
    func startingMix(naming room: String, among records: [MixRecord]) -> String? {
        records.first { record in
            guard record.connected == nil, !record.ended, let spec = try? MixSpec.parse(record.spec, source: "the stored spec", baseDirectory: dataFolder) else { return false }
            return spec.namesHost(room)
        }?.id
    }

    /// Waits until the mixes still starting here that name `room` as a host have started, as a
    /// change to one of them waits: 10 s at most for them all.
    func waitForStartingMixes(naming room: String) async {
        let deadline = ContinuousClock.now + MixEntry.startWait
        for entry in startingMixes(naming: room) { _ = await entry.waitUntilRunning(deadline: deadline) }
    }
}

private extension MixSpec {
    func namesHost(_ room: String) -> Bool { hosts.contains { $0.userId == room } }
}
