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

/// A whole timeline replayed once, up front: the session after every change, and every
/// notice, so that any frame can look its state up without locks and the same timeline
/// always gives the same states.
public struct SessionSchedule: Sendable {
    /// Sessions in time order; `changes[0]` holds from time 0.
    public let changes: [(at: UInt64, session: Session)]
    public let notices: [Notice]

    /// Replays `events` (stable-sorted by time) from `initial` up to `end`, firing what falls
    /// due on the way; the first event that cannot apply is reported with its index.
    public init(initial: Session, events: [TimedEvent], until end: UInt64) throws(TimelineError) {
        var session = initial
        var changes: [(at: UInt64, session: Session)] = [(0, initial)]
        var notices: [Notice] = []
        func record(_ new: [Notice]) {
            notices += new
            guard session != changes[changes.count - 1].session else { return }
            if changes[changes.count - 1].at == session.now {
                changes[changes.count - 1].session = session
            } else {
                changes.append((session.now, session))
            }
        }
        /// Advances deadline by deadline, so that each one's state is recorded at its own time.
        func advance(to time: UInt64) {
            while let next = session.nextDueTime(), next <= time {
                record(session.advance(to: next))
            }
            record(session.advance(to: time))
        }
        let ordered = events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
        for (index, timed) in ordered where timed.at <= end {
            advance(to: timed.at)
            do {
                record(try session.apply(timed.event))
            } catch {
                throw TimelineError(index: index, reason: error)
            }
        }
        advance(to: end)
        self.changes = changes
        self.notices = notices
    }

    /// The session in force at `time` (nanoseconds).
    public func session(at time: UInt64) -> Session {
        changes[changes.lastIndex(atOrBefore: time) { $0.at } ?? 0].session
    }
}
