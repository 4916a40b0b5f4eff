/// Which delay each of a live input's buffers is moved by, so that a change of ``InputDelay``
/// moves its picture and its sound at the same time of the input's own, not at the same
/// moment of arrival.
///
/// A sender's picture and sound do not arrive together: a host sending B-frames delivers each
/// decoded frame about five frames after the sound of the same time. Had a change applied to
/// whatever arrived next, the picture of those five frames would have moved and their sound not:
/// a flash shown 193 ms before its beep came 7 ms after it once, as the delay rose by 200 ms
/// (make test, 2026-12-01). Now a change takes effect where the latest buffer either stream has
/// handed on ends; the stream that is behind keeps the old delay until it gets there (when
/// that is the sound, a sound buffer across that time keeps it whole: at most one sound
/// buffer's length of picture, typically 20 ms, is moved apart from its sound).
struct DelaySwitches {
    /// Whether the input has sound: without, the picture alone decides when a switch is passed.
    let hasSound: Bool
    /// The delay for times before the first pending switch.
    private var base: Int64 = 0
    /// Changes not yet passed by both streams, oldest first: the delay from `from` on.
    private var pending: [(from: Int64, delay: Int64)] = []
    /// Where the latest picture buffer handed on ends.
    private var pictureEnd: Int64?
    /// Where the latest sound buffer handed on ends.
    private var soundEnd: Int64?
    /// The delay each stream's latest buffer got: for a buffer without a time.
    private var lastPicture: Int64?
    private var lastSound: Int64?

    /// Pending switches kept at most: a stream that stops (a sender's sound paused) leaves them
    /// unpassed, so the oldest are taken as passed beyond this.
    static let limit = 8

    init(hasSound: Bool) {
        self.hasSound = hasSound
    }

    /// The delay the latest change set.
    var newest: Int64 { pending.last?.delay ?? base }

    /// The delay for a buffer of the picture (`picture`) or the sound that has no time: its
    /// stream's latest delay (the newest before any).
    func delayWithoutTime(picture: Bool) -> Int64 {
        (picture ? lastPicture : lastSound) ?? newest
    }

    /// The delay becomes `delay` for every buffer from where those handed on so far end.
    mutating func change(to delay: Int64) {
        guard delay != newest else { return }
        guard let latest = [pictureEnd, soundEnd].compactMap({ $0 }).max() else {
            base = delay  // nothing handed on yet
            return
        }
        pending.append((latest, delay))
        if pending.count > Self.limit { base = pending.removeFirst().delay }
    }

    /// The delay for a buffer of the picture (`picture`) or the sound from `time` to `end`;
    /// notes that its stream has got that far.
    mutating func delay(at time: Int64, until end: Int64, picture: Bool) -> Int64 {
        if picture { pictureEnd = max(pictureEnd ?? end, end) } else { soundEnd = max(soundEnd ?? end, end) }
        let delay = pending.last { $0.from <= time }?.delay ?? base
        if picture { lastPicture = delay } else { lastSound = delay }
        let passedByBoth = hasSound ? min(pictureEnd ?? .min, soundEnd ?? .min) : pictureEnd ?? .min
        while let first = pending.first, first.from <= passedByBoth { base = pending.removeFirst().delay }
        return delay
    }
}
