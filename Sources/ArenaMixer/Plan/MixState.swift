import ArenaFrame
import ArenaLayout
import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// The session and layout a mix shows, looked up by output time from its streaming threads
/// (compositor, input branches, overlays) and changed from outside.
///
/// A render's states are all computed up front from its timeline. A live mix's grow while it
/// runs: its timeline's events are applied when the output reaches their time, and events
/// from outside (an input that went away or came back, the HTTP API) are applied at the next
/// output frame, so that they show on it. The callbacks are called with no lock held.
final class MixState: Sendable {
    private let isLive: Bool
    private let frameDuration: UInt64
    private let onNotices: @Sendable ([Notice]) -> Void
    private let warning: @Sendable (String) -> Void
    private let state: Mutex<State>

    private struct State {
        var sessions: SessionSchedule
        var layouts: LayoutSchedule
        /// A live mix's timeline events not applied yet, in time order, with their positions.
        var pending: [(index: Int, timed: TimedEvent)]
        var latestFrame: UInt64?
        /// The decorations from each time on (the last few changes).
        var decorations: [(at: UInt64, value: Decorations)]
        /// Where the last pruning cut the schedules (a live mix's).
        var prunedUpTo: UInt64 = 0

        /// When an event from outside takes effect: the next output frame.
        func nextFrameTime(_ frameDuration: UInt64) -> UInt64 {
            max(latestFrame.map { $0 + frameDuration } ?? 0, sessions.current.now)
        }

        /// Seats the latest session; a failure as a warning's text.
        mutating func recordLayout() -> String? {
            guard let last = sessions.changes.last else { return nil }
            do {
                try layouts.record(last.session, at: last.at)
                return nil
            } catch {
                return "\(error)"
            }
        }
    }

    /// A render's states, from its plan.
    init(plan: MixPlan) {
        isLive = false
        frameDuration = plan.frameDuration
        onNotices = { _ in }
        warning = { _ in }
        state = Mutex(State(sessions: plan.sessions, layouts: plan.schedule, pending: [], decorations: [(0, plan.decorations)]))
    }

    /// A live mix's states, starting from the plan's initial session. `onNotices` gets the
    /// outbound events as they happen; `warning` a timeline event that no longer applies
    /// (an event from outside changed the session under it).
    init(live plan: MixPlan, onNotices: @escaping @Sendable ([Notice]) -> Void,
         warning: @escaping @Sendable (String) -> Void) throws(MixError) {
        let sessions = SessionSchedule(initial: plan.initialSession)
        let layouts: LayoutSchedule
        do {
            layouts = try LayoutSchedule(sessions: sessions, template: plan.template, canvas: plan.canvas.size)
        } catch {
            throw .layout(error)
        }
        isLive = true
        frameDuration = plan.frameDuration
        self.onNotices = onNotices
        self.warning = warning
        let pending: [(index: Int, timed: TimedEvent)] = plan.timeline.enumerated().map { ($0.offset, $0.element) }
            .sorted { ($0.timed.at, $0.index) < ($1.timed.at, $1.index) }
        state = Mutex(State(sessions: sessions, layouts: layouts, pending: pending, decorations: [(0, plan.decorations)]))
    }

    /// Where every host is at `time`.
    func layout(at time: UInt64) -> FrameLayout {
        state.withLock { $0.layouts.layout(at: time) }
    }

    /// The layout at `time`, with the one before it and when it took over.
    func layoutChange(at time: UInt64) -> (layout: FrameLayout, previous: (layout: FrameLayout, changedAt: UInt64)?) {
        state.withLock { $0.layouts.layoutChange(at: time) }
    }

    /// The session in force at `time`.
    func session(at time: UInt64) -> Session {
        state.withLock { $0.sessions.session(at: time) }
    }

    /// The latest score change of `battle` at or before `time`, and the one before it.
    func scoreChanges(of battle: String, at time: UInt64) -> (latest: Notice?, previous: Notice?) {
        state.withLock { state in
            let notices = state.sessions.notices
            let end = (notices.lastIndex(atOrBefore: time) { $0.at } ?? -1) + 1
            let changes = notices[..<end].reversed().lazy.filter { $0.event == "onBattleScoreChanged" && $0.battleId == battle }
            return (changes.first, changes.dropFirst().first)
        }
    }

    /// The output is about to composite the frame at `pts`: a live mix applies what falls
    /// due up to it. Compositor thread.
    func frameStarted(at pts: UInt64) {
        guard isLive else { return }
        let (notices, problems) = state.withLock { state -> ([Notice], [String]) in
            state.latestFrame = max(state.latestFrame ?? 0, pts)
            var notices: [Notice] = []
            var problems: [String] = []
            while let next = state.pending.first, next.timed.at <= pts {
                state.pending.removeFirst()
                do {
                    notices += try state.sessions.apply(next.timed.event, at: next.timed.at)
                } catch {
                    problems.append("timeline[\(next.index)] skipped: \(error)")
                }
            }
            if let due = state.sessions.current.nextDueTime(), due <= pts { notices += state.sessions.advance(to: pts) }
            if let failure = state.recordLayout() { problems.append(failure) }
            // Frames still in flight are at most a few seconds older than the newest one; once a
            // second, what is 30 s old goes.
            let horizon = pts.saturatingSubtract(30 * nanosecondsPerSecond)
            if horizon >= state.prunedUpTo + nanosecondsPerSecond {
                state.sessions.forget(before: horizon)
                state.layouts.forget(before: horizon)
                state.prunedUpTo = horizon
            }
            return (notices, problems)
        }
        if !notices.isEmpty { onNotices(notices) }
        for text in problems { warning(text) }
    }

    /// Applies an event from outside at the next output frame; a refused one changes nothing.
    @discardableResult
    func apply(_ event: SessionEvent) throws(SessionError) -> [Notice] {
        let (notices, failure) = try state.withLock { state throws(SessionError) -> ([Notice], String?) in
            let notices = try state.sessions.apply(event, at: state.nextFrameTime(frameDuration))
            return (notices, state.recordLayout())
        }
        onNotices(notices)
        if let failure { warning(failure) }
        return notices
    }

    /// Lets `user` (a host added to the running mix) take part from the next output frame on.
    func addKnownUser(_ user: String) {
        state.withLock { $0.sessions.addKnownUser(user, at: $0.nextFrameTime(frameDuration)) }
    }

    /// Lays the hosts out with `template` from the next output frame on.
    func switchTemplate(to template: LayoutTemplate) throws(MixError) {
        try state.withLock { state throws(MixError) in
            let at = max(state.nextFrameTime(frameDuration), state.layouts.changes.last?.at ?? 0)
            do throws(LayoutError) {
                try state.layouts.switchTemplate(to: template, session: state.sessions.current, at: at)
            } catch {
                throw .layout(error)
            }
        }
    }

    /// The decorations shown at `time`.
    func decorations(at time: UInt64) -> Decorations {
        state.withLock { state in (state.decorations.last { $0.at <= time } ?? state.decorations[0]).value }
    }

    /// Shows `decorations` from the next output frame on.
    func setDecorations(_ decorations: Decorations) {
        state.withLock { state in
            state.decorations.append((state.nextFrameTime(frameDuration), decorations))
            if state.decorations.count > 16 { state.decorations.removeFirst(state.decorations.count - 16) }
        }
    }

    /// The session as it stands now (a copy).
    var current: Session { state.withLock { $0.sessions.current } }
}
