import ArenaSpec
import Foundation
import Logging
import PostgresNIO

/// The reference PK service's admin calls, `POST /v4/live_engine_http_pk/{create_battle,
/// set_battle_score, get_battle_info}`, with its request fields and its answer envelope
/// (`ErrorCode`, `ErrorInfo`, `ActionStatus`, `RequestId`, `Response`), answered by Arena's own
/// battles: a platform built on the reference changes only the host it calls. Its query
/// parameters (`sdkappid`, `usersig`, ...) are accepted and ignored; Arena's token authenticates.
///
/// Every answer is HTTP 200 with the envelope, as the reference's: `ErrorCode` 0, or 100002
/// (a bad parameter, or a battle that cannot be made or scored: `ErrorInfo` says which) or
/// 100001 (the service failed; retry). As in the reference, a score update has no idempotency
/// key here: a retried call counts again (Arena's own API has the key).
struct ReferenceFacade: Sendable {
    let battles: BattleDesk
    private let logger = Logger(label: "arena")

    init(battles: BattleDesk) { self.battles = battles }

    static let invalidParameter = 100_002
    static let internalError = 100_001

    /// Answers one call by name; nil for a name the reference does not have.
    func answer(_ name: String, body: Data) async -> JSON? {
        let requestId = UUID().uuidString.lowercased()
        let work: () async throws -> JSON
        switch name {
        case "create_battle": work = { try await createBattle(body) }
        case "set_battle_score": work = { try await setBattleScore(body) }
        case "get_battle_info": work = { try await battleInfo(body) }
        default: return nil
        }
        do {
            return Self.envelope(requestId: requestId, response: try await work())
        } catch let error as APIError where error.status.code < 500 {
            return Self.envelope(requestId: requestId, code: Self.invalidParameter, info: error.message)
        } catch let error as SpecError {
            return Self.envelope(requestId: requestId, code: Self.invalidParameter, info: error.description)
        } catch {
            logger.error("\(name) (request \(requestId)): \(error is PSQLError ? PostgresStore.reason(error) : "\(error)")")
            return Self.envelope(requestId: requestId, code: Self.internalError, info: "the service failed; retry")
        }
    }

    static func envelope(requestId: String, code: Int = 0, info: String = "", response: JSON? = nil) -> JSON {
        var fields: [(String, JSON)] = [("ErrorCode", .int(code)), ("ErrorInfo", .string(info)), ("ActionStatus", code == 0 ? "OK" : "FAIL"),
                                        ("RequestId", .string(requestId))]
        if let response { fields.append(("Response", response)) }
        return .object(fields)
    }

    /// `create_battle`: a battle from `FromRoomId` to those of `ToRoomIdList` that can join.
    /// Per callee: 0 started, 1 not connected in the caller's co-host session, 3 already in
    /// another battle (then no battle is made when it is the caller's room), 5 system error.
    private func createBattle(_ body: Data) async throws -> JSON {
        var fields = try JSONFields.decode(body, source: "body")
        let from = try fields.requiredString("FromRoomId")
        guard let to = try fields.strings("ToRoomIdList"), !to.isEmpty else { throw SpecError(field: "ToRoomIdList", "list at least one room") }
        guard let duration = try fields.integer("Duration", in: 1_000...86_400_000) else { throw SpecError(field: "Duration", "is required (milliseconds)") }
        let extensionInfo = try fields.string("ExtensionInfo")
        try fields.finish()
        let busy = try await battles.roomsInOpenBattles()
        if let battle = busy[from] {
            let message = "'\(Redaction.value(from))' is already in battle '\(Redaction.value(battle))'"
            return ["BattleId": "", "Result": .array(to.map { ["RoomId": .string($0), "ResultCode": .int(3), "ResultMessage": .string(message)] })]
        }
        let free = to.filter { busy[$0] == nil }
        var request: [(String, JSON)] = [("fromRoom", .string(from)), ("toRooms", .array(free.map(JSON.string))), ("durationMs", .int(duration))]
        if let extensionInfo { request.append(("extensionInfo", .string(extensionInfo))) }
        var made: [String: Any] = [:]
        if !free.isEmpty {
            made = Self.object(try await battles.create(Data(JSON.object(request).text.utf8)).text)
        }
        let codes = Dictionary((made["results"] as? [[String: Any]] ?? []).compactMap { result in
            (result["room"] as? String).flatMap { room in (result["code"] as? Int).map { (room, $0) } }
        }) { first, _ in first }
        let results: [JSON] = to.map { room in
            let (code, message): (Int, String) = busy[room].map { (3, "already in battle '\(Redaction.value($0))'") }
                ?? codes[room].map { $0 == 0 ? (0, "") : (1, "not connected in '\(Redaction.value(from))'s co-host session") } ?? (5, "not applied")
            return ["RoomId": .string(room), "ResultCode": .int(code), "ResultMessage": .string(message)]
        }
        let battleId = (made["battle"] as? [String: Any])?["battleId"] as? String ?? ""
        return ["BattleId": .string(battleId), "Result": .array(results)]
    }

