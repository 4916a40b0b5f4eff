import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerTestSupport
import Testing

/// A player's side of "Layout in the stream": the messages read back from a render's H.264.
@Suite struct LayoutSEITests: Sendable {
    static let uuid: [UInt8] = [0x6A, 0x1F, 0x2C, 0x4E, 0x9B, 0x3D, 0x4C, 0x7A, 0x8E, 0x5F, 0x0D, 0x2B, 0x7A, 0x9C, 0x1E, 0x34]

    /// Every layout message in the video of `path`, in stream order: ffmpeg turns the MP4's
    /// H.264 into Annex B, then each SEI NAL unit is unescaped and its messages read.
    static func messages(in path: String) throws -> [[String: Any]] {
        let annexB = path + ".h264"
        let ffmpeg = Process()
        ffmpeg.executableURL = URL(fileURLWithPath: "/usr/bin/ffmpeg")
        ffmpeg.arguments = ["-nostdin", "-loglevel", "error", "-y", "-i", path, "-an", "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", annexB]
        try ffmpeg.run()
        ffmpeg.waitUntilExit()
        let stream = [UInt8](try Data(contentsOf: URL(fileURLWithPath: annexB)))
        var found: [[String: Any]] = []
        for nal in nalUnits(stream) where nal.first.map({ $0 & 0x1F }) == 6 {
            let rbsp = unescaped(nal.dropFirst())
            var index = 0
            while index < rbsp.count, rbsp[index] != 0x80 {
                var type = 0, size = 0
                while rbsp[index] == 0xFF { type += 255; index += 1 }
                type += Int(rbsp[index]); index += 1
                while rbsp[index] == 0xFF { size += 255; index += 1 }
                size += Int(rbsp[index]); index += 1
                let payload = Array(rbsp[index..<min(rbsp.count, index + size)])
                index += size
                guard type == 5, payload.count > 16, Array(payload.prefix(16)) == uuid else { continue }
                found.append(try #require(try JSONSerialization.jsonObject(with: Data(payload.dropFirst(16))) as? [String: Any]))
            }
        }
        return found
    }

    /// A NAL unit's payload without its emulation-prevention bytes (00 00 03 -> 00 00).
    static func unescaped(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var rbsp: [UInt8] = [], zeros = 0
        for byte in bytes {
            if zeros >= 2 && byte == 3 { zeros = 0; continue }
            rbsp.append(byte)
            zeros = byte == 0 ? zeros + 1 : 0
        }
        return rbsp
    }

    /// NAL units of an Annex B stream, without their start codes.
    static func nalUnits(_ stream: [UInt8]) -> [ArraySlice<UInt8>] {
        var starts: [Int] = []
        var index = 0
        while index + 2 < stream.count {
            if stream[index] == 0, stream[index + 1] == 0, stream[index + 2] == 1 {
                starts.append(index + 3)
                index += 3
            } else {
                index += 1
            }
        }
        return starts.enumerated().map { number, start in
            var end = number + 1 < starts.count ? starts[number + 1] - 3 : stream.count
            while end > start, stream[end - 1] == 0 { end -= 1 }
            return stream[start..<end]
        }
    }

    /// A message's fields, handed from the thread that read them (JSON objects are not Sendable).
    struct StreamMessage: @unchecked Sendable {
        let fields: [String: Any]
        init(_ fields: [String: Any]) { self.fields = fields }
    }

    private func battleSpec(sei: String? = nil) throws -> String {
        let alice = try TestMedia.clip(rgb: Colour.red, width: 160, height: 120, seconds: 3)
        let bob = try TestMedia.clip(rgb: Colour.green, width: 160, height: 120, seconds: 3)
        return """
            {"template": 600, "duration": 3, "hosts": \(hostsJSON([("alice", alice), ("bob", bob)])),
             "timeline": [
               {"at": 0.2, "event": "battleRequest", "battleId": "pk", "inviter": "alice", "invitees": ["bob"], "needResponse": false, "duration": 60},
               {"at": 1.0, "event": "score", "battleId": "pk", "userId": "alice", "score": 3},
               {"at": 1.0, "event": "score", "battleId": "pk", "userId": "bob", "score": 1}
             ],
             "output": {"video": {"preset": "ultrafast"\(sei.map { #", "layoutSEI": "\#($0)""# } ?? "")}}}
            """
    }

    @Test func keyframesAndChangesCarryEveryCellAndTheScores() async throws {
        let messages = try await offPool { () throws -> [StreamMessage] in try Self.messages(in: try render(try battleSpec()).path).map(StreamMessage.init) }
            .map(\.fields)
        let times = messages.compactMap { $0["timeMs"] as? Int }
        // Keyframes at 0 and 2 s; changes at the battle's start (0.2 s) and the scores (1 s).
        #expect(times.contains(0) && times.contains(2000), "messages at \(times) ms")
        #expect(times.count >= 4 && times.count < 20, "messages at \(times) ms: keyframes and changes, not every frame")
        for message in messages {
            #expect(message["canvas"] as? [Int] == [720, 1280])
            let cells = try #require(message["cells"] as? [[String: Any]])
            #expect(cells.map { $0["userId"] as? String } == ["alice", "bob"])
            #expect(cells.map { [$0["x"], $0["y"], $0["width"], $0["height"]].compactMap { $0 as? Int } } == [[0, 276, 360, 644], [360, 276, 360, 644]])
        }
        let scored = try #require(messages.first { ($0["timeMs"] as? Int ?? 0) >= 1000 })
        let battle = try #require(scored["battle"] as? [String: Any])
        #expect(battle["scores"] as? [String: Int] == ["alice": 3, "bob": 1])
        #expect(battle["participants"] as? [String] == ["alice", "bob"])
        let remaining = try #require(battle["remainingMs"] as? Int)
        #expect(abs(remaining - (60_000 - ((scored["timeMs"] as? Int ?? 0) - 200))) <= 34, "\(remaining) ms left")
        #expect(messages.first.map { $0["battle"] == nil } == true, "no battle before 0.2 s")
    }

    @Test func everyFrameOrNone() async throws {
        let counts = try await offPool {
            try ["everyFrame", "off"].map { try Self.messages(in: try render(try battleSpec(sei: $0)).path).count }
        }
        #expect(counts == [90, 0])
    }
}

/// The SEI writer on its own: emulation prevention and where the message goes.
@Suite struct LayoutSEIWriterTests {
    @Test func zerosInThePayloadAreEscapedAndTheMessageSizeIsCoded() {
        let payload: [UInt8] = LayoutSEITests.uuid + [0, 0, 0, 0, 0, 1, 0, 0, 3, 0, 0, 4] + Array(repeating: 0x41, count: 300)
        let nal = LayoutSEI.nalUnit(payload: payload)
        #expect(Array(nal.prefix(7)) == [0, 0, 0, 1, 0x06, 5, 0xFF])   // start code, SEI, type 5, size 255 + ...
        let body = Array(nal.dropFirst(4))
        for index in 2..<body.count where body[index - 2] == 0 && body[index - 1] == 0 {
            #expect(body[index] >= 3, "no start code (00 00 00, 00 00 01, 00 00 02) at \(index)")
        }
        // Unescaped, it is the message again: type, size (255 + 73), payload, trailing bits.
        let messages = LayoutSEITests.nalUnits(nal).first.map { LayoutSEITests.unescaped($0.dropFirst()) }
        #expect(messages == [5, 255, UInt8(payload.count - 255)] + payload + [0x80])
    }

    @Test func theMessageGoesBeforeTheFirstSlice() {
        let accessUnit: [UInt8] = [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x41, 9]
        #expect(accessUnit.withUnsafeBytes { LayoutSEI.firstSliceOffset(in: $0) } == 18)
        #expect([UInt8]([0, 0, 1, 0x41, 1]).withUnsafeBytes { LayoutSEI.firstSliceOffset(in: $0) } == 0)
        #expect([UInt8]([0, 0, 0, 1, 0x67, 1]).withUnsafeBytes { LayoutSEI.firstSliceOffset(in: $0) } == nil)
    }
}
