import ArenaLayout
import ArenaSession

/// Where every host is, and whose camera and microphone are off, from one moment of the mix on.
public struct FrameLayout: Equatable, Sendable {
    public let placements: [Placement]
    public let cameraOff: Set<String>
    public let micOff: Set<String>
    /// Seats without video (a voice room).
    public let audioOnly: Bool

    /// The hosts at `placements`, with whose camera and microphone are off.
    public init(placements: [Placement], cameraOff: Set<String>, micOff: Set<String>, audioOnly: Bool = false) {
        self.placements = placements
        self.cameraOff = cameraOff
        self.micOff = micOff
        self.audioOnly = audioOnly
    }

    public func placement(of userId: String) -> Placement? {
        placements.first { $0.userId == userId }
    }
}

/// The layout at every moment of a mix, append-only like the ``SessionSchedule`` it follows.
public struct LayoutSchedule: Sendable {
    public private(set) var changes: [(at: UInt64, layout: FrameLayout)] = []
    private var seats: SeatMap
    private var template: LayoutTemplate
    private let canvas: Size

    /// Seats every session of `sessions` with `template` on `canvas`.
    public init(sessions: SessionSchedule, template: LayoutTemplate, canvas: Size) throws(LayoutError) {
        seats = SeatMap(template: template)
        self.template = template
        self.canvas = canvas
        for (at, session) in sessions.changes { try record(session, at: at) }
    }

    /// Seats `session`'s hosts from `at` on; only a layout that differs is recorded.
    public mutating func record(_ session: Session, at: UInt64) throws(LayoutError) {
        try seats.update(connected: session.connected, owner: session.owner)
        let layout = FrameLayout(placements: template.placements(seats, on: canvas), cameraOff: session.cameraOff,
                                 micOff: session.micOff, audioOnly: template.audioOnly)
        guard changes.last?.layout != layout else { return }
        // Two changes for one frame: the later one is what that frame shows.
        if changes.last?.at == at { changes.removeLast() }
        if changes.last?.layout != layout { changes.append((at, layout)) }
    }

    /// Lays `session` out with another template from `at` on (the hosts keep their order).
    public mutating func switchTemplate(to template: LayoutTemplate, session: Session, at: UInt64) throws(LayoutError) {
        let previous = (self.template, seats)
        self.template = template
        seats = SeatMap(template: template)
        do {
            try record(session, at: at)
        } catch {
            (self.template, seats) = previous
            throw error
        }
    }

    /// Drops the layouts no frame at or after `time` needs (a transition needs the layout before it).
    public mutating func forget(before time: UInt64) {
        let needed = time.saturatingSubtract(FramePlanner.layoutTransition)
        if let keep = changes.lastIndex(atOrBefore: needed, time: { $0.at }), keep > 1 { changes.removeFirst(keep - 1) }
    }

    /// The layout in force at `time` (nanoseconds of mix time). Called per frame and per
    /// buffer, so a binary search.
    public func layout(at time: UInt64) -> FrameLayout {
        changes[changes.lastIndex(atOrBefore: time) { $0.at } ?? 0].layout
    }

    /// The layout in force at `time`, with the last one whose cells differ and when the cells
    /// changed (for transitions: a camera or microphone switched meanwhile moves nothing).
    public func layoutChange(at time: UInt64) -> (layout: FrameLayout, previous: (layout: FrameLayout, changedAt: UInt64)?) {
        let index = changes.lastIndex(atOrBefore: time) { $0.at } ?? 0
        let layout = changes[index].layout
        var first = index
        while first > 0, changes[first - 1].layout.placements == layout.placements, changes[first - 1].layout.audioOnly == layout.audioOnly {
            first -= 1
        }
        guard first > 0 else { return (layout, nil) }
        return (layout, (changes[first - 1].layout, changes[first].at))
    }
}
