import Foundation

/// Callbacks in the reference PK service's webhook format, for a callback URL given as
/// `tencent+https://...`: `Live.CallbackAfterCreateBattle`, `...AfterStartBattle` and
/// `...AfterEndBattle`, POSTed to the URL with `CallbackCommand` and `contenttype=json` added
/// to its query (its own parameters, `SdkAppid` say, kept), times in Unix seconds and
/// `EventTime` in milliseconds, and signed as every callback is. One of each per battle (a
/// battle shown in several mixes is reported by the first); Arena's co-host and `mix.moved`
/// callbacks have no counterpart and are not sent there. A room's `Owner_Account` is the
/// room: in Arena a room is its host's user id.
enum ReferenceWebhooks {
    static let scheme = "tencent+"

    /// Whether `url` asks for this format.
    static func wanted(by url: URL) -> Bool { url.scheme?.hasPrefix(scheme) == true }

    /// What to send for one of Arena's callbacks.
    enum Delivery: Equatable {
        case send(url: URL, body: String)
        /// The reference has no such callback (or another mix of the battle reports it).
        case nothing
        /// The battle's record is not in the store yet (it is saved as its mixes take it).
        case notYet
    }

    /// The URL and body to send for Arena's callback `body` (as `CallbackOutbox` makes it).
    static func delivery(of body: String, to url: URL, store: any ArenaStore) async throws -> Delivery {
        guard let callback = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any],
              let battleId = callback["battleId"] as? String else { return .nothing }
        let sent = callback["sentFor"] as? Double ?? callback["createdAt"] as? Double ?? Date().timeIntervalSince1970
        let data = callback["data"] as? [String: Any] ?? [:]
        if callback["event"] as? String == "battle.created" {
            let fromRoom = callback["fromRoom"] as? String ?? ""
            let toRooms = (callback["rooms"] as? [String] ?? []).filter { $0 != fromRoom }
            let fields: [(String, JSON)] = [
                ("Operator_Account", "administrator"), ("BattleId", .string(battleId)), ("FromRoomId", .string(fromRoom)),
                ("ToRoomIdList", .array(toRooms.map(JSON.string))), ("Timeout", .int(0)), ("Duration", .int(callback["durationMs"] as? Int ?? 0)),
                ("NeedResponse", .raw("false")), ("ExtensionInfo", .string(callback["extensionInfo"] as? String ?? ""))]
            return try message("Live.CallbackAfterCreateBattle", fields, at: sent, to: url)
        }
        guard let record = try await store.battle(id: battleId) else { return .notYet }
        // A battle in several mixes: reported by its first.
        if let mixId = callback["mixId"] as? String, mixId != record.mixIds.first { return .nothing }
        let fromRoom = record.fromRoom
        let toRooms = record.rooms.filter { $0 != fromRoom }
        func room(_ id: String, score: Int64? = nil) -> JSON {
            .object([("RoomId", .string(id))] + (score.map { [("Score", JSON.int(Int($0)))] } ?? []) + [("Owner_Account", .string(id))])
        }
        let times: [(String, JSON)] = [("BattleId", .string(battleId)), ("Duration", .int(record.durationMilliseconds)),
                                       ("CreateTime", .int(Int(record.createdAt)))]
        switch callback["event"] as? String {
        case "battle.started":
            return try message("Live.CallbackAfterStartBattle", times + [
                ("StartTime", .int(Int(sent))), ("FromRoomInfo", room(fromRoom)), ("ToRoomList", .array(toRooms.map { room($0) }))], at: sent, to: url)
        case "battle.ended":
            var scores = (data["scores"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.int64Value }
            scores.merge(try await store.battleTotals(battleId: battleId)) { _, stored in stored }
            return try message("Live.CallbackAfterEndBattle", times + [
                ("StartTime", .int(record.startedAt.map { Int($0) } ?? 0)), ("EndTime", .int(Int(sent))), ("OpType", .int(opType(data["reason"] as? String))),
                ("FromRoomInfo", room(fromRoom, score: scores[fromRoom] ?? 0)),
                ("ToRoomList", .array(toRooms.map { room($0, score: scores[$0] ?? 0) }))], at: sent, to: url)
        default:
            return .nothing
        }
    }

    private static func message(_ command: String, _ fields: [(String, JSON)], at time: Double, to url: URL) throws -> Delivery {
        let json = JSON.object([("CallbackCommand", .string(command))] + fields + [("EventTime", .int(Int((time * 1000).rounded())))])
        return .send(url: try target(url, command: command), body: json.text)
    }

    /// The reference's `OpType`: 0 time up (and ended early through the API), 1 every owner
    /// exited, 2 never started.
    static func opType(_ reason: String?) -> Int {
        switch reason {
        case "allMemberExit": return 1
        case "neverStarted": return 2
        default: return 0
        }
    }

    /// `url` without the format prefix, with `CallbackCommand` and `contenttype=json` in its query.
    static func target(_ url: URL, command: String) throws -> URL {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false), let scheme = parts.scheme, scheme.hasPrefix(Self.scheme) else {
            throw SettingError(message: "a reference-format callback URL must start with \(Self.scheme)http:// or \(Self.scheme)https://")
        }
        parts.scheme = String(scheme.dropFirst(Self.scheme.count))
        // The URL's own parameters keep their encoding (a signature's "%2B" stays "%2B").
        let kept = (parts.percentEncodedQueryItems ?? []).filter { !["CallbackCommand", "contenttype"].contains($0.name) }
        parts.percentEncodedQueryItems = kept + [URLQueryItem(name: "CallbackCommand", value: command), URLQueryItem(name: "contenttype", value: "json")]
        guard let target = parts.url else { throw SettingError(message: "the callback URL cannot be used") }
        return target
    }
}
