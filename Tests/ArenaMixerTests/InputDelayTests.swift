@testable import ArenaMixer
import Testing

/// How much later than their time a live input's frames are shown: the lateness reached in
/// each of three seconds in a row, the largest such run of the last 10 s, in whole output
/// frames up to the compositor's wait, plus three frames.
struct InputDelayTests {
    static let frame: UInt64 = 33_333_333  // 30 fps
    static let margin = 3 * frame

    /// Frames of a 30 fps input from `start` to `end` (s), each `lateness` ms late.
    typealias Span = (start: Double, end: Double, lateness: (Double) -> Double)

    /// The input's delay after each span, fed in turn (an RTP input's default 200 ms jitter
    /// buffer: a 266.7 ms wait, of which 200 ms are delayed for).
    static func delays(_ spans: [Span]) -> [UInt64] {
        var delay = InputDelay(frameDuration: frame, limit: 200_000_000)
        return spans.map { span in
            var time = span.start
            while time < span.end {
                delay.note(frameLateBy: Int64(span.lateness(time) * 1e6), at: UInt64(time * 1e9))
                time += 1.0 / 30
            }
            return delay.current
        }
    }

    @Test func anInputOnTimeOrLessThanHalfAFrameLateIsNotDelayed() {
        #expect(Self.delays([(0, 20, { time in [-20, 0, 3, 16][Int(time * 30) % 4] })]) == [0])
    }

    @Test func lateFramesAreCoveredInWholeOutputFramesPlusTheMargin() {
        // A sender pacing B-frames in decoding order: every fourth frame 40 ms late; then a
        // larger lateness, three seconds long.
        let bFrames: Span = (3, 6.1, { time in Int(time * 30) % 4 == 0 ? 40 : 2 })
        #expect(Self.delays([(0, 3, { _ in 2 }), bFrames, (6.1, 9.1, { _ in 90 })]) == [0, 2 * Self.frame + Self.margin, 3 * Self.frame + Self.margin])
    }

    @Test func latenessShorterThanThreeSecondsIsNotDelayedFor() {
        // A machine starved of CPU for two seconds, a loss repaired; then three seconds each
        // with a late frame, of which the smallest worst lateness (45 ms) is covered.
        let starved: Span = (2, 4, { _ in 90 }), repaired: Span = (4, 8, { time in time < 6 || time > 6.5 ? 1 : 200 })
        let late: Span = (8, 11.1, { time in Int(time * 30) % 30 == 0 ? (time < 9 ? 90 : 45) : 1 })
        #expect(Self.delays([(0, 2, { _ in 1 }), starved, repaired, late]) == [0, 0, 0, 2 * Self.frame + Self.margin])
    }

    @Test func theDelayFallsOnceNoRunIsLeftInTheWindow() {
        // The run of seconds 2-4 is counted at 5 s, that of 3-5 at 6 s; the last leaves the
        // 10 s window at 16 s.
        let delays = Self.delays([(0, 5.1, { _ in 60 }), (5.1, 15.5, { _ in 1 }), (15.5, 16.5, { _ in 1 })])
        #expect(delays == [2 * Self.frame + Self.margin, 2 * Self.frame + Self.margin, 0])
    }

    @Test func theLatenessCoveredIsNoMoreThanTheCompositorWouldWait() {
        #expect(Self.delays([(0, 5.1, { _ in 400 })]) == [6 * Self.frame + Self.margin], "200 ms hold six whole frames")
    }

    @Test func aSecondWithoutFramesBreaksTheRun() {
        let late: (Double) -> Double = { _ in 50 }
        #expect(Self.delays([(0, 4, late), (5, 6.1, late), (6.1, 8.1, late)]) == [0, 0, 2 * Self.frame + Self.margin])
    }

    @Test func framesOfTheFirstSecondAfterSettlingAreNotCounted() {
        // A jitter buffer finding its timing: the frames come 80 ms late from 4.5 s. The first
        // whole second after settling is second 6: counted at 9 s, not at 7 s or 8 s.
        let late: (Double) -> Double = { _ in 80 }
        #expect(Self.delays([(4.5, 8.1, late), (8.1, 9.1, late)]) == [0, 3 * Self.frame + Self.margin])
    }
}
