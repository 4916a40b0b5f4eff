import Foundation

/// Whether a host is heard, from the level of their sound, with hysteresis so that the
/// speaking ring does not flicker: on as soon as a stretch of sound reaches ``onLevel``, off
/// once it has stayed under ``offLevel`` for ``release``. Sound is added as it is decoded
/// (stamped in mix time); frames ask about their own time.
public struct VoiceActivity: Sendable {
    /// dBFS (RMS): a voice at a normal distance from a phone's microphone is well above it.
    public static let onLevel = -40.0
    public static let offLevel = -48.0
    public static let release: UInt64 = 500_000_000

    /// When it turned on and off, oldest first (a few kept).
    private var changes: [(at: UInt64, speaking: Bool)] = []
    private var quietSince: UInt64?

    public init() {}

    /// Adds a stretch of sound starting at `time`, `duration` long, at `level` dBFS (RMS).
    public mutating func add(level: Double, at time: UInt64, duration: UInt64) {
        let speaking = changes.last?.speaking ?? false
        if level >= Self.onLevel {
            quietSince = nil
            if !speaking { record(true, at: time) }
        } else if level < Self.offLevel {
            let since = quietSince ?? time
            quietSince = since
            if speaking, time + duration >= since + Self.release { record(false, at: since + Self.release) }
        } else {
            quietSince = nil
        }
    }

    /// Whether the host is heard at `time`.
    public func speaking(at time: UInt64) -> Bool {
        changes.last { $0.at <= time }?.speaking ?? false
    }

    private mutating func record(_ speaking: Bool, at time: UInt64) {
        changes.append((time, speaking))
        if changes.count > 64 { changes.removeFirst(changes.count - 64) }
    }

    /// RMS level in dBFS of interleaved signed 16-bit samples (-120 for silence).
    public static func level(ofS16 samples: UnsafeRawBufferPointer) -> Double {
        let values = samples.bindMemory(to: Int16.self)
        guard !values.isEmpty else { return -120 }
        var sum = 0.0
        for value in values { sum += Double(value) * Double(value) }
        let meanSquare = sum / Double(values.count) / (32_768.0 * 32_768.0)
        return meanSquare > 1e-12 ? 10 * log10(meanSquare) : -120
    }
}
