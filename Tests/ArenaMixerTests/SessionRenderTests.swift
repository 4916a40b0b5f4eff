import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

@Suite struct SessionRenderTests {
    @Test func coHostAndBattleTimelineDrivesTheCellsAndTheEvents() throws {
        let alice = try TestMedia.clip(rgb: Colour.red, seconds: 6)
        let bob = try TestMedia.clip(rgb: Colour.green, seconds: 6)
        let carol = try TestMedia.clip(rgb: Colour.blue, seconds: 6)
        let (plan, path) = try render("""
            {"template": 600, "duration": 6, "hosts": \(hostsJSON([("alice", alice), ("bob", bob), ("carol", carol)])),
             "timeline": [
               {"at": 0.5, "event": "coHostRequest", "inviter": "alice", "invitee": "bob"},
               {"at": 1.0, "event": "coHostAccept", "invitee": "bob"},
               {"at": 1.0, "event": "hostJoined", "userId": "bob"},
               {"at": 1.5, "event": "coHostRequest", "inviter": "alice", "invitee": "carol", "extensionInfo": "pk?"},
               {"at": 2.0, "event": "coHostAccept", "invitee": "carol"},
               {"at": 2.0, "event": "hostJoined", "userId": "carol"},
               {"at": 2.5, "event": "battleRequest", "battleId": "pk-1", "inviter": "alice", "invitees": ["bob", "carol"],
                "duration": 10, "needResponse": false},
               {"at": 3.0, "event": "score", "battleId": "pk-1", "userId": "bob", "score": 5},
               {"at": 3.5, "event": "score", "battleId": "pk-1", "userId": "carol", "score": 8, "op": "set"},
               {"at": 4.0, "event": "hostLeft", "userId": "bob"},
               {"at": 5.0, "event": "battleEnd", "battleId": "pk-1"}
             ],
             "output": {"video": {"preset": "ultrafast"}}}
            """)
        let (count, frames) = try VideoFrames.decode(path: path) { [24, 45, 90, 135].contains($0) }
        #expect(count == 180)
        let frame = Dictionary(uniqueKeysWithValues: frames.map { ($0.index, $0) })
        expectColour(frame[24]!, x: 360, y: 640, Colour.red)      // alice alone: the whole canvas
        expectColour(frame[45]!, x: 180, y: 598, Colour.red)      // bob joined: side by side
        expectColour(frame[45]!, x: 540, y: 598, Colour.green)
        expectColour(frame[90]!, x: 240, y: 516, Colour.red)      // carol joined: one big, two small
        expectColour(frame[90]!, x: 600, y: 396, Colour.green)
        expectColour(frame[90]!, x: 600, y: 636, Colour.blue)
        expectColour(frame[135]!, x: 180, y: 598, Colour.red)     // bob left: carol moves up beside alice
        expectColour(frame[135]!, x: 540, y: 598, Colour.blue)

        let log = try TestMedia.workspace().appendingPathComponent("events.jsonl")
        try NoticeLog.write(plan.sessions.notices, to: log.path)
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let summary = lines.map { "\($0["at"]!) \($0["event"]!) \($0["userId"] ?? $0["invitee"] ?? $0["reason"] ?? "")" }
        #expect(summary == [
            "0.5 onCoHostRequestReceived bob",
            "1 onCoHostRequestAccepted bob",
            "1 onCoHostUserJoined bob",
            "1.5 onCoHostRequestReceived carol",
            "2 onCoHostRequestAccepted carol",
            "2 onCoHostUserJoined carol",
            "2.5 onBattleRequestReceived bob",
            "2.5 onBattleRequestReceived carol",
            "2.5 onBattleStarted ",
            "3 onBattleScoreChanged ",
            "3.5 onBattleScoreChanged ",
            "4 onCoHostUserLeft bob",
            "4 onUserExitBattle bob",
            "5 onBattleEnded endedEarly",
        ])
        #expect(lines[3]["extensionInfo"] as? String == "pk?")
        #expect(lines[8]["invitees"] as? [String] == ["bob", "carol"])
        #expect(lines[8]["endTime"] as? Double == 12.5)
        #expect(lines[13]["scores"] as? [String: Int] == ["alice": 0, "bob": 5, "carol": 8])
    }

    @Test func aHostWithTheMicOffIsNotHeard() throws {
        // alice's tone, muted from 1 s: the mix's audio past 1 s must be silent.
        let alice = try TestMedia.clip(rgb: Colour.red, seconds: 2)
        let (_, path) = try render("""
            {"duration": 2, "hosts": \(hostsJSON([("alice", alice)])),
             "timeline": [{"at": 1, "event": "micOff", "userId": "alice"}], "output": {"video": {"preset": "ultrafast"}}}
            """, output: "out.mkv")
        let levels = try AudioLevels.peaks(path: path, window: 0.25)
        #expect(levels.count >= 7)
        #expect(levels[1] > 0.05, "alice's tone is heard before the mic goes off: \(levels)")
        #expect(levels[5] < 0.001, "and not after: \(levels)")
    }

    @Test func aHostsVolumeScalesThemInTheMix() throws {
        // The same tone at volume 1 and at 0.25: the peak drops to a quarter (within rounding).
        let alice = try TestMedia.clip(rgb: Colour.red, seconds: 1)
        func peak(volume: Double) throws -> Float {
            let (_, path) = try render("""
                {"duration": 1, "hosts": [{"userId": "alice", "input": "\(alice.path)", "volume": \(volume)}],
                 "output": {"video": {"preset": "ultrafast"}}}
                """, output: "out.mkv")
            return try AudioLevels.peaks(path: path, window: 0.25)[1...2].max()!
        }
        let full = try peak(volume: 1), quarter = try peak(volume: 0.25)
        #expect(full > 0.05)
        #expect(abs(quarter / full - 0.25) < 0.03, "volume 0.25 gave \(quarter / full) of the full level")
    }
}
