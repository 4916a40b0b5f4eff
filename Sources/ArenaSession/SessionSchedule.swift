/// An event at a time on the mix's clock.
public struct TimedEvent: Equatable, Sendable {
    /// Nanoseconds from the start of the mix.
    public let at: UInt64
    public let event: SessionEvent

    public init(at: UInt64, event: SessionEvent) {
        self.at = at
        self.event = event
    }
}

/// An event of a timeline that cannot apply, with its position as written.
public struct TimelineError: Error, Equatable, CustomStringConvertible {
    public let index: Int
    public let reason: SessionError

    public init(index: Int, reason: SessionError) {
        self.index = index
        self.reason = reason
    }

    public var description: String { "timeline[\(index)]: \(reason)" }
}

/// The session over time: the state after every change and every notice, append-only.
/// A render replays its whole timeline up front; a live mix appends as events arrive.
/// Any frame can look its state up, and the same events always give the same states.
public struct SessionSchedule: Sendable {
    /// Sessions in time order; `changes[0]` holds from time 0.
    public private(set) var changes: [(at: UInt64, session: Session)]
    public private(set) var notices: [Notice] = []
    /// The latest state (the session of the last change, advanced to the latest time).
    public private(set) var current: Session

    /// A schedule that starts with `initial` at time 0.
    public init(initial: Session) {
        current = initial
        changes = [(0, initial)]
    }

    /// Replays `events` (stable-sorted by time) from `initial` up to `end`, firing what falls
    /// due on the way; the first event that cannot apply is reported with its index.
    public init(initial: Session, events: [TimedEvent], until end: UInt64) throws(TimelineError) {
        self.init(initial: initial)
        let ordered = events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
        for (index, timed) in ordered where timed.at <= end {
            do {
                _ = try apply(timed.event, at: timed.at)
            } catch {
                throw TimelineError(index: index, reason: error)
            }
        }
        _ = advance(to: end)
    }

    /// Fires what falls due up to `time`, deadline by deadline, so that each one's state is
    /// recorded at its own time. Times before the latest are taken as the latest.
    public mutating func advance(to time: UInt64) -> [Notice] {
        var fired: [Notice] = []
        while let next = current.nextDueTime(), next <= time {
            fired += record(current.advance(to: next))
        }
        return fired + record(current.advance(to: max(time, current.now)))
    }

    /// Applies `event` at `time` (not before the latest time); a refused event changes nothing.
    public mutating func apply(_ event: SessionEvent, at time: UInt64) throws(SessionError) -> [Notice] {
        let fired = advance(to: time)
        return fired + record(try current.apply(event))
    }

    /// Lets `user` take part from `time` on.
    public mutating func addKnownUser(_ user: String, at time: UInt64) {
        _ = advance(to: time)
        current.addKnownUser(user)
        _ = record([])
    }

    private mutating func record(_ new: [Notice]) -> [Notice] {
        notices += new
        guard current != changes[changes.count - 1].session else { return new }
        if changes[changes.count - 1].at == current.now {
            changes[changes.count - 1].session = current
        } else {
            changes.append((current.now, current))
        }
        return new
    }

    /// Drops the states and notices no frame at or after `time` needs (a live mix calls this
    /// so that hours of score updates do not pile up).
    public mutating func forget(before time: UInt64) {
        if let keep = changes.lastIndex(atOrBefore: time, time: { $0.at }), keep > 0 { changes.removeFirst(keep) }
        // The two latest score changes stay: the bar eases from one to the other.
        let firstKept = notices.firstIndex { $0.at >= time } ?? notices.count
        let scores = notices[..<firstKept].filter { $0.event == "onBattleScoreChanged" }.suffix(2)
        notices = Array(scores) + notices[firstKept...]
    }

    /// The session in force at `time` (nanoseconds).
    public func session(at time: UInt64) -> Session {
        changes[changes.lastIndex(atOrBefore: time) { $0.at } ?? 0].session
    }
}
