/// How much later than their own time a live input's frames are shown, so that an input whose
/// frames come in late delays only its own host, not the whole mix.
///
/// A live compositor makes each output frame once every input has a frame for it. A host whose
/// decoded frames arrive, say, 60 ms after their time (a sender pacing B-frames in decoding
/// order; a jitter buffer drifting against such a stream) would hold every output frame, and so
/// every other host, back by those 60 ms. Instead, the input's frames and sound are moved later
/// by this delay: its frames then arrive before their new time and nobody waits for them. The
/// host's picture and sound move together, keeping the gap its sender's timing puts between
/// them; it is shown as late as it comes.
///
/// The delay is the largest lateness of the input's video frames over the last `window`
/// (counted in whole seconds of running time: 9 to 10 s for 10), rounded up to whole output
/// frames (so each frame keeps its place between two output frames), and no more than
/// `limit` (what the compositor would otherwise wait). Lateness up to half a
/// frame (decoding time, scheduling) is not delayed for, and the frames of the first `settling`
/// after a (re)start, while the jitter buffer finds its timing, are not counted. It rises at
/// once and falls when the late frames leave the window; each change moves the host's picture
/// by whole frames (one repeated or skipped) and its sound by as much (a gap or an overlap).
struct InputDelay {
    let frameDuration: UInt64
    let limit: UInt64
    let window: UInt64
    let settling: UInt64
    /// The delay now (ns), a whole number of frame durations.
    private(set) var current: UInt64 = 0
    private var firstFrame: UInt64?
    /// The largest lateness counted in each second of running time, oldest first.
    private var worstBySecond: [(second: UInt64, lateness: UInt64)] = []

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
        guard now >= first + settling else { return }
        let second = now / 1_000_000_000
        let counted = lateness > Int64(frameDuration / 2) ? UInt64(lateness) : 0
        if let last = worstBySecond.last, last.second == second {
            worstBySecond[worstBySecond.count - 1].lateness = max(last.lateness, counted)
        } else {
            worstBySecond.append((second, counted))
        }
        let oldest = second + 1 - min(second + 1, max(1, window / 1_000_000_000))
        worstBySecond.removeAll { $0.second < oldest }
        let worst = worstBySecond.map(\.lateness).max() ?? 0
        let frames = min((worst + frameDuration - 1) / frameDuration, limit / frameDuration)
        current = frames * frameDuration
    }
}
