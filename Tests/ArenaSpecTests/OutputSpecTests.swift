import ArenaSpec
import Foundation
import Testing

/// Output values from a spec or the API are refused unless they are exactly what their field
/// says; none can add pipeline elements, since each is one property (see the mixer's tests).
@Suite struct OutputSpecTests {
    private let base = URL(fileURLWithPath: "/data")

    private func targets(_ json: String) throws -> [OutputTarget] {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        guard case .array(let items) = value else { throw SpecError(field: "test", "not an array") }
        return try MixSpec.outputTargets(items, audio: .aac, relativeTo: base)
    }

    private func refusal(_ json: String) -> String? {
        do {
            _ = try targets(json)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// Found by the fuzzer: 300 HLS outputs into one folder took 23 s to answer, and each
    /// deleted the others' segments.
    @Test func atMostEightOutputsAndEachDestinationOnce() {
        let hls = #"{"type":"hls","folder":"live"}"#
        #expect(refusal("[" + Array(repeating: #"{"type":"rtmp","url":"rtmp://a/app/k"}"#, count: 9).joined(separator: ",") + "]")
                == "outputs lists 9 outputs; a mix has at most 8")
        #expect(refusal("[\(hls), \(hls.replacingOccurrences(of: "live", with: "./live/"))]") == "outputs[1] goes where outputs[0] goes; list each destination once")
        #expect(refusal(#"[{"type":"recording","path":"a.mp4"}, {"type":"hls","folder":"."}, {"type":"recording","path":"/data/a.mp4"}]"#)
                == "outputs[2] goes where outputs[0] goes; list each destination once")
        #expect(refusal(#"[{"type":"recording","path":"a.mp4"}, {"type":"recording","path":"b.mp4"}, {"type":"rtp","videoPort":5000}]"#) == nil)
    }

