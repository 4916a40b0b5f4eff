import ArenaFrame
import Testing

@Suite struct VoiceActivityTests {
    let ms: UInt64 = 1_000_000

    /// `pattern` of 10 ms buffers: true loud (-20 dBFS), false silent.
    private func fed(_ pattern: [Bool]) -> VoiceActivity {
        var voice = VoiceActivity()
        for (index, loud) in pattern.enumerated() { voice.add(level: loud ? -20 : -90, at: UInt64(index) * 10 * ms, duration: 10 * ms) }
        return voice
    }

    @Test func onAtOnceOffAfterHalfASecondOfQuiet() {
        let voice = fed(Array(repeating: false, count: 100) + Array(repeating: true, count: 100) + Array(repeating: false, count: 100))
        #expect(!voice.speaking(at: 999 * ms))
        #expect(voice.speaking(at: 1000 * ms))
        #expect(voice.speaking(at: 2499 * ms), "held through the release")
        #expect(!voice.speaking(at: 2500 * ms))
    }

    @Test func pausesBetweenWordsDoNotFlicker() {
        // 150 ms of voice, 200 ms of pause, for 3 s.
        let voice = fed((0..<300).map { $0 % 35 < 15 })
        let changes = stride(from: UInt64(0), to: 3000 * ms, by: Int(10 * ms)).map { voice.speaking(at: $0) }
        #expect(changes.firstIndex(of: false) == nil, "speaking all along")
        #expect(!voice.speaking(at: 3500 * ms), "and not after the last word's release")
    }

    @Test func levelsOfSamples() {
        var full = [Int16](repeating: 0, count: 960)
        for index in full.indices { full[index] = index % 2 == 0 ? 16_384 : -16_384 }
        #expect(abs(full.withUnsafeBytes { VoiceActivity.level(ofS16: $0) } - -6.02) < 0.01)
        #expect([Int16](repeating: 0, count: 960).withUnsafeBytes { VoiceActivity.level(ofS16: $0) } == -120)
    }
}

extension VoiceActivityTests {
    /// A sender that stops (or a codec that sends nothing in silence): no quiet sound comes, and the ring still goes.
    @Test func offHalfASecondAfterTheLastSoundWhenNothingMoreComes() {
        let voice = fed(Array(repeating: true, count: 100))
        #expect(voice.speaking(at: 1400 * ms))
        #expect(!voice.speaking(at: 1500 * ms))
        #expect(!voice.speaking(at: 60_000 * ms))
    }

    /// Between the two levels: a voice that is on stays on, one that is off does not turn on.
    @Test func theBandBetweenTheLevelsHoldsButDoesNotStart() {
        var voice = VoiceActivity()
        for index in 0..<100 { voice.add(level: -44, at: UInt64(index) * 10 * ms, duration: 10 * ms) }
        #expect(!voice.speaking(at: 500 * ms))
        voice.add(level: -20, at: 1000 * ms, duration: 10 * ms)
        for index in 101..<300 { voice.add(level: -44, at: UInt64(index) * 10 * ms, duration: 10 * ms) }
        #expect(voice.speaking(at: 2900 * ms) && !voice.speaking(at: 3500 * ms))
    }
}
