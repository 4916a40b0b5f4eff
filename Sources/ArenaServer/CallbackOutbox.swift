import ArenaFetch
import ArenaSession
import Crypto
import Foundation
import Synchronization

/// Where callbacks go and how they are signed.
public struct CallbackSettings: Sendable {
    /// Every callback is POSTed to each of these.
    public var urls: [URL]
    /// The shared secret of the HMAC-SHA256 signature.
    public var secret: String
    /// How long one attempt waits for the receiver's answer before it is retried later.
    public var attemptTimeLimit: Duration

    public init(urls: [URL], secret: String, attemptTimeLimit: Duration = .seconds(5)) {
        self.urls = urls
        self.secret = secret
        self.attemptTimeLimit = attemptTimeLimit
    }
}

/// Outbound callbacks: battle created, started and ended (with scores and reason), co-host
/// joined and left, POSTed as JSON to the configured URLs, signed, and delivered at least
/// once and in order per battle (co-host events in order per mix).
///
/// Each callback is first written to the store's outbox; a delivery task hands the oldest
/// undelivered one of each order group to its receiver's sender (one at a time per receiver,
/// the receivers in parallel), retrying with backoff (1 s doubling to 60 s) until the receiver
/// answers 2xx. So a receiver that is down or hangs holds up only its own callbacks, never
/// another receiver's, the mix or the API, and nothing is lost across restarts.
///
/// Signature: `X-Arena-Timestamp` is the sending time in Unix seconds and `X-Arena-Signature`
/// is `sha256=` and the hex HMAC-SHA256, keyed by the secret, of the timestamp, a `.`, and the
/// body. Receivers recompute it and refuse timestamps older than a few minutes (replays).
final class CallbackOutbox: Sendable {
    private let settings: CallbackSettings?
    private let store: any ArenaStore
    private let wake = Wakeup()
    /// Signalled when the delivery task has written its last callbacks and ended.
    private let finished = Wakeup()
    private let started = Mutex(false)
    /// Callbacks not yet written to the outbox, and whether delivery is to stop.
    private let queue = Mutex<(pending: [(group: String, body: String)], stopped: Bool)>(([], false))
    private let log: @Sendable (String) -> Void
    /// The instance that sends: it leases each delivery, so that one instance of a fleet sends it.
    private let instance: String
    /// Each receiver's sender (by scheme, host and port: a task sending what it is handed, in
    /// order); the callbacks handed to them, and those of these settled since (they leave
    /// `inFlight` once a read of the outbox began after they settled, so that an earlier read
    /// cannot hand one out again).
    private let senders = Mutex<(lanes: [String: AsyncStream<StoredCallback>.Continuation], inFlight: Set<Int64>, settled: Set<Int64>)>(([:], [], []))

    init(instance: String, settings: CallbackSettings?, store: any ArenaStore, log: @escaping @Sendable (String) -> Void) {
        self.instance = instance
        self.settings = settings
        self.store = store
        self.log = log
    }

    /// Starts the delivery task (nothing to do without URLs).
    func start() {
        guard settings != nil else { return }
        started.withLock { $0 = true }
        Task(executorPreference: ServiceExecutor.shared) { [self] in await deliver() }
    }

    /// Ends delivery once the callbacks still in memory are in the outbox (up to 10 s), so
    /// that the store can be closed after it: a restart sends them.
    func stop() async {
        queue.withLock { $0.stopped = true }
        wake.signal()
        if started.withLock({ $0 }) { await finished.wait(upTo: 10) }
        for lane in senders.withLock({ $0.lanes.values }) { lane.finish() }
    }

    /// The callbacks for a mix's outbound events (any thread; never blocks on the network).
    func record(_ notices: [Notice], mixId: String) {
        guard settings != nil else { return }
        let callbacks = notices.compactMap { notice -> (String, String)? in
            let name: String
            switch notice.event {
            case "onBattleStarted": name = "battle.started"
            case "onBattleEnded": name = "battle.ended"
            case "onCoHostUserJoined": name = "cohost.joined"
            case "onCoHostUserLeft": name = "cohost.left"
            default: return nil
            }
            return (notice.battleId.map { "battle:\($0)" } ?? "mix:\(mixId)", Self.body(name, mixId: mixId, notice: notice))
        }
        guard !callbacks.isEmpty else { return }
        enqueue(callbacks)
    }

    /// The `battle.created` callback.
    func battleCreated(battleId: String, mixIds: [String], fromRoom: String, rooms: [String], durationMilliseconds: Int, extensionInfo: String?) {
        guard settings != nil else { return }
        var body: [(String, JSON)] = [("event", "battle.created"), ("battleId", .string(battleId)), ("mixIds", .array(mixIds.map(JSON.string))),
                                      ("fromRoom", .string(fromRoom)), ("rooms", .array(rooms.map(JSON.string))),
                                      ("durationMs", .int(durationMilliseconds)), ("createdAt", .double(Date().timeIntervalSince1970))]
        if let extensionInfo { body.append(("extensionInfo", .string(extensionInfo))) }
        enqueue([("battle:\(battleId)", JSON.object(body).text)])
    }

    /// The `mix.moved` callback: the mix runs on instance `to` now, and its RTP inputs must be
    /// sent to `ingest` (`{host, hosts: [{userId, videoPort, audioPort?}]}`).
    func mixMoved(mixId: String, from: String, to: String, ingest: JSON) {
        guard settings != nil else { return }
        let body: JSON = ["event": "mix.moved", "mixId": .string(mixId), "from": .string(from), "to": .string(to), "ingest": ingest,
                          "sentFor": .double(Date().timeIntervalSince1970)]
        enqueue([("mix:\(mixId)", body.text)])
    }

