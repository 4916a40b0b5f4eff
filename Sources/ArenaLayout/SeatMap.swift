/// Which host sits in which slot of a template, kept across joins and leaves.
public struct SeatMap: Equatable, Sendable {
    public let templateId: Int
    public let seating: LayoutTemplate.Seating
    public let seatCount: Int
    /// The user in each seat; nil is an empty seat (fixed templates only).
    public private(set) var seats: [String?]

    public init(template: LayoutTemplate) {
        templateId = template.id
        seating = template.seating
        seatCount = template.maxHosts
        seats = []
    }

    /// Updates the seats for the hosts now connected, given owner first and the others in
    /// join order. Reflow templates take that order as it is; fixed templates keep every
    /// staying host in its seat and put a newcomer in the lowest free seat (seat 0 is the
    /// owner's).
    public mutating func update(connected: [String], owner: String) throws(LayoutError) {
        guard connected.count <= seatCount else {
            throw .tooManyHosts(template: templateId, maxHosts: seatCount, requested: connected.count)
        }
        switch seating {
        case .reflow:
            seats = connected
        case .fixed:
            var next = Array(repeating: String?.none, count: seatCount)
            let staying = Set(connected)
            for (seat, user) in seats.enumerated() where user.map(staying.contains) == true {
                next[seat] = user
            }
            for user in connected where !next.contains(user) {
                if user == owner, next[0] == nil {
                    next[0] = user
                } else if let free = (1..<seatCount).first(where: { next[$0] == nil }) ?? (next[0] == nil ? 0 : nil) {
                    next[free] = user
                }
            }
            seats = next
        }
    }
}

/// One host's place in the output.
public struct Placement: Equatable, Sendable {
    public let userId: String
    public let slot: Int
    public let rect: Rect
    /// Stacking order: later slots above earlier ones (floating tiles over the full-screen host).
    public let zOrder: Int
    /// How the host's picture fills the cell.
    public let fit: LayoutTemplate.Fit

    /// `userId` in `slot`, at `rect`.
    public init(userId: String, slot: Int, rect: Rect, zOrder: Int, fit: LayoutTemplate.Fit = .cover) {
        self.userId = userId
        self.slot = slot
        self.rect = rect
        self.zOrder = zOrder
        self.fit = fit
    }
}

extension LayoutTemplate {
    /// Where each seated host goes on a canvas of `size`.
    public func placements(_ seats: SeatMap, on size: Size) -> [Placement] {
        let occupied = seats.seats.compactMap { $0 }.count
        let cells = self.cells(forHostCount: seating == .fixed ? maxHosts : occupied)
        return seats.seats.enumerated().compactMap { slot, user in
            guard let user, slot < cells.count else { return nil }
            let cell = cells[slot]
            return Placement(userId: user, slot: slot, rect: Self.rect(cell, on: size), zOrder: cell.z ?? slot + 1, fit: cell.fit ?? .cover)
        }
    }
}
