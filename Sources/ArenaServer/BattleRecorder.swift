import ArenaSession
import Foundation
import Synchronization

/// Records battles in the store from the mixes' outbound events, whoever started them (the
/// API or posted events): a start makes the record if need be (so the battle can be scored
/// through the API) and an end records the result once. The events are queued and written
/// in the order they came, off the threads that made them: a mix's compositor thread never
/// waits for the database.
final class BattleRecorder: Sendable {
    private struct Queued {
        let number: Int
        let mixId: String
        let notices: [Notice]
    }
    /// How far the writer has got, and who waits for it to get somewhere.
    private final class Progress: Sendable {
        let state = Mutex<(queued: Int, written: Int, waiters: [(number: Int, waiter: CheckedContinuation<Void, Never>)])>((0, 0, []))

        func written(_ number: Int) {
            let ready = state.withLock { state in
                state.written = number
                defer { state.waiters.removeAll { $0.number <= number } }
                return state.waiters.filter { $0.number <= number }.map(\.waiter)
            }
            for waiter in ready { waiter.resume() }
        }
    }
    private let progress = Progress()
    private let input: AsyncStream<Queued>.Continuation
    private let writer: Task<Void, Never>

    /// How long an ended battle's record stays (its result and ledger).
    static let keptAfterEnd: TimeInterval = 7 * 24 * 3_600

    /// `log` gets what could not be recorded.
    init(store: any ArenaStore, log: @escaping @Sendable (String) -> Void) {
        let (stream, input) = AsyncStream.makeStream(of: Queued.self)
        self.input = input
        writer = Task(executorPreference: ServiceExecutor.shared) { [progress] in
            for await queued in stream {
                do {
                    try await Self.record(queued.notices, mixId: queued.mixId, in: store)
                } catch {
                    log("battle records of mix '\(queued.mixId)': \(error)")
                }
                progress.written(queued.number)
            }
        }
    }

    /// Queues a mix's outbound events (any thread; never blocks).
    func add(_ notices: [Notice], mixId: String) {
        let battles = notices.filter { $0.battleId != nil && ["onBattleStarted", "onBattleEnded"].contains($0.event) }
        guard !battles.isEmpty else { return }
        progress.state.withLock { state in
            state.queued += 1
            input.yield(Queued(number: state.queued, mixId: mixId, notices: battles))
        }
    }

    /// Returns once every event queued before the call is recorded (or could not be).
    func caughtUp() async {
        await withCheckedContinuation { waiter in
            let now = progress.state.withLock { state in
                guard state.written < state.queued else { return true }
                state.waiters.append((state.queued, waiter))
                return false
            }
            if now { waiter.resume() }
        }
    }

    /// Records what is queued, then stops taking events.
    func finish() async {
        input.finish()
        await writer.value
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
