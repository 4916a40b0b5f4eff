import ArenaSession
import ArenaSpec
import Foundation

/// A battle as the service records it.
struct BattleRecord: Equatable, Sendable {
    let id: String
    let mixIds: [String]
    let fromRoom: String
    let rooms: [String]
    let durationMilliseconds: Int
    /// Unix seconds.
    let createdAt: Double
    /// Unix seconds, once a mix started it.
    var startedAt: Double? = nil
    /// How it ended, once it did.
    var result: BattleResult? = nil
}

/// How a battle ended: why, when (Unix seconds), and the final scores.
struct BattleResult: Equatable, Sendable, Codable {
    let reason: String
    let endedAt: Double
    let scores: [String: Int64]
}

/// A score update as it was answered, so that a retry with the same key gets the same answer.
struct StoredAnswer: Equatable, Sendable {
    let status: Int
    let body: String
}

/// A mix as the store holds it: its spec, and which instance runs it, until when (Unix
/// seconds, by the store's clock); a lease that has run out may be claimed by any instance.
struct MixRecord: Sendable, Equatable {
    let id: String
    let spec: Data
    let owner: String?
    let leaseUntil: Double
    /// The rooms connected in it, as the instance that runs it last published them; nil from
    /// a claim until that instance has it running (it is starting), and once it ended.
    var connected: [String]? = nil
    /// It ended on the instance that holds it, as that instance published (until another claims it).
    var ended = false
    /// Why it failed, if it did.
    var failure: String? = nil
}

/// What an instance publishes of a mix it holds, for the instances that do not run it.
enum MixReport: Sendable, Equatable {
    /// It runs, with these rooms connected (a battle made through another instance finds its mixes by room).
    case connected([String])
    /// It ended there; with why, if it failed.
    case ended(failure: String?)
}

/// A change recorded for a mix (`patch` or `event`), with its number: a mix's changes are
/// numbered in the order they were recorded, so a number is also where a reader has got to.
struct MixChange: Sendable, Equatable {
    let number: Int64
    let kind: String
    let body: Data
}

/// An `arena serve` instance as the fleet knows it: its name, where its API and its media
/// inputs are reached, how many mixes it may run and runs, and when it last said so.
struct InstanceRecord: Sendable, Equatable {
    let id: String
    let apiURL: String
    let ingestHost: String
    let capacity: Int
    let running: Int
}

/// A callback waiting in the outbox.
struct StoredCallback: Sendable {
    let id: Int64
    let url: URL
    let body: String
    let attempts: Int
}

/// Adds (or sets) `updates` to `totals`; a total past 2147483647 is refused, naming the room.
func addScores(_ updates: [(room: String, value: Int64)], replace: Bool, to totals: inout [String: Int64]) throws {
    for update in updates {
        let old = totals[update.room] ?? 0
        let total = replace ? update.value : old + update.value
        guard total <= Battle.maxScore else {
            let reason = replace ? "\(update.value) is more than \(Battle.maxScore)" : "\(old) + \(update.value) is more than \(Battle.maxScore)"
            throw APIError(.unprocessableContent, "scores for '\(Redaction.value(update.room))': \(reason); nothing was changed")
        }
        totals[update.room] = total
    }
}

/// The store could not do what was asked, through no fault of the caller's (answered 503).
struct StoreError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// Another live process holds this instance's name in the store.
struct InstanceNameTaken: Error, CustomStringConvertible {
    let name: String
    var description: String { "another arena serve named '\(name)' is alive on this store" }
}

