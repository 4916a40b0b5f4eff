import ArenaLayout
import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Testing

/// Plans `json`; returns the error's message, or nil if it planned.
private func planError(_ json: String) throws -> String? {
    let folder = try TestMedia.workspace()
    do {
        _ = try MixPlan(spec: try MixSpec.parse(Data(json.utf8), source: "spec.json", baseDirectory: folder),
                        templates: try TemplateLibrary.bundled(), outputOverride: folder.appendingPathComponent("out.mp4").path)
        return nil
    } catch let error as MixError {
        return error.description
    } catch let error as SpecError {
        return error.description
    }
}

@Suite struct BadInputTests {
    static let good = try! TestMedia.clip(rgb: Colour.red).path

    @Test(arguments: [
        (#"{"hosts": [{"userId": "a", "input": "/nowhere/a.mp4"}]}"#, "hosts[0].input (/nowhere/a.mp4): file not found"),
        (#"{"template": 777, "hosts": [{"userId": "a", "input": "GOOD"}]}"#, "template is 777: unknown layout template 777; known templates: 2, 400, 600, 601, 602, 603, 800, 801"),
        (#"{"template": 400, "hosts": [{"userId": "a", "input": "GOOD"}, {"userId": "b", "input": "GOOD"}, {"userId": "c", "input": "GOOD"}]}"#,
         "hosts lists 3 hosts, but template 400 seats at most 2"),
        (#"{"canvas": {"width": 721, "height": 1280}, "hosts": [{"userId": "a", "input": "GOOD"}]}"#, "canvas.width is 721; it must be even"),
        (#"{"canvas": {"width": 0, "height": 1280}, "hosts": [{"userId": "a", "input": "GOOD"}]}"#, "canvas.width is 0; it must be from 2 to 7680"),
        (#"{"canvas": {"width": 720}, "hosts": [{"userId": "a", "input": "GOOD"}]}"#, "canvas.height is required when the other side is given"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "output": {"container": "avi"}}"#, #"output.container is "avi"; it must be one of "mp4", "mkv""#),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "output": {"video": {"preset": "fastest"}}}"#, #"output.video.preset is "fastest""#),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "output": {"video": {"bitrate": 3000}}}"#, "output.video.bitrate is not a known field"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "duration": "long"}"#, "duration must be a number, not a string"),
        (#"{"hosts": []}"#, "hosts is required"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}, {"userId": "a", "input": "GOOD"}]}"#, #"hosts[1].userId "a" is already used by hosts[0]"#),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "timeline": [{"at": 1, "event": "hostLeft", "userId": "b"}]}"#,
         "timeline[0]: unknown user 'b'"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "timeline": [{"at": 1, "event": "hostJumped", "userId": "a"}]}"#,
         #"timeline[0].event is "hostJumped""#),
        (#"{"duration": 1, "hosts": [{"userId": "a", "input": "GOOD"}], "timeline": [{"at": 1, "event": "cameraOff", "userId": "a"}]}"#,
         "timeline[0].at is 1.0 s, not before the mix's end (1.0 s)"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}, {"userId": "b", "input": "GOOD"}], "timeline": [{"at": 0.5, "event": "battleRequest", "battleId": "x", "inviter": "a"}]}"#,
         "timeline[0].invitees is required"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}, {"userId": "b", "input": "GOOD"}, {"userId": "c", "input": "GOOD"}], "timeline": [{"at": 0.5, "event": "battleRequest", "battleId": "x", "inviter": "a", "invitees": ["b"], "needResponse": false}, {"at": 0.6, "event": "score", "battleId": "x", "userId": "c", "score": 3}]}"#,
         "timeline[1]: 'c' is not in battle 'x'"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "timeline": [{"at": 0.5, "event": "score", "battleId": "x", "userId": "a"}]}"#,
         "timeline[0].score is required"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "timeline": [{"at": 0.5, "event": "coHostAccept", "invitee": "a"}]}"#,
         "timeline[0]: no co-host request to 'a' is pending"),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}], "canvas": {"background": "black"}}"#, #"canvas.background is "black"; it must be a colour"#),
        // UInt32's parser would take a sign: "#+12345" is not a colour.
        (##"{"hosts": [{"userId": "a", "input": "GOOD"}], "canvas": {"background": "#+12345"}}"##, ##"canvas.background is "#+12345"; it must be a colour"##),
        (##"{"hosts": [{"userId": "a", "input": "GOOD"}], "overlays": {"leftColour": "#-0000000"}}"##, ##"overlays.leftColour is "#-0000000"; it must be"##),
        (#"{"hosts": [{"userId": "a", "input": "GOOD"}],"#, "spec.json is not valid JSON"),
        // RTCP takes the RTP port + 1 unless rtcpPort says: no stream may use another's.
        (#"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": 5000}, "audio": {"port": 5001}}}}]}"#,
         "hosts[0].input.rtp.audio.port is 5001, a port of the video's too"),
        (#"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": 5000, "rtcpPort": 5002}, "audio": {"port": 5002}}}}]}"#,
         "hosts[0].input.rtp.audio.port is 5002, a port of the video's too"),
        (#"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": 5000, "rtcpPort": 5000}}}}]}"#,
         "hosts[0].input.rtp.video.rtcpPort is 5000, the RTP port"),
        (#"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": 65535}}}}]}"#,
         "hosts[0].input.rtp.video.rtcpPort is required when port is 65535"),
        (#"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": 5000, "rtxPayloadType": 96}}}}]}"#,
         "hosts[0].input.rtp.video.rtxPayloadType is 96, the media's payload type too"),
        (#"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": 5000}, "allowedSenders": ["10.0.0.1", "sfu.example.com"]}}}]}"#,
         "hosts[0].input.rtp.allowedSenders[1] is 'sfu.example.com', not an IPv4 address"),
        (#"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": 5000}, "allowedSenders": ["::1"]}}}]}"#,
         "hosts[0].input.rtp.allowedSenders[0] is '::1', not an IPv4 address"),
        // srtsrc reads a lowercase scheme only, and the last of a repeated option.
        (#"{"hosts": [{"userId": "a", "input": {"srt": {"uri": "SRT://:7000?mode=listener"}}}]}"#,
         "hosts[0].input.srt.uri must be a URI starting with srt://"),
        (#"{"hosts": [{"userId": "a", "input": {"srt": {"uri": "srt://10.0.0.1:80?mode=listener&mode=caller"}}}]}"#,
         "hosts[0].input.srt.uri gives option 'mode' more than once"),
        (#"{"hosts": [{"userId": "a", "input": {"srt": {"uri": "srt://:7000?mode=listener"}}}]}"#,
         "hosts[0].input is a live SRT input; live inputs are mixed by `arena run`"),
        (#"{"hosts": [{"userId": "a", "input": {"rtmp": {"url": "rtmp://cdn.example/live"}}}]}"#,
         "hosts[0].input.rtmp.url needs an application and a stream key"),
        (#"{"hosts": [{"userId": "a", "input": {"rtmp": {"url": "rtmp://cdn.example/live/alice"}}}]}"#,
         "hosts[0].input is a live RTMP input; live inputs are mixed by `arena run`"),
        (#"{"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": 7000}}}}], "outputs": [{"type": "srt", "uri": "srt://:7001?mode=listener"}]}"#,
         "outputs[0].uri listens on port 7001, where hosts[0]'s input listens; each needs a port of its own"),
    ])
    func isRefusedWithAMessageNamingTheField(json: String, expected: String) throws {
        let message = try planError(json.replacingOccurrences(of: "GOOD", with: Self.good))
        #expect(message?.contains(expected) == true, "got: \(message ?? "no error")")
    }

    /// A host's RTP on another host's RTCP port (its RTP port + 1) is refused when the live mix starts.
    @Test func anInputOnAnotherInputsRTCPPortIsRefused() throws {
        let folder = try TestMedia.workspace()
        let port = TestPorts.take(1)[0]
        let mix = try RunningLiveMix(spec: """
            {"hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": \(port)}}}}, {"userId": "b", "input": {"rtp": {"video": {"port": \(port + 1)}}}}],
             "outputs": [{"type": "recording", "path": "x.mkv", "segmentSeconds": 600}]}
            """, in: folder)
        let failure = Result { try mix.stop() }
        #expect(throws: (any Error).self) { try failure.get() }
        if case .failure(let error) = failure {
            #expect("\(error)".contains("hosts[1].input uses port \(port + 1), which hosts[0].input uses for a different input"), "\(error)")
        }
    }

    @Test func anUndecodableInputIsRefused() throws {
        let folder = try TestMedia.workspace()
        let fake = folder.appendingPathComponent("notes.mp4")
        try Data("these are not video frames".utf8).write(to: fake)
        let message = try planError(#"{"hosts": [{"userId": "a", "input": "\#(fake.path)"}]}"#)
        #expect(message?.hasPrefix("hosts[0].input (file://\(fake.path)): cannot be decoded") == true, "got: \(message ?? "no error")")
    }

    @Test func anAudioOnlyInputIsRefused() throws {
        let folder = try TestMedia.workspace()
        let audio = folder.appendingPathComponent("voice.ogg")
        try Pipeline(launch: "audiotestsrc num-buffers=20 ! audioconvert ! opusenc ! oggmux ! filesink location=\(audio.path)")
            .runToEnd(timeLimit: 30)
        let message = try planError(#"{"hosts": [{"userId": "a", "input": "\#(audio.path)"}]}"#)
        #expect(message?.hasSuffix("has no video stream") == true, "got: \(message ?? "no error")")
    }

    @Test func aMissingOutputFolderIsRefused() throws {
        let json = #"{"hosts": [{"userId": "a", "input": "\#(Self.good)"}]}"#
        let spec = try MixSpec.parse(Data(json.utf8), source: "spec.json", baseDirectory: try TestMedia.workspace())
        #expect(throws: MixError.self) {
            try MixPlan(spec: spec, templates: try TemplateLibrary.bundled(), outputOverride: "/nowhere/at/all/out.mp4")
        }
    }

    @Test func anInputCutOffMidwayFallsBackToThePlaceholderAndTheMixGoesOn() throws {
        let folder = try TestMedia.workspace()
        let whole = folder.appendingPathComponent("whole.mp4")
        try Pipeline(launch: """
            videotestsrc pattern=solid-color foreground-color=0xFF\(String(format: "%06X", Colour.green)) num-buffers=60 \
            ! video/x-raw,width=640,height=480,framerate=30/1 ! x264enc speed-preset=ultrafast key-int-max=10 \
            ! mp4mux faststart=true ! filesink location=\(whole.path)
            """).runToEnd(timeLimit: 30)
        let bytes = try Data(contentsOf: whole)
        let cut = folder.appendingPathComponent("cut.mp4")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        let (_, path) = try render("""
            {"duration": 2, "hosts": [{"userId": "a", "input": "\(Self.good)"}, {"userId": "b", "input": "\(cut.path)"}],
             "output": {"video": {"preset": "ultrafast"}}}
            """)
        let (count, frames) = try VideoFrames.decode(path: path) { $0 == 5 || $0 == 55 }
        #expect(count == 60)
        expectColour(frames[0], x: 540, y: 598, Colour.green)
        expectPlaceholder(frames[1], x: 540, y: 598)
        expectColour(frames[1], x: 180, y: 598, Colour.red)
    }
}
