@testable import ArenaMixer
import Testing

/// How much later than their time a live input's frames are shown: the lateness reached in
/// each of three seconds in a row, in whole output frames up to the compositor's wait, plus
/// three frames; it only rises.
struct InputDelayTests {
    static let frame: UInt64 = 33_333_333  // 30 fps
    static let margin = 3 * frame

    /// A 30 fps input's delay after frames from `start` to `end` (s), each `lateness` ms late.
    static func feed(_ delay: inout InputDelay, from start: Double, to end: Double, lateness: (Double) -> Double) {
        var time = start
        while time < end {
            delay.note(frameLateBy: Int64(lateness(time) * 1e6), at: UInt64(time * 1e9))
            time += 1.0 / 30
        }
    }

    static func fresh() -> InputDelay { InputDelay(frameDuration: frame, limit: 50_000_000 + 2 * frame) }

    @Test func anInputOnTimeOrLessThanHalfAFrameLateIsNotDelayed() {
        var delay = Self.fresh()
        Self.feed(&delay, from: 0, to: 20) { time in [-20, 0, 3, 16][Int(time * 30) % 4] }
        #expect(delay.current == 0)
    }

    @Test func lateFramesAreCoveredInWholeOutputFramesPlusTheMargin() {
        var delay = Self.fresh()
        Self.feed(&delay, from: 0, to: 3) { _ in 2 }
        // A sender pacing B-frames in decoding order: every fourth frame 40 ms late.
        Self.feed(&delay, from: 3, to: 6.1) { time in Int(time * 30) % 4 == 0 ? 40 : 2 }
        #expect(delay.current == 2 * Self.frame + Self.margin)
        Self.feed(&delay, from: 6.1, to: 9.1) { _ in 70 }
        #expect(delay.current == 3 * Self.frame + Self.margin, "a larger lateness, three seconds long, raises it")
    }

    @Test func latenessShorterThanThreeSecondsIsNotDelayedFor() {
        var delay = Self.fresh()
        Self.feed(&delay, from: 0, to: 2) { _ in 1 }
        // A machine starved of CPU for two seconds, a loss repaired.
        Self.feed(&delay, from: 2, to: 4) { _ in 90 }
        Self.feed(&delay, from: 4, to: 8) { time in time < 6 || time > 6.5 ? 1 : 200 }
        #expect(delay.current == 0)
        // Three seconds, each with a late frame: the smallest of their worst is covered.
        Self.feed(&delay, from: 8, to: 11.1) { time in Int(time * 30) % 30 == 0 ? (time < 9 ? 90 : 45) : 1 }
        #expect(delay.current == 2 * Self.frame + Self.margin)
    }

    @Test func theDelayNeverFalls() {
        var delay = Self.fresh()
        Self.feed(&delay, from: 0, to: 5.1) { _ in 60 }
        #expect(delay.current == 2 * Self.frame + Self.margin)
        // Moving the sound earlier again would leave the picture a frame late (see InputDelay).
        Self.feed(&delay, from: 5.1, to: 30) { _ in 1 }
        #expect(delay.current == 2 * Self.frame + Self.margin)
    }

    @Test func theLatenessCoveredIsNoMoreThanTheCompositorWouldWait() {
        var delay = Self.fresh()
        Self.feed(&delay, from: 0, to: 5) { _ in 300 }
        #expect(delay.current == 3 * Self.frame + Self.margin, "116.7 ms of wait holds three whole frames")
    }

    @Test func framesOfTheFirstSecondAreNotCounted() {
        var delay = Self.fresh()
        // A jitter buffer finding its timing: the first frames come 80 ms late.
        Self.feed(&delay, from: 4, to: 4.9) { _ in 80 }
        Self.feed(&delay, from: 4.9, to: 9.1) { _ in 30 }
        #expect(delay.current == Self.frame + Self.margin)
    }
}