/// A setting the operator gave that cannot be used.
struct SettingError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The service's durable facts: the mixes it runs and which instance runs each, battles, the
/// score ledger (every accepted update with its idempotency key and the answer it got) and
/// the callback outbox. One interface, two engines: SQLite for one box, PostgreSQL for a
/// fleet of instances sharing one database. Every call is async: it waits for the database
/// without holding a thread (SQLite's work runs on GRDB's own queues, PostgreSQL's on
/// postgres-nio's event loops), and runs to its end even if its caller is cancelled, so a
/// change that commits is never reported as failed.
protocol ArenaStore: Sendable {
    /// Whether other instances may share the store (PostgreSQL): then an instance that cannot
    /// renew its leases must stop its mixes, which another may be running by then.
    var isShared: Bool { get }
    /// Records a new mix (and forgets changes left under its id), run by `owner` for
    /// `leaseSeconds` from now (nil: by whichever instance claims it first); false when a mix
    /// of that id exists already (made through another instance at the same time, say).
    func saveMix(id: String, spec: Data, owner: String?, leaseSeconds: Double) async throws -> Bool
    /// Forgets a mix and its changes (only if `instance` holds it, when given).
    func removeMix(id: String, heldBy instance: String?) async throws
    func mix(id: String) async throws -> MixRecord?
    /// Every mix saved and not removed, oldest first.
    func mixes() async throws -> [MixRecord]
    /// Appends a change to a mix (`patch` or `event`, with its body), before it is applied;
    /// returns its number, or nil when the store has no such mix. A mix's changes are numbered
    /// in the order they commit, so a reader that has seen number n has seen all before it.
    func recordMixChange(mixId: String, kind: String, body: Data) async throws -> Int64?
    /// Drops a recorded change the mix then refused.
    func forgetMixChange(_ number: Int64) async throws
    /// A mix's recorded changes after number `after`, in order.
    func mixChanges(mixId: String, after: Int64) async throws -> [MixChange]
    /// Takes up to `limit` mixes no live instance runs (never claimed, their lease run out, or
    /// this instance's own from before a restart and not in `running`), oldest first, for
    /// `leaseSeconds`. Each is returned with its previous owner, and who is connected in it (or
    /// that it ended) is cleared until the claimer runs it and publishes that. Two instances never get one mix.
    func claimMixes(instance: String, running: [String], limit: Int, leaseSeconds: Double) async throws -> [MixRecord]
    /// Extends this instance's leases on those of `running` it still holds.
    func renewLeases(instance: String, running: [String], leaseSeconds: Double) async throws
    /// Which of `ids` `instance` holds (a mix removed, or claimed by another instance after
    /// its lease ran out, is not among them).
    func mixesHeld(by instance: String, among ids: [String]) async throws -> [String]
    /// Calls `changed` (on any thread) whenever another instance recorded a change
    /// or a score, so that the changes are applied at once rather than at the next poll.
    func watchChanges(_ changed: @escaping @Sendable () -> Void)
    /// Publishes, as `instance` (while it holds the mix), who is connected in it or that it ended.
    func publish(_ report: MixReport, mixId: String, instance: String) async throws
    /// Ends this instance's leases now (it is stopping): others may claim its mixes at once.
    func releaseMixes(instance: String) async throws
    /// Says that `instance` is alive (and how full), for `leaseSeconds`; throws if another
    /// process (a different `boot`) has announced the same name and is still alive.
    func announce(_ instance: InstanceRecord, boot: String, leaseSeconds: Double) async throws
    /// Instances alive now (announced within their lease).
    func liveInstances() async throws -> [InstanceRecord]
    /// Forgets an instance that is stopping.
    func leave(instance: String) async throws
    func saveBattle(_ battle: BattleRecord) async throws
    func battle(id: String) async throws -> BattleRecord?
    /// Marks a battle as ended (early, or found over), so a restart does not resume it.
    func endBattle(id: String) async throws
    /// Battles not marked ended, oldest first.
    func openBattles() async throws -> [BattleRecord]
    /// A mix started `battle` (its record is made if the battle began by posted events, and the
    /// mix is added to it); the first start time is kept.
    func battleStarted(_ battle: BattleRecord, mixId: String, at: Double) async throws
    /// Records how a battle ended, once: it is no longer resumed, and its result stays.
    func battleEnded(id: String, result: BattleResult) async throws
    /// Forgets battles (and their ledgers) that ended before `time` (Unix seconds).
    func forgetBattles(endedBefore time: Double) async throws
    /// Adds callbacks to the outbox: (order group, URL, body); a group's are sent in this order.
    func addCallbacks(_ callbacks: [(group: String, url: URL, body: String)]) async throws
    /// The oldest undelivered callback of each group, if its next attempt is due and no other
    /// instance is delivering it; each is leased to `instance` for a minute.
    func dueCallbacks(instance: String, now: Double) async throws -> [StoredCallback]
    func callbackDelivered(id: Int64) async throws
    func callbackFailed(id: Int64, retryAt: Double) async throws
    /// Callbacks not yet delivered.
    func callbackBacklog() async throws -> Int
    /// Applies a score update to a battle's totals, once per key, in one transaction (one update
    /// of a battle at a time, across every instance): each `updates` value is added to
    /// (`replace` false) or replaces its room's total, and `answer`, made from the new totals, is
    /// recorded with the key. Returns it with the totals; a key seen before returns its first
    /// answer and nil, changing nothing. A total past 2147483647 is refused (422), changing nothing.
    /// `showIn`: mixes (run elsewhere) told in the same transaction to show the new totals (a
    /// `totals` change each, replacing the one before it).
    func scoreBattle(battleId: String, key: String, request: Data, updates: [(room: String, value: Int64)], replace: Bool, showIn: [String],
                     answer: @escaping @Sendable ([String: Int64]) -> StoredAnswer) async throws -> (answer: StoredAnswer, totals: [String: Int64]?)
    /// A battle's totals by room.
    func battleTotals(battleId: String) async throws -> [String: Int64]
    /// The answer recorded for `key`, if an update with that key was answered before.
    func answer(forKey key: String, battleId: String) async throws -> StoredAnswer?
    /// Records an update and its answer in one transaction, durable when this returns.
    func recordScoreUpdate(key: String, battleId: String, request: Data, answer: StoredAnswer) async throws
}

