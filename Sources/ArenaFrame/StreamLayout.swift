import ArenaLayout
import Foundation

/// What a player needs to place its own widgets over the mix: the canvas, each host's cell,
/// and the battle's scores. Carried in the H.264 output as JSON in an SEI message (README:
/// "Layout in the stream"); the fields are that format.
public struct StreamLayout: Codable, Equatable, Sendable {
    /// One host's cell on that frame, in canvas pixels (mid-transition, where it is drawn).
    public struct Cell: Codable, Equatable, Sendable {
        public var userId: String
        public var x: Int
        public var y: Int
        public var width: Int
        public var height: Int
        /// Higher above.
        public var zOrder: Int
        /// False while the cell shows the host's placeholder (camera off, no picture).
        public var video: Bool
    }

    /// The battle on that frame: who battles, their scores, the time left, whether it is over.
    public struct Battle: Codable, Equatable, Sendable {
        public var participants: [String]
        /// By user id, the battling hosts only.
        public var scores: [String: Int64]
        public var remainingMs: UInt64
        public var ended: Bool
    }

    /// Output time of the frame, milliseconds.
    public var timeMs: UInt64
    /// Width and height.
    public var canvas: [Int]
    public var cells: [Cell]
    /// Absent outside a battle.
    public var battle: Battle?

    /// The layout `plan` shows.
    public init(_ plan: FramePlan) {
        timeMs = plan.time / 1_000_000
        canvas = [plan.overlay.canvas.width, plan.overlay.canvas.height]
        cells = plan.cells.map { Cell(userId: $0.userId, x: $0.rect.x, y: $0.rect.y, width: $0.rect.width, height: $0.rect.height,
                                      zOrder: $0.zOrder, video: $0.showsVideo) }
        battle = plan.overlay.battle.map { battle in
            Battle(participants: battle.participants, scores: battle.scores.filter { battle.participants.contains($0.key) },
                   remainingMs: battle.remaining / 1_000_000, ended: battle.sinceEnd != nil)
        }
    }

    /// The same but for the time: a change worth telling players about between keyframes.
    public func differsBeyondTime(from other: StreamLayout) -> Bool {
        var a = self, b = other
        (a.timeMs, b.timeMs) = (0, 0)
        a.battle?.remainingMs = 0
        b.battle?.remainingMs = 0
        return a != b
    }

    /// Compact JSON with sorted keys.
    public func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? [UInt8](encoder.encode(self))) ?? []
    }
}
