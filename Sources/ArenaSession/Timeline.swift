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

/// An event of a timeline that cannot apply, with its position in the file.
public struct TimelineError: Error, Equatable, CustomStringConvertible {
    /// Index of the event in the timeline as written.
    public let index: Int
    public let reason: SessionError

    public init(index: Int, reason: SessionError) {
        self.index = index
        self.reason = reason
    }

    public var description: String { "timeline[\(index)]: \(reason)" }
}

/// The roster at every moment of a render: the state after each timeline event, replayed
/// once up front so that any frame can look its state up without locks.
public struct RosterSchedule: Sendable {
    /// States in time order; `changes[0]` holds from time 0.
    public let changes: [(at: UInt64, state: CoHostState)]

    /// Replays `events` (stable-sorted by time) from `initial`; the first event that cannot
    /// apply is reported with its index as written.
    public init(initial: CoHostState, events: [TimedEvent]) throws(TimelineError) {
        var state = initial
        var changes: [(at: UInt64, state: CoHostState)] = [(0, initial)]
        let ordered = events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
        for (index, timed) in ordered {
            do {
                try state.apply(timed.event)
            } catch {
                throw TimelineError(index: index, reason: error)
            }
            if changes[changes.count - 1].at == timed.at {
                changes[changes.count - 1].state = state
            } else {
                changes.append((timed.at, state))
            }
        }
        self.changes = changes
    }

    /// The state in force at `time` (nanoseconds).
    public func state(at time: UInt64) -> CoHostState {
        var low = 0, high = changes.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if changes[middle].at <= time { low = middle } else { high = middle - 1 }
        }
        return changes[low].state
    }
}
