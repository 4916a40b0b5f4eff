@testable import ArenaMixer
import Testing

/// A change of a live input's delay moves its picture and its sound from the same time of the
/// input's own, however far apart the two arrive.
struct DelaySwitchesTests {
    static let frame: Int64 = 33_333_333
    static let soundBuffer: Int64 = 20_000_000
    static let millisecond: Int64 = 1_000_000

    /// Feeds 4 s of a 30 fps picture and 20 ms sound buffers in arrival order, the picture
    /// arriving `pictureLag` after the sound of the same time, and changes the delay to each of
    /// `changes`' delays once the arrival clock passes its time. Returns the delay each buffer got.
    static func feed(pictureLag: Int64, changes: [(at: Int64, delay: Int64)], hasSound: Bool = true)
        -> (picture: [(time: Int64, delay: Int64)], sound: [(time: Int64, delay: Int64)]) {
        var switches = DelaySwitches(hasSound: hasSound)
        switches.change(to: 100 * millisecond)
        // Arrivals: (arrival, time, picture?), sorted by arrival.
        var arrivals: [(arrival: Int64, time: Int64, picture: Bool)] = []
        for index in 0..<120 { arrivals.append((Int64(index) * frame + pictureLag, Int64(index) * frame, true)) }
        if hasSound { for index in 0..<200 { arrivals.append((Int64(index) * soundBuffer, Int64(index) * soundBuffer, false)) } }
        arrivals.sort { $0.arrival < $1.arrival }
        var remaining = changes
        var result: (picture: [(time: Int64, delay: Int64)], sound: [(time: Int64, delay: Int64)]) = ([], [])
        for arrival in arrivals {
            while let next = remaining.first, next.at <= arrival.arrival {
                switches.change(to: next.delay)
                remaining.removeFirst()
            }
            let delay = switches.delay(at: arrival.time, until: arrival.time + (arrival.picture ? frame : soundBuffer), picture: arrival.picture)
            if arrival.picture { result.picture.append((arrival.time, delay)) } else { result.sound.append((arrival.time, delay)) }
        }
        return result
    }

    /// Every frame's delay is the delay of the sound buffer its time falls in.
    static func mismatches(_ fed: (picture: [(time: Int64, delay: Int64)], sound: [(time: Int64, delay: Int64)])) -> [Int64] {
        fed.picture.compactMap { frame in
            guard let sound = fed.sound.last(where: { $0.time <= frame.time }) else { return nil }
            return sound.delay == frame.delay ? nil : frame.time / millisecond
        }
    }

    @Test func aPictureArrivingLateMovesWithItsSound() {
        // A B-frame sender: each frame 167 ms after its sound; the delay rises, then falls.
        let fed = Self.feed(pictureLag: 167 * Self.millisecond, changes: [(1_500 * Self.millisecond, 300 * Self.millisecond),
                                                                          (2_700 * Self.millisecond, 133 * Self.millisecond)])
        #expect(Self.mismatches(fed).isEmpty, "frames (ms) moved apart from their sound: \(Self.mismatches(fed))")
        #expect(Set(fed.picture.map { $0.delay }) == Set([100, 300, 133].map { $0 * Self.millisecond }))
        #expect(fed.picture.last?.delay == 133 * Self.millisecond && fed.sound.last?.delay == 133 * Self.millisecond)
    }

    @Test func soundArrivingLateMovesWithItsPictureButForOneSoundBuffer() {
        // The sound buffer across the switch keeps the old delay whole: one frame in it moves apart.
        let fed = Self.feed(pictureLag: -90 * Self.millisecond, changes: [(2_000 * Self.millisecond, 233 * Self.millisecond)])
        #expect(Self.mismatches(fed).count <= 1, "frames (ms) moved apart from their sound: \(Self.mismatches(fed))")
        #expect(fed.sound.last?.delay == 233 * Self.millisecond)
    }

    @Test func withoutSoundAChangeAppliesToTheNextFrame() {
        let fed = Self.feed(pictureLag: 0, changes: [(990 * Self.millisecond, 200 * Self.millisecond)], hasSound: false)
        let changed = fed.picture.first { $0.delay == 200 * Self.millisecond }
        #expect(changed?.time == 30 * Self.frame, "the first frame arriving after the change: \(String(describing: changed))")
    }

    @Test func aBufferWithoutATimeGetsItsStreamsLatestDelay() {
        var switches = DelaySwitches(hasSound: true)
        switches.change(to: 100 * Self.millisecond)
        _ = switches.delay(at: 10 * Self.frame, until: 11 * Self.frame, picture: false)  // sound ahead
        _ = switches.delay(at: 0, until: Self.frame, picture: true)
        switches.change(to: 300 * Self.millisecond)
        #expect(switches.delayWithoutTime(picture: true) == 100 * Self.millisecond)
        #expect(switches.delay(at: 11 * Self.frame, until: 12 * Self.frame, picture: false) == 300 * Self.millisecond)
        #expect(switches.delayWithoutTime(picture: false) == 300 * Self.millisecond)
    }

    @Test func beforeAnythingIsHandedOnAChangeAppliesAtOnce() {
        var switches = DelaySwitches(hasSound: true)
        switches.change(to: 167 * Self.millisecond)
        #expect(switches.delay(at: 5 * Self.frame, until: 6 * Self.frame, picture: false) == 167 * Self.millisecond)
        #expect(switches.delay(at: 0, until: Self.frame, picture: true) == 167 * Self.millisecond)
    }

    @Test func soundThatPausesLeavesABoundedScheduleAndComesBackOnTheNewest() {
        var switches = DelaySwitches(hasSound: true)
        _ = switches.delay(at: 0, until: Self.soundBuffer, picture: false)
        for step in 1...(DelaySwitches.limit + 4) {
            _ = switches.delay(at: Int64(step) * Self.frame, until: Int64(step + 1) * Self.frame, picture: true)
            switches.change(to: Int64(step) * Self.frame)
        }
        let newest = Int64(DelaySwitches.limit + 4) * Self.frame
        #expect(switches.newest == newest)
        // The four oldest changes were taken as passed: sound from before them gets the fourth.
        #expect(switches.delay(at: 0, until: 1, picture: false) == 4 * Self.frame)
        #expect(switches.delay(at: 60 * Self.frame, until: 61 * Self.frame, picture: false) == newest)
        #expect(switches.delay(at: 61 * Self.frame, until: 62 * Self.frame, picture: true) == newest)
    }
}
