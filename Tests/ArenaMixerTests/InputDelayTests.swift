@testable import ArenaMixer
import Testing

/// How much later than their time a live input's frames are shown: whole output frames that
/// cover the latest frames of the last 10 s, up to the compositor's wait.
struct InputDelayTests {
    static let frame: UInt64 = 33_333_333  // 30 fps
    static let second: UInt64 = 1_000_000_000

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

    @Test func lateFramesAreCoveredInWholeOutputFrames() {
        var delay = Self.fresh()
        Self.feed(&delay, from: 0, to: 3) { _ in 2 }
        // A sender pacing B-frames in decoding order: every fourth frame 40 ms late.
        Self.feed(&delay, from: 3, to: 6) { time in Int(time * 30) % 4 == 0 ? 40 : 2 }
        #expect(delay.current == 2 * Self.frame)
        Self.feed(&delay, from: 6, to: 7) { _ in 20 }
        #expect(delay.current == 2 * Self.frame, "a smaller lateness keeps the window's largest")
    }

    @Test func theDelayIsNoMoreThanTheCompositorWouldWait() {
        var delay = Self.fresh()
        Self.feed(&delay, from: 0, to: 5) { _ in 300 }
        #expect(delay.current == 3 * Self.frame, "116.7 ms of wait holds three whole frames")
    }

    @Test func framesOfTheFirstSecondAreNotCounted() {
        var delay = Self.fresh()
        // A jitter buffer finding its timing: the first frames come 80 ms late.
        Self.feed(&delay, from: 4, to: 4.9) { _ in 80 }
        #expect(delay.current == 0)
        Self.feed(&delay, from: 4.9, to: 5.1) { _ in 30 }
        #expect(delay.current == Self.frame)
    }

    @Test func theDelayFallsOnceTheLateFramesLeaveTheWindow() {
        var delay = Self.fresh()
        Self.feed(&delay, from: 0, to: 2) { _ in 1 }
        Self.feed(&delay, from: 2, to: 2.1) { _ in 60 }  // a burst in second 2
        #expect(delay.current == 2 * Self.frame)
        Self.feed(&delay, from: 2.1, to: 11.9) { _ in 1 }
        #expect(delay.current == 2 * Self.frame, "second 2 is still among the last ten")
        Self.feed(&delay, from: 11.9, to: 12.1) { _ in 1 }
        #expect(delay.current == 0)
    }
}