    private func enqueue(_ callbacks: [(String, String)]) {
        queue.withLock { $0.pending += callbacks }
        wake.signal()
    }

    private static func body(_ name: String, mixId: String, notice: Notice) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(notice)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let body: JSON = ["event": .string(name), "mixId": .string(mixId), "battleId": notice.battleId.map(JSON.string) ?? .null,
                          "sentFor": .double(Date().timeIntervalSince1970), "data": .raw(data)]
        return body.text
    }

    /// The delivery task: writes new callbacks to the outbox, then sends what is due.
    private func deliver() async {
        guard let settings else { return }
        defer { finished.signal() }
        while true {
            await wake.wait(upTo: 0.5)
            let (new, done) = queue.withLock { queue in
                defer { queue.pending = [] }
                return (queue.pending, queue.stopped)
            }
            do {
                if !new.isEmpty { try await store.addCallbacks(new.flatMap { callback in settings.urls.map { (callback.group + " " + $0.absoluteString, $0, callback.body) } }) }
                if done { return }
                let settledBefore = senders.withLock { $0.settled }
                let due = try await store.dueCallbacks(instance: instance, now: Date().timeIntervalSince1970)
                senders.withLock { senders in
                    senders.inFlight.subtract(settledBefore)
                    senders.settled.subtract(settledBefore)
                }
                for callback in due { sender(for: callback, secret: settings.secret)?.yield(callback) }
            } catch {
                log("callbacks: \(error)")
            }
        }
    }

    /// The sender of `callback`'s receiver, if the callback is not already with it.
    private func sender(for callback: StoredCallback, secret: String) -> AsyncStream<StoredCallback>.Continuation? {
        let receiver = "\(callback.url.scheme ?? "")://\(callback.url.host ?? ""):\(callback.url.port ?? 0)"
        return senders.withLock { state -> AsyncStream<StoredCallback>.Continuation? in
            guard state.inFlight.insert(callback.id).inserted else { return nil }
            if let lane = state.lanes[receiver] { return lane }
            let (handed, lane) = AsyncStream.makeStream(of: StoredCallback.self)
            Task(executorPreference: ServiceExecutor.shared) { [self] in
                for await callback in handed {
                    do {
                        try await settle(callback, secret: secret)
                    } catch {
                        log("callbacks: \(error)")
                    }
                    senders.withLock { _ = $0.settled.insert(callback.id) }
                }
            }
            state.lanes[receiver] = lane
            return lane
        }
    }

    /// One attempt at `callback` (in the reference's format if its URL asks), and its outcome in the outbox.
    private func settle(_ callback: StoredCallback, secret: String) async throws {
        var delivery = (url: callback.url, body: callback.body)
        if ReferenceWebhooks.wanted(by: callback.url) {
            switch try await ReferenceWebhooks.delivery(of: callback.body, to: callback.url, store: store) {
            case .send(let url, let body): delivery = (url, body)
            case .nothing: return try await store.callbackDelivered(id: callback.id)
            case .notYet:
                // Backed off like a failed attempt; a record that never comes ends it after a day of tries.
                guard callback.attempts < 1_500 else {
                    log("callback \(callback.id) dropped: the record of its battle never came")
                    return try await store.callbackDelivered(id: callback.id)
                }
                return try await store.callbackFailed(id: callback.id, retryAt: Date().timeIntervalSince1970 + min(60, pow(2, Double(callback.attempts))))
            }
        }
        let timeLimit = settings?.attemptTimeLimit ?? .seconds(5)
        // On the service's blocking threads: the fetch waits for the receiver.
        let sent = (try? await offload { [delivery] in Self.send(delivery, id: callback.id, secret: secret, timeLimit: timeLimit) }) ?? false
        if sent {
            try await store.callbackDelivered(id: callback.id)
        } else {
            try await store.callbackFailed(id: callback.id, retryAt: Date().timeIntervalSince1970 + min(60, pow(2, Double(callback.attempts))))
        }
    }

    /// One delivery attempt: true when the receiver answered 2xx within `timeLimit` (5 s by default).
    /// Receivers are the operator's (often inside the network); their answers' bodies are not read past 64 kB. A redirect is
    /// not followed (the receiver is the operator's, named in the configuration).
    private static func send(_ callback: (url: URL, body: String), id: Int64, secret: String, timeLimit: Duration) -> Bool {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let headers = [("Content-Type", "application/json"), ("X-Arena-Timestamp", timestamp),
                       ("X-Arena-Signature", "sha256=" + signature(timestamp: timestamp, body: callback.body, secret: secret)),
                       ("X-Arena-Delivery", String(id))]
        let fetch = GuardedFetch(allowInternalAddresses: true, timeLimit: .nanoseconds(Int64(timeLimit / .nanoseconds(1))), sizeLimit: 64 * 1024,
                                 maximumRedirects: 0)
        let answer = fetch.post(callback.url, headers: headers, body: Array(callback.body.utf8))
        return (try? answer.get()).map { (200..<300).contains($0) } ?? false
    }


    /// Hex HMAC-SHA256 of `timestamp.body`.
    static func signature(timestamp: String, body: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }
}
