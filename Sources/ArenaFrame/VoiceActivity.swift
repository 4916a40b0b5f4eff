import Foundation

/// Whether a host is heard, from the level of their sound, with hysteresis so that the
/// speaking ring does not flicker: it turns on as soon as a stretch of sound reaches
/// ``onLevel``, stays on while the sound stays above ``offLevel``, and turns off ``release``
/// after the last such sound, whether quiet sound follows or none at all (a sender that
/// stops, a codec's silence suppression). Sound is added as it is decoded, stamped in mix
/// time; frames ask about their own time.
public struct VoiceActivity: Sendable {
    /// dBFS (RMS): a voice at a normal distance from a phone's microphone is well above it.
    public static let onLevel = -40.0
    /// dBFS (RMS): sound between the two keeps a voice that is on, on.
    public static let offLevel = -48.0
    /// How long the voice counts as heard after its last sound.
    public static let release: UInt64 = 500_000_000

    /// Stretches of voice (start, end of the last sound in them), oldest first; a few kept.
    private var voiced: [(start: UInt64, end: UInt64)] = []

    public init() {}

    /// Adds a stretch of sound starting at `time`, `duration` long, at `level` dBFS (RMS).
    public mutating func add(level: Double, at time: UInt64, duration: UInt64) {
        let end = time + duration
        if let last = voiced.last, time <= last.end + Self.release, level >= Self.offLevel {
            voiced[voiced.count - 1].end = max(last.end, end)
        } else if level >= Self.onLevel {
            voiced.append((time, end))
            if voiced.count > 64 { voiced.removeFirst(voiced.count - 64) }
        }
    }

    /// Whether the host is heard at `time`.
    public func speaking(at time: UInt64) -> Bool {
        voiced.last { $0.start <= time }.map { time < $0.end + Self.release } ?? false
    }

    /// RMS level in dBFS of interleaved signed 16-bit samples (-120 for silence).
    public static func level(ofS16 samples: UnsafeRawBufferPointer) -> Double {
        let count = samples.count / 2
        guard count > 0 else { return -120 }
        var sum = 0.0
        for index in 0..<count {
            let value = Double(samples.loadUnaligned(fromByteOffset: 2 * index, as: Int16.self))
            sum += value * value
        }
        let meanSquare = sum / Double(count) / (32_768.0 * 32_768.0)
        return meanSquare > 1e-12 ? 10 * log10(meanSquare) : -120
    }
}