    /// `set_battle_score`: `OpType` 1 adds, 2 overwrites (a number or a string); per room 0 ok,
    /// 1 no such room in the battle.
    private func setBattleScore(_ body: Data) async throws -> JSON {
        var fields = try JSONFields.decode(body, source: "body")
        let battleId = try fields.requiredString("BattleId")
        let op: Int
        switch fields.raw("OpType") {
        case .number(1), .string("1"): op = 1
        case .number(2), .string("2"): op = 2
        default: throw SpecError(field: "OpType", "must be 1 (accumulate) or 2 (overwrite)")
        }
        guard let items = try fields.array("ScoreList"), !items.isEmpty else { throw SpecError(field: "ScoreList", "list at least one room") }
        var scores: [JSON] = []
        for (index, item) in items.enumerated() {
            var entry = try JSONFields(item, path: "ScoreList[\(index)]")
            let room = try entry.requiredString("RoomId")
            guard let score = try entry.integer("Score", in: 0...Int(Int32.max)) else { throw SpecError(field: "ScoreList[\(index)].Score", "is required") }
            try entry.finish()
            scores.append(["room": .string(room), "score": .int(score)])
        }
        try fields.finish()
        let request: JSON = ["idempotencyKey": .string("reference-" + UUID().uuidString.lowercased()), "op": .int(op), "scores": .array(scores)]
        let answer = Self.object(try await battles.updateScores(battleId: battleId, Data(request.text.utf8)).text)
        let results: [JSON] = (answer["results"] as? [[String: Any]] ?? []).map { result in
            ["RoomId": .string(result["room"] as? String ?? ""), "ResultCode": .int(result["code"] as? Int ?? 1)]
        }
        return ["Result": .array(results)]
    }

    /// `get_battle_info`: by `BattleId`, or the ongoing battle of `RoomId`. `Status` 1 waiting
    /// to start, 2 running, 3 ended; times in Unix seconds (`EndTime`: when it ends, while it runs).
    private func battleInfo(_ body: Data) async throws -> JSON {
        var fields = try JSONFields.decode(body, source: "body")
        let battleId = try fields.string("BattleId").flatMap { $0.isEmpty ? nil : $0 }
        let room = try fields.string("RoomId")
        try fields.finish()
        let answer: JSONResponse
        if let battleId {
            answer = try await battles.status(battleId: battleId)
        } else if let room {
            guard let id = try await battles.roomsInOpenBattles()[room] else { throw APIError(.notFound, "room '\(Redaction.value(room))' has no battle") }
            answer = try await battles.status(battleId: id)
        } else {
            throw SpecError(field: "BattleId", "is required (or RoomId)")
        }
        let battle = Self.object(answer.text)["battle"] as? [String: Any] ?? [:]
        let from = battle["fromRoom"] as? String ?? ""
        let duration = battle["durationMs"] as? Int ?? 0
        let start = battle["startedAt"] as? Int ?? 0
        let status = battle["status"] as? String ?? ""
        let end = battle["endedAt"] as? Int ?? (start > 0 ? start + duration / 1000 : 0)
        let scores = (battle["scores"] as? [[String: Any]] ?? []).map { ($0["room"] as? String ?? "", $0["score"] as? Int ?? 0) }
        func info(_ room: String, _ score: Int) -> JSON { ["RoomId": .string(room), "Score": .int(score), "Owner_Account": .string(room)] }
        return ["BattleId": .string(battle["battleId"] as? String ?? ""), "Duration": .int(duration), "StartTime": .int(start), "EndTime": .int(end),
                "Status": .int(status == "ended" ? 3 : status == "running" ? 2 : 1),
                "FromRoomInfo": info(from, scores.first { $0.0 == from }?.1 ?? 0),
                "ToRoomList": .array(scores.filter { $0.0 != from }.map { info($0.0, $0.1) })]
    }

    /// An answer of Arena's own API, as Foundation values.
    private static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
}
