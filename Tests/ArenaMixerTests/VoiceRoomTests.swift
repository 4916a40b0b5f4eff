import ArenaMixer
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// The voice room (template 2): seats with avatars and names, and a ring while a host is heard.
@Suite struct VoiceRoomTests {
    /// A grey clip whose 440 Hz tone plays from 1 s to 2 s only (ffmpeg's lavfi).
    private static func toneClip() throws -> URL {
        let file = try TestMedia.workspace().appendingPathComponent("tone.mp4")
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "color=c=0x808080:s=160x120:r=30:d=4",
                            "-f", "lavfi", "-i", "sine=f=440:d=4:sample_rate=48000", "-af", "volume=enable='not(between(t,1,2))':volume=0",
                            "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", file.path]
        try ffmpeg.run()
        ffmpeg.waitUntilExit()
        guard ffmpeg.terminationStatus == 0 else { throw GStreamerError(message: "ffmpeg could not make the tone clip") }
        return file
    }

    /// The six seats' corners: 240 x 240 from (0, 276), three a row.
    private static let seats = (0..<6).map { (x: 240 * ($0 % 3), y: 276 + 240 * ($0 / 3)) }

    /// Whether the ring shows at the top of `seat`'s avatar (64 width units, 123 px, centred
    /// 16 px above the seat's centre; the ring, 74 units, round it, 11 px thick).
    private static func ring(_ frame: RGBFrame, _ seat: (x: Int, y: Int)) -> Bool {
        let pixel = frame.rgb(x: seat.x + 120, y: seat.y + 104 - 65)
        return pixel.green > 150 && pixel.red < 120
    }

    /// The voice room spec: Alice with the tone clip and five silent hosts, with `preset`.
    private static func voiceRoomSpec(preset: String) throws -> String {
        let silent = try TestMedia.clip(rgb: Colour.blue, width: 160, height: 120, seconds: 4, audio: false)
        let inputs = [("alice", try Self.toneClip())] + ["bob", "carol", "dave", "erin", "frank"].map { ($0, silent) }
        return #"{"template": 2, "duration": 4, "hosts": \#(hostsJSON(inputs)), "output": {"video": {"preset": "\#(preset)"}}}"#
    }

    /// Renders the voice room with `preset`; the frames `wanted`.
    private static func voiceRoom(preset: String, wanted: [Int]) async throws -> [RGBFrame] {
        try await offPool {
            let (_, path) = try render(try voiceRoomSpec(preset: preset))
            return try VideoFrames.decode(path: path) { wanted.contains($0) }.kept
        }
    }

    @Test func sixSeatsWithAvatarsAndNamesAndARingWhileHeard() async throws {
        let wanted = [15, 36, 63, 90]
        let frames = try await Self.voiceRoom(preset: "ultrafast", wanted: wanted)
        try #require(frames.count == 4)
        for frame in frames {
            for seat in Self.seats {
                // The default avatar's grey disc, left of its head.
                expectColour(frame, x: seat.x + 120 - 45, y: seat.y + 104, 0x8A8D93, tolerance: 24)
                // The name: white text in the seat's bottom strip, nothing painted round it.
                var white = 0
                for y in (seat.y + 200)..<(seat.y + 232) {
                    for x in (seat.x + 60)..<(seat.x + 180) where frame.rgb(x: x, y: y).red > 200 && frame.rgb(x: x, y: y).blue > 200 { white += 1 }
                }
                #expect(white > 10, "frame \(frame.index): \(white) white pixels under the seat at \(seat)")
                expectColour(frame, x: seat.x + 4, y: seat.y + 4, 0x000000, tolerance: 20)
            }
        }
        // Alice's ring: off at 0.5 s, on from 1.2 s while the tone plays (1-2 s) and half a
        // second after, off by 3 s. Bob, silent, never has one.
        #expect(frames.map { Self.ring($0, Self.seats[0]) } == [false, true, true, false], "alice's ring at \(wanted) frames")
        #expect(frames.map { Self.ring($0, Self.seats[1]) } == [false, false, false, false])
    }

    /// In a render the ring follows the sound to the frame, however many frames the encoder
    /// holds back (veryfast: ten of look-ahead, and B-frames): off at 0.93 s, on at 1.03 s just
    /// after the tone starts, still on at 2.47 s, off at 2.6 s (half a second after the tone).
    /// It used to follow the sound as far as the muxer had let it through, some frames late
    /// and differently from one run to the next.
    @Test func theRingFollowsTheSoundToTheFrame() async throws {
        let wanted = [28, 31, 74, 78]
        let frames = try await Self.voiceRoom(preset: "veryfast", wanted: wanted)
        try #require(frames.count == 4)
        #expect(frames.map { Self.ring($0, Self.seats[0]) } == [false, true, true, false], "alice's ring at \(wanted) frames")
    }

    /// A snapshot hears the sound up to its moment too: the ring is off at 0.5 s and on at
    /// 1.2 s. (Its sink held the sound back until the picture had come: it was off at both.)
    @Test func aSnapshotShowsTheRingOfItsMoment() async throws {
        let rings = try await offPool {
            let plan = try planned(try Self.voiceRoomSpec(preset: "ultrafast"))
            return try [0.5, 1.2].map { seconds in
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("ring-\(UUID().uuidString).png").path
                defer { try? FileManager.default.removeItem(atPath: path) }
                try MixRenderer(plan: plan).run(.snapshot(seconds: seconds, path: path))
                let frame = try #require(try VideoFrames.decode(path: path) { $0 == 0 }.kept.first)
                return Self.ring(frame, Self.seats[0])
            }
        }
        #expect(rings == [false, true])
    }
}