    @Test func injectionsAreRefusedNamingTheField() throws {
        let attacks: [(String, String)] = [
            (#"[{"type":"rtmp","url":"rtmp://a/b/c\" ! filesink location=/tmp/pwned \""}]"#, "outputs[0].url"),
            (#"[{"type":"rtmp","url":"rtmp://a b/app/key"}]"#, "outputs[0].url"),
            (#"[{"type":"rtmp","url":"http://example.com/app/key"}]"#, "outputs[0].url"),
            (#"[{"type":"rtmp","url":"rtmp://example.com/sk_only_a_key"}]"#, "outputs[0].url"),
            (#"[{"type":"rtp","host":"127.0.0.1 ! udpsrc port=9 ! filesink location=/tmp/x","videoPort":5000}]"#, "outputs[0].host"),
            (#"[{"type":"rtp","host":"a..b","videoPort":5000}]"#, "outputs[0].host"),
            (#"[{"type":"rtp","videoPort":65534}]"#, "outputs[0].audioPort"),
            (#"[{"type":"srt","uri":"srt://127.0.0.1:9000\" ! filesink location=/tmp/x"}]"#, "outputs[0].uri"),
            (#"[{"type":"srt","uri":"srt://127.0.0.1:9000?mode=caller&localaddress=0.0.0.0&evil=1"}]"#, "outputs[0].uri"),
            (#"[{"type":"srt","uri":"srt://127.0.0.1:9000?mode=sideways"}]"#, "outputs[0].uri"),
            (#"[{"type":"hls","folder":"hls%n%s"}]"#, "outputs[0].folder"),
            (#"[{"type":"recording","path":"a\nb.mp4"}]"#, "outputs[0].path"),
        ]
        for (json, field) in attacks {
            let message = try #require(refusal(json), "accepted: \(json)")
            #expect(message.hasPrefix(field), "\(message)")
        }
    }

    @Test func wellFormedOutputsAreKeptAsWritten() throws {
        let made = try targets("""
            [{"type":"rtmp","url":"rtmp://live.example.com/app/sk_123"},
             {"type":"rtp","host":"::1","videoPort":5000},
             {"type":"rtp","host":"media-1.example.net","videoPort":6000,"audioPort":6002},
             {"type":"srt","uri":"srt://:9000?mode=listener&passphrase=0123456789"},
             {"type":"hls","folder":"hls/room-1"}]
            """)
        #expect(made == [
            .rtmp(url: "rtmp://live.example.com/app/sk_123"),
            .rtp(host: "::1", videoPort: 5000, audioPort: 5002),
            .rtp(host: "media-1.example.net", videoPort: 6000, audioPort: 6002),
            .srt(uri: "srt://:9000?mode=listener&passphrase=0123456789"),
            .hls(folder: "/data/hls/room-1", segmentSeconds: 2, playlistLength: 6),
        ])
    }

    @Test func labelsHideStreamKeysAndPassphrases() throws {
        let made = try targets("""
            [{"type":"rtmp","url":"rtmp://user:pw@live.example.com/app/sk_123?token=t"},
             {"type":"srt","uri":"srt://10.0.0.1:9000?mode=caller&passphrase=0123456789"}]
            """)
        let labels = made.map(\.label).joined(separator: " ")
        for secret in ["sk_123", "token", "pw", "0123456789"] { #expect(!labels.contains(secret), "\(labels)") }
        #expect(labels.contains("live.example.com") && labels.contains("10.0.0.1:9000"))
    }

    /// A URL that does not parse (or has no host) is not shown past its scheme: its
    /// credentials may be anywhere.
    @Test func aURLThatDoesNotParseShowsNoCredentials() {
        for text in ["postgres://arena:s3cr%t@db/arena", "postgres://arena:s3cr with space@db/arena", "postgres://arena:s3cr@/arena?host=/run"] {
            let shown = Redaction.url(text)
            #expect(shown.hasPrefix("postgres://") && !shown.contains("s3cr") && !shown.contains("arena:"), "\(shown)")
        }
        #expect(Redaction.url("postgres://arena:s3cr@/arena?host=/run") == "postgres://…")
        #expect(Redaction.url("/data/avatars/a.png") == "/data/avatars/a.png")
        #expect(Redaction.url("https://u:p@cdn.example/a.png?sig=1") == "https://cdn.example/a.png?…")
    }
}

/// What `JSONFields.decode` says of `json`, or nil when it takes it.
private func refusal(_ json: String) -> String? {
    do {
        _ = try JSONFields.decode(Data(json.utf8), source: "body")
        return nil
    } catch {
        return "\(error)"
    }
}

/// A key written twice is refused, naming where, instead of one of the two being kept silently.
@Suite struct DuplicateKeyTests {
    @Test func repeatedKeysAreRefusedWithTheirPath() {
        #expect(refusal(#"{"template": 600, "template": 601}"#)?.hasPrefix("template is written twice") == true)
        #expect(refusal(#"{"hosts": [{"userId": "a"}, {"userId": "b", "userId": "c"}]}"#)?.hasPrefix("hosts[1].userId is written twice") == true)
        #expect(refusal(#"{"a": {"b": 1, "\u0062": 2}}"#)?.hasPrefix("a.b is written twice") == true)
        #expect(refusal(#"{"outputs": [[], {"url": "x\"", "url": 1}]}"#)?.hasPrefix("outputs[1].url is written twice") == true)
        #expect(refusal(#"{"a": [1, "2", [3], {"k": 1, "k": 2}]}"#)?.hasPrefix("a[3].k is written twice") == true)
    }

    @Test func theSameKeyInDifferentObjectsOrAsAValueIsFine() {
        #expect(refusal(#"{"a": {"k": 1}, "b": {"k": "k"}, "k": ["k", {"k": {"k": 2}}], "s": "\"k\": 1, \"k\": 2"}"#) == nil)
    }
}

/// Bodies whose structure would cost seconds to decode are refused before decoding, and a
/// value repeated in a message cannot break the message's line or bury it.
@Suite struct HostileJSONTests {
    @Test func deepOrHugeNestingIsRefusedBeforeDecoding() {
        let nested = String(repeating: "[", count: 100) + "1" + String(repeating: "]", count: 100)
        let started = Date()
        // 2,000 copies of 100 nested arrays: 400 kB, which once took 29 s to refuse.
        #expect(refusal("[" + Array(repeating: nested, count: 2_000).joined(separator: ",") + "]") == "body nests objects and arrays more than 32 deep")
        #expect(refusal("[" + Array(repeating: "[[]]", count: 6_000).joined(separator: ",") + "]") == "body holds more than 10000 objects and arrays")
        #expect(Date().timeIntervalSince(started) < 1)
        // Brackets inside strings are text.
        #expect(refusal(#"{"a": "\#(String(repeating: "[{", count: 20_000))"}"#) == nil)
    }

    @Test func valuesInMessagesStayOnOneShortLine() {
        let refused = refusal(#"{"hosts": [], "bad\nkey": 1, "event": "x"}"#) ?? ""
        #expect(!refused.contains("\n"), "\(refused)")
        #expect(Redaction.value("line\nbreak\u{202E}") == #"line\u{A}break\u{202E}"#)
        #expect(Redaction.value(String(repeating: "x", count: 500)).count == 64)
    }
}
