import ArenaFrame
import ArenaLayout
import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit

/// The session and layout a mix shows, looked up by output time from its streaming threads
/// (compositor, input branches, overlays) and changed from outside.
///
/// A render's states are all computed up front from its timeline. A live mix's grow while it
/// runs: its timeline's events are applied when the output reaches their time, and events
/// from outside (an input that went away or came back, later the HTTP API) are applied at
/// the next output frame, so that they show on it.
final class MixState: @unchecked Sendable {
    private let lock = NSLock()
    private var sessions: SessionSchedule
    private var layouts: LayoutSchedule
    private let isLive: Bool
    /// A live mix's timeline events not applied yet, in time order, with their positions.
    private var pending: [(index: Int, timed: TimedEvent)]
    private var latestFrame: UInt64?
    /// Where the last pruning cut the schedules (a live mix's).
    private var prunedUpTo: UInt64 = 0
    private let frameDuration: UInt64
    private let onNotices: ([Notice]) -> Void
    private let warning: (String) -> Void

    /// A render's states, from its plan.
    init(plan: MixPlan) {
        sessions = plan.sessions
        layouts = plan.schedule
        isLive = false
        pending = []
        frameDuration = nanosecondsPerSecond / UInt64(plan.canvas.framesPerSecond)
        onNotices = { _ in }
        warning = { _ in }
    }

    /// A live mix's states, starting from the plan's initial session. `onNotices` gets the
    /// outbound events as they happen; `warning` a timeline event that no longer applies
    /// (an event from outside changed the session under it).
    init(live plan: MixPlan, onNotices: @escaping ([Notice]) -> Void, warning: @escaping (String) -> Void) throws(MixError) {
        sessions = SessionSchedule(initial: plan.initialSession)
        do {
            layouts = try LayoutSchedule(sessions: sessions, template: plan.template, canvas: plan.canvas.size)
        } catch {
            throw .layout(error)
        }
        isLive = true
        pending = plan.spec.timeline.enumerated().map { ($0.offset, $0.element) }.sorted { ($0.timed.at, $0.index) < ($1.timed.at, $1.index) }
        frameDuration = nanosecondsPerSecond / UInt64(plan.canvas.framesPerSecond)
        self.onNotices = onNotices
        self.warning = warning
    }

    /// Where every host is at `time`.
    func layout(at time: UInt64) -> FrameLayout {
        lock.lock()
        defer { lock.unlock() }
        return layouts.layout(at: time)
    }

    /// The session in force at `time`.
    func session(at time: UInt64) -> Session {
        lock.lock()
        defer { lock.unlock() }
        return sessions.session(at: time)
    }

    /// The latest score change of `battle` at or before `time`, and the one before it.
    func scoreChanges(of battle: String, at time: UInt64) -> (latest: Notice?, previous: Notice?) {
        lock.lock()
        defer { lock.unlock() }
        let notices = sessions.notices
        let end = (notices.lastIndex(atOrBefore: time) { $0.at } ?? -1) + 1
        let changes = notices[..<end].reversed().lazy.filter { $0.event == "onBattleScoreChanged" && $0.battleId == battle }
        return (changes.first, changes.dropFirst().first)
    }

    /// The output is about to composite the frame at `pts`: a live mix applies what falls
    /// due up to it. Compositor thread.
    func frameStarted(at pts: UInt64) {
        guard isLive else { return }
        lock.lock()
        latestFrame = max(latestFrame ?? 0, pts)
        var notices: [Notice] = []
        var refused: [String] = []
        while let next = pending.first, next.timed.at <= pts {
            pending.removeFirst()
            do {
                notices += try sessions.apply(next.timed.event, at: next.timed.at)
            } catch {
                refused.append("timeline[\(next.index)] skipped: \(error)")
            }
        }
        if let due = sessions.current.nextDueTime(), due <= pts { notices += sessions.advance(to: pts) }
        let failure = recordLayout()
        // Frames still in flight are at most a few seconds older than the newest one; once a
        // second, what is 30 s old goes.
        let horizon = pts.saturatingSubtract(30 * nanosecondsPerSecond)
        if horizon >= prunedUpTo + nanosecondsPerSecond {
            sessions.forget(before: horizon)
            layouts.forget(before: horizon)
            prunedUpTo = horizon
        }
        lock.unlock()
        if !notices.isEmpty { onNotices(notices) }
        for text in refused + [failure].compactMap({ $0 }) { warning(text) }
    }

    /// Applies an event from outside at the next output frame; a refused one changes nothing.
    @discardableResult
    func apply(_ event: SessionEvent) throws(SessionError) -> [Notice] {
        lock.lock()
        let at = latestFrame.map { $0 + frameDuration } ?? 0
        let notices: [Notice]
        do {
            notices = try sessions.apply(event, at: max(at, sessions.current.now))
        } catch {
            lock.unlock()
            throw error
        }
        let failure = recordLayout()
        lock.unlock()
        onNotices(notices)
        if let failure { warning(failure) }
        return notices
    }

    /// Lets `user` (a host added to the running mix) take part from the next output frame on.
    func addKnownUser(_ user: String) {
        lock.lock()
        defer { lock.unlock() }
        sessions.addKnownUser(user, at: max(latestFrame.map { $0 + frameDuration } ?? 0, sessions.current.now))
    }

    /// Lays the hosts out with `template` from the next output frame on.
    func switchTemplate(to template: LayoutTemplate) throws(MixError) {
        lock.lock()
        defer { lock.unlock() }
        let at = max(latestFrame.map { $0 + frameDuration } ?? 0, sessions.current.now, layouts.changes.last?.at ?? 0)
        do {
            try layouts.switchTemplate(to: template, session: sessions.current, at: at)
        } catch {
            throw .layout(error)
        }
    }

    /// The session as it stands now (a copy).
    var current: Session {
        lock.lock()
        defer { lock.unlock() }
        return sessions.current
    }

    /// Seats the latest session; the lock is held.
    private func recordLayout() -> String? {
        guard let last = sessions.changes.last else { return nil }
        do {
            try layouts.record(last.session, at: last.at)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
