import ArenaSession
import Foundation
import Synchronization

/// Records battles in the store from the mixes' outbound events, whoever started them (the
/// API or posted events): a start makes the record if need be (so the battle can be scored
/// through the API) and an end records the result once. Each mix's events are queued and
/// written in the order they came, off the threads that made them: a mix's compositor thread
/// never waits for the database, and one mix's slow write holds up no other mix's.
final class BattleRecorder: Sendable {
    /// One mix's queue: events not yet written, how many were queued and written, and who waits.
    private struct Lane {
        var pending: [[Notice]] = []
        var writing = false
        var queued = 0
        var written = 0
        var waiters: [(number: Int, waiter: CheckedContinuation<Void, Never>)] = []
    }
    private let lanes = Mutex<[String: Lane]>([:])
    private let store: any ArenaStore
    private let log: @Sendable (String) -> Void

    /// How long an ended battle's record stays (its result and ledger).
    static let keptAfterEnd: TimeInterval = 7 * 24 * 3_600

    /// `log` gets what could not be recorded.
    init(store: any ArenaStore, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.log = log
    }

    /// Queues a mix's outbound events (any thread; never blocks).
    func add(_ notices: [Notice], mixId: String) {
        let battles = notices.filter { $0.battleId != nil && ["onBattleStarted", "onBattleEnded"].contains($0.event) }
        guard !battles.isEmpty else { return }
        let start = lanes.withLock { lanes in
            lanes[mixId, default: Lane()].pending.append(battles)
            lanes[mixId]!.queued += 1
            defer { lanes[mixId]!.writing = true }
            return !lanes[mixId]!.writing
        }
        if start { Task(executorPreference: ServiceExecutor.shared) { await self.write(mixId) } }
    }

    /// Writes a mix's queue until it is empty; then the lane goes (everything queued is written,
    /// so nobody waits on it), and the next event starts a new one.
    private func write(_ mixId: String) async {
        while true {
            let next = lanes.withLock { lanes -> [Notice]? in
                guard lanes[mixId]?.pending.isEmpty == false else {
                    lanes[mixId] = nil
                    return nil
                }
                return lanes[mixId]!.pending.removeFirst()
            }
            guard let next else { return }
            do {
                try await Self.record(next, mixId: mixId, in: store)
            } catch {
                log("battle records of mix '\(mixId)': \(error)")
            }
            let ready = lanes.withLock { lanes -> [CheckedContinuation<Void, Never>] in
                guard var lane = lanes[mixId] else { return [] }
                lane.written += 1
                let ready = lane.waiters.filter { $0.number <= lane.written }.map(\.waiter)
                lane.waiters.removeAll { $0.number <= lane.written }
                lanes[mixId] = lane
                return ready
            }
            for waiter in ready { waiter.resume() }
        }
    }

    /// Returns once every event of `mixIds` queued before the call is recorded (or could not be).
    func caughtUp(_ mixIds: [String]) async {
        for mixId in mixIds {
            await withCheckedContinuation { waiter in
                let now = lanes.withLock { lanes in
                    guard let lane = lanes[mixId], lane.written < lane.queued else { return true }
                    lanes[mixId]!.waiters.append((lane.queued, waiter))
                    return false
                }
                if now { waiter.resume() }
            }
        }
    }

    /// As `caughtUp(_:)` for every mix, waiting at most `seconds` (a service shutting down).
    func caughtUp(within seconds: Double) async {
        let mixIds = lanes.withLock { Array($0.keys) }
        _ = try? await withTimeLimit(seconds) { await self.caughtUp(mixIds) }
    }

    private static func record(_ notices: [Notice], mixId: String, in store: any ArenaStore) async throws {
        let now = Date().timeIntervalSince1970
        for notice in notices {
            guard let id = notice.battleId else { continue }
            switch notice.event {
            case "onBattleStarted":
                let inviter = notice.inviter ?? ""
                let record = BattleRecord(id: id, mixIds: [mixId], fromRoom: inviter,
                                          rooms: [inviter] + (notice.invitees ?? []).filter { $0 != inviter },
                                          durationMilliseconds: Int((notice.duration ?? 0) / 1_000_000), createdAt: now)
                try await store.battleStarted(record, mixId: mixId, at: now)
            case "onBattleEnded":
                // The store's totals are the battle's (a mix may not show the latest yet); a battle
                // scored only by events in one mix has none, and its own scores stand.
                let totals = try await store.battleTotals(battleId: id)
                let scores = totals.isEmpty ? notice.scores ?? [:] : (notice.scores ?? [:]).merging(totals) { $1 }
                try await store.battleEnded(id: id, result: BattleResult(reason: notice.reason ?? "", endedAt: now, scores: scores))
                try await store.forgetBattles(endedBefore: now - keptAfterEnd)
            default:
                break
            }
        }
    }
}
