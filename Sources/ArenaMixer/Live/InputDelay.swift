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
/// input's first frame, while the jitter buffer finds its timing), the delay covers the lateness all three seconds reached, in whole output
/// frames and no more than `limit` (what the compositor would otherwise wait), plus
/// ``margin``. It only ever rises, until the input restarts. Measured (flash-and-beep sender,
/// the delay forced through a pattern):
/// - while the delay rises, each flash stays with its beep (within 2 ms over 50 s, steps
///   of one frame and more);
/// - when it falls, the picture is shown a frame later than its time from then on (the
///   compositor has already made the output frames the earlier times fall in), so the sound
///   leads it by a frame more (33 ms at 30 fps).
struct InputDelay {
    let frameDuration: UInt64
    let limit: UInt64
    let settling: UInt64
    /// The delay now (ns), a whole number of frame durations: zero, or lateness plus margin.
    private(set) var current: UInt64 = 0
    private var firstFrame: UInt64?
    /// The largest lateness counted in each of the last seconds of running time, oldest first.
    private var worstBySecond: [(second: UInt64, lateness: Int64)] = []

    /// Three frames on top of the lateness: a live compositor makes output frames up to two
    /// frames ahead of the clock (its frame clock runs that far ahead), and shows a frame in the
    /// output frame its time falls in; a delayed frame must be there before that output frame
    /// is made, or it is shown when it comes, not at its time.
    var margin: UInt64 { 3 * frameDuration }

    init(frameDuration: UInt64, limit: UInt64, settling: UInt64 = 1_000_000_000) {
        self.frameDuration = max(1, frameDuration)
        self.limit = limit
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
        worstBySecond.append((second, lateness))
        worstBySecond.removeAll { $0.second + 3 < second }
        // The three seconds before this one, each with frames.
        let complete = worstBySecond.dropLast()
        guard complete.count == 3, complete.first?.second == second - 3 else { return }
        let persistent = complete.map(\.lateness).min() ?? 0
        guard persistent > Int64(frameDuration / 2) else { return }
        let frames = min((UInt64(persistent) + frameDuration - 1) / frameDuration, limit / frameDuration)
        current = max(current, frames * frameDuration + margin)
    }
}
