/// How much later than their own time a live input's frames are shown, so that an input whose
/// frames come in late delays only its own host, not the whole mix.
///
/// A live compositor makes each output frame once every input has a frame for it. A host whose
/// decoded frames arrive, say, 60 ms after their time (a sender pacing B-frames in decoding
/// order; frames repaired after a loss) would hold every output frame, and so every other
/// host, back by those 60 ms. Instead, the input's frames and sound are moved later by this
/// delay: its frames then arrive before their new time and nobody waits for them. The host's
/// picture and sound move together, keeping the gap its sender's timing puts between them.
///
/// Once an input's frames have come in more than half a frame late in each of three whole
/// seconds of running time in a row (a sender's way of pacing, not a moment's CPU starvation
/// or a repaired loss; counting from the first second that starts after `settling` from the
/// input's first frame, while the jitter buffer finds its timing), the delay covers the
/// lateness all three seconds reached, in whole output frames and no more than `limit` (what
/// the compositor would otherwise wait), plus ``margin``. It covers the largest such run of
/// the last `window`, so it rises once a run ends and falls once no run of that size is left
/// in the window. When it falls, the hub drops the frames whose new times are not after the
/// last one handed on (the picture holds for the difference) and the mixer skips as much
/// sound: the picture that follows is again shown at its time.
///
/// Measured (flash-and-beep sender, the delay forced through 0, 100, 0, 133, 167, 100 and 0 ms
/// for 10 s each): each flash 3-8 ms from its beep throughout. Without dropping those frames,
/// each fall left the picture a frame later than its time for good (33 ms of lip sync lost).
struct InputDelay {
    let frameDuration: UInt64
    let limit: UInt64
    let window: UInt64
    let settling: UInt64
    /// The delay now (ns), a whole number of frame durations: zero, or lateness plus margin.
    private(set) var current: UInt64 = 0
    private var firstFrame: UInt64?
    /// The largest lateness of each of the last whole seconds with frames, oldest first.
    private var worstBySecond: [(second: UInt64, lateness: Int64)] = []
    /// For each of the last `window` seconds: the lateness it and the two before it all reached.
    private var runs: [(second: UInt64, lateness: Int64)] = []

    /// Three frames on top of the lateness: a live compositor makes output frames up to two
    /// frames ahead of the clock (its frame clock runs that far ahead), and shows a frame in the
    /// output frame its time falls in; a delayed frame must be there before that output frame
    /// is made, or it is shown when it comes, not at its time.
    var margin: UInt64 { 3 * frameDuration }

    init(frameDuration: UInt64, limit: UInt64, window: UInt64 = 10_000_000_000, settling: UInt64 = 1_000_000_000) {
        self.frameDuration = max(1, frameDuration)
        self.limit = limit
        self.window = window
        self.settling = settling
    }

    /// Notes a video frame that came in `lateness` ns after its time (negative: early), at
    /// running time `now`; ``current`` is then the delay for it and for the sound from now on.
    mutating func note(frameLateBy lateness: Int64, at now: UInt64) {
        let first = firstFrame ?? now
        firstFrame = first
        // Whole seconds of running time from the first that starts after settling.
        let second = now / 1_000_000_000
        guard second > (first + settling) / 1_000_000_000 else { return }
        if let last = worstBySecond.last, last.second == second {
            worstBySecond[worstBySecond.count - 1].lateness = max(last.lateness, lateness)
            return
        }
        // A new second: the one before it ends a run of three if the three all had frames.
        let ended = worstBySecond.suffix(3)
        let run = ended.count == 3 && ended.first?.second == second - 3 ? ended.map(\.lateness).min() ?? 0 : 0
        worstBySecond = Array(ended.suffix(2)) + [(second, lateness)]
        runs.append((second - 1, run))
        runs.removeAll { $0.second + window / 1_000_000_000 < second }
        let worst = runs.map(\.lateness).max() ?? 0
        guard worst > Int64(frameDuration / 2) else {
            current = 0
            return
        }
        let frames = min((UInt64(worst) + frameDuration - 1) / frameDuration, limit / frameDuration)
        current = frames * frameDuration + margin
    }
}
