import ArenaServer
import ArenaTestSupport
import Crypto
import Foundation
import Testing

/// The reference PK service's admin calls and webhooks, sent the reference's own example bodies
/// (its documentation's, with its query parameters): every field of the answers and of the three
/// webhooks of one battle.
@Suite struct ReferenceFacadeTests {
    static let query = "?sdkappid=88888888&identifier=admin&usersig=xxx&random=99999999&contenttype=json"

    @Test func theReferencesCallsAndWebhooksWorkAsItsOwn() async throws {
        let hooks = try await CallbackReceiver()
        var target = URLComponents(url: hooks.url, resolvingAgainstBaseURL: false)!
        target.scheme = "tencent+http"
        target.query = "SdkAppid=88888888"
        let service = try await RunningService(callbacks: CallbackSettings(urls: [target.url!], secret: "s3cret"))
        let ports = ServerTestPorts.pair()
        let spec = """
            {"canvas": {"width": 360, "height": 640}, "output": {"video": {"preset": "ultrafast"}}, "live": {"disconnectTimeoutMs": 600000},
             "hosts": [\(["pk-1", "pk-2", "pk-3"].enumerated().map { #"{"userId": "\#($1)", "input": {"rtp": {"video": {"port": \#(ports.0 + $0 * 100)}}}}"# }.joined(separator: ", "))],
             "outputs": [{"type": "recording", "path": "mix.mkv", "segmentSeconds": 600}]}
            """
        #expect(try await service.call("POST", "/v1/mixes?id=room", spec).status == 201)
        for _ in 0..<200 where !(try await service.call("GET", "/v1/mixes/room").text.contains(#""connected":["pk-1","pk-2","pk-3"]"#)) {
            try await Task.sleep(for: .milliseconds(100))
        }

        // create_battle, the reference's example.
        let before = Int(Date().timeIntervalSince1970)
        let created = try await call(service, "create_battle", """
            {"FromRoomId":"pk-1", "ToRoomIdList":["pk-2","pk-3"], "Duration":60000, "ExtensionInfo":"extension pk"}
            """)
        let after = Int(Date().timeIntervalSince1970.rounded(.up))
        let battleId = try #require((created["Response"] as? [String: Any])?["BattleId"] as? String)
        #expect(!battleId.isEmpty)
        #expect(Self.text(created["Response"]) == Self.text(["BattleId": battleId, "Result": [
            ["RoomId": "pk-2", "ResultCode": 0, "ResultMessage": ""], ["RoomId": "pk-3", "ResultCode": 0, "ResultMessage": ""]]]))
        // A room already in a battle: 3, and no battle.
        let again = try await call(service, "create_battle", #"{"FromRoomId":"pk-2", "ToRoomIdList":["pk-3"], "Duration":60000}"#)
        #expect(Self.text(again["Response"]) == Self.text(["BattleId": "", "Result": [
            ["RoomId": "pk-3", "ResultCode": 3, "ResultMessage": "'pk-2' is already in battle '\(battleId)'"]]]))

        // set_battle_score, the reference's example (rooms this battle does not have: 1 each), then ours.
        let example = try await call(service, "set_battle_score", """
            {"BattleId":"\(battleId)","OpType":1,"ScoreList":[{"RoomId":"pk-live1","Score":100},{"RoomId":"pk-live2","Score":100}]}
            """)
        #expect(Self.text(example["Response"]) == Self.text(["Result": [["RoomId": "pk-live1", "ResultCode": 1], ["RoomId": "pk-live2", "ResultCode": 1]]]))
        let scored = try await call(service, "set_battle_score", """
            {"BattleId":"\(battleId)","OpType":1,"ScoreList":[{"RoomId":"pk-1","Score":100},{"RoomId":"pk-2","Score":100}]}
            """)
        #expect(Self.text(scored["Response"]) == Self.text(["Result": [["RoomId": "pk-1", "ResultCode": 0], ["RoomId": "pk-2", "ResultCode": 0]]]))
        _ = try await call(service, "set_battle_score", #"{"BattleId":"\#(battleId)","OpType":"2","ScoreList":[{"RoomId":"pk-3","Score":50}]}"#)
        let refused = try await call(service, "set_battle_score", #"{"BattleId":"\#(battleId)","OpType":7,"ScoreList":[{"RoomId":"pk-3","Score":1}]}"#, ok: false)
        #expect(refused["ErrorCode"] as? Int == 100002 && (refused["ErrorInfo"] as? String)?.contains("OpType") == true, "\(refused)")
        #expect(refused["Response"] == nil)

        // get_battle_info, by battle and by room.
        let info = try await call(service, "get_battle_info", #"{"BattleId": "\#(battleId)"}"#)
        let response = try #require(info["Response"] as? [String: Any])
        let start = try #require(response["StartTime"] as? Int)
        #expect((before...after).contains(start), "started at \(start), created between \(before) and \(after)")
        #expect(Self.text(response) == Self.text(["BattleId": battleId, "Duration": 60000, "StartTime": start, "EndTime": start + 60, "Status": 2,
                                                  "FromRoomInfo": ["RoomId": "pk-1", "Score": 100, "Owner_Account": "pk-1"],
                                                  "ToRoomList": [["RoomId": "pk-2", "Score": 100, "Owner_Account": "pk-2"],
                                                                 ["RoomId": "pk-3", "Score": 50, "Owner_Account": "pk-3"]]]))
        let byRoom = try await call(service, "get_battle_info", #"{"RoomId": "pk-3"}"#)
        #expect((byRoom["Response"] as? [String: Any])?["BattleId"] as? String == battleId)
        #expect(try await service.call("POST", "/v4/live_engine_http_pk/get_battle_info", #"{"BattleId": "x"}"#, token: nil).status == 401)
        #expect(try await service.call("POST", "/v4/live_engine_http_pk/delete_everything", "{}").status == 404)

        // Ended: status 3 with its end time; then the three webhooks, once each.
        #expect(try await service.call("POST", "/v1/battles/\(battleId)/end").status == 200)
        let ended = try #require(try await call(service, "get_battle_info", #"{"BattleId": "\#(battleId)"}"#)["Response"] as? [String: Any])
        let end = try #require(ended["EndTime"] as? Int)
        #expect(ended["Status"] as? Int == 3 && end >= start && end <= Int(Date().timeIntervalSince1970.rounded(.up)), "\(ended)")
        var webhooks: [String: [String: Any]] = [:]
        for _ in 0..<100 where webhooks.count < 3 {
            try await Task.sleep(for: .milliseconds(100))
            webhooks = Dictionary(hooks.deliveries.compactMap { delivery -> (String, [String: Any])? in
                guard let body = (try? JSONSerialization.jsonObject(with: Data(delivery.body.utf8))) as? [String: Any],
                      let command = body["CallbackCommand"] as? String,
                      delivery.query == "SdkAppid=88888888&CallbackCommand=\(command)&contenttype=json" else { return nil }
                return (command, body)
            }) { first, _ in first }
        }
        #expect(hooks.deliveries.count == 3, "\(hooks.deliveries.map(\.body))")
        let createdHook = try #require(webhooks["Live.CallbackAfterCreateBattle"])
        let eventTime = try #require(createdHook["EventTime"] as? Int)
        #expect((before * 1000...after * 1000).contains(eventTime), "\(eventTime)")
        #expect(Self.text(createdHook) == Self.text([
            "CallbackCommand": "Live.CallbackAfterCreateBattle", "Operator_Account": "administrator", "BattleId": battleId, "FromRoomId": "pk-1",
            "ToRoomIdList": ["pk-2", "pk-3"], "Timeout": 0, "Duration": 60000, "NeedResponse": false, "ExtensionInfo": "extension pk",
            "EventTime": eventTime]))
        let startedHook = try #require(webhooks["Live.CallbackAfterStartBattle"])
        #expect(Self.text(startedHook) == Self.text([
            "CallbackCommand": "Live.CallbackAfterStartBattle", "BattleId": battleId, "Duration": 60000, "CreateTime": startedHook["CreateTime"] ?? 0,
            "StartTime": start, "FromRoomInfo": ["RoomId": "pk-1", "Owner_Account": "pk-1"],
            "ToRoomList": [["RoomId": "pk-2", "Owner_Account": "pk-2"], ["RoomId": "pk-3", "Owner_Account": "pk-3"]],
            "EventTime": startedHook["EventTime"] ?? 0]))
        #expect((before...after).contains(startedHook["CreateTime"] as? Int ?? 0) && (before...after).contains((startedHook["EventTime"] as? Int ?? 0) / 1000))
        let endedHook = try #require(webhooks["Live.CallbackAfterEndBattle"])
        #expect(Self.text(endedHook) == Self.text([
            "CallbackCommand": "Live.CallbackAfterEndBattle", "BattleId": battleId, "Duration": 60000, "CreateTime": startedHook["CreateTime"] ?? 0,
            "StartTime": start, "EndTime": end, "OpType": 0,
            "FromRoomInfo": ["RoomId": "pk-1", "Score": 100, "Owner_Account": "pk-1"],
            "ToRoomList": [["RoomId": "pk-2", "Score": 100, "Owner_Account": "pk-2"], ["RoomId": "pk-3", "Score": 50, "Owner_Account": "pk-3"]],
            "EventTime": endedHook["EventTime"] ?? 0]))
        #expect(abs((endedHook["EventTime"] as? Int ?? 0) / 1000 - end) <= 1)
        // Still signed as Arena's own callbacks are.
        for delivery in hooks.deliveries {
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(delivery.timestamp).\(delivery.body)".utf8), using: SymmetricKey(data: Data("s3cret".utf8)))
            #expect(delivery.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
        }
        await service.stop()
        await hooks.stop()
    }

    /// Posts to the facade with the reference's query parameters; HTTP 200 and the envelope, always.
    private func call(_ service: RunningService, _ name: String, _ body: String, ok: Bool = true) async throws -> [String: Any] {
        let reply = try await service.call("POST", "/v4/live_engine_http_pk/\(name)\(Self.query)", body)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.body["RequestId"] as? String != nil && (reply.body["RequestId"] as? String)?.isEmpty == false)
        if ok {
            #expect(reply.body["ErrorCode"] as? Int == 0 && reply.body["ErrorInfo"] as? String == "" && reply.body["ActionStatus"] as? String == "OK",
                    "\(name): \(reply.text)")
        } else {
            #expect(reply.body["ActionStatus"] as? String == "FAIL", "\(name): \(reply.text)")
        }
        return reply.body
    }

    /// Canonical JSON text (sorted keys), to compare whole objects.
    static func text(_ value: Any?) -> String {
        guard let value, let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) else { return "-" }
        return String(decoding: data, as: UTF8.self)
    }
}
