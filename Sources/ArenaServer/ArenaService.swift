import ArenaLayout
import ArenaMixer
import ArenaSession
import ArenaSpec
import Foundation
import HTTPTypes
import Hummingbird
import Crypto
import Logging
import NIOCore

/// `arena serve`: live mixes as HTTP resources, their co-host and battle events, and the PK
/// score API, with the durable facts in a store in the data folder.
public final class ArenaService: Sendable {
    private let mixes: MixRegistry
    private let battles: BattleDesk
    private let callbacks: CallbackOutbox
    private let store: any ArenaStore
    private let token: String?
    private let rateLimit: Int?
    private let host: String
    private let port: Int
    private let connections: ConnectionLimits

    /// `token`: the bearer token every call but `/healthz` and `/readyz` must carry (nil: none).
    /// `callbacks`: where battle and co-host callbacks go (nil: nowhere). `rateLimit`: calls a
    /// second per client address (nil: no limit). `maxMixes`: how many mixes may run at once.
    /// `allowPrivateAvatarHosts`: the operator lets avatar URLs reach loopback and private
    /// addresses (a posted spec cannot). `storeURL`: a PostgreSQL store (`postgres://...`)
    /// instead of `arena.sqlite` in the data folder (which still holds the mixes' files).
    /// Blocks until the store is open (a PostgreSQL one: connected and migrated): call it from
    /// a thread of your own, not from one of Swift's cooperative threads.
    public init(dataFolder: URL, storeURL: String? = nil, token: String?, host: String = "127.0.0.1", port: Int = 8080,
                callbacks settings: CallbackSettings? = nil, rateLimit: Int? = 200, maxMixes: Int = 8, allowPrivateAvatarHosts: Bool = false,
                connections: ConnectionLimits = ConnectionLimits()) throws {
        self.connections = connections
        self.rateLimit = rateLimit
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
        let store: any ArenaStore = try storeURL.map { try PostgresStore(url: $0) } ?? SQLiteStore(folder: dataFolder)
        self.store = store
        let logger = Logger(label: "arena")
        let callbacks = CallbackOutbox(settings: settings, store: store) { logger.warning("\($0)") }
        self.callbacks = callbacks
        mixes = MixRegistry(templates: try TemplateLibrary.bundled(), dataFolder: dataFolder, store: store, limit: maxMixes,
                            allowPrivateAvatarHosts: allowPrivateAvatarHosts) { mixId, notices in
            callbacks.record(notices, mixId: mixId)
            do {
                try BattleDesk.record(notices, mixId: mixId, in: store)
            } catch {
                logger.error("battle records of mix '\(mixId)': \(error)")
            }
        }
        battles = BattleDesk(mixes: mixes, store: store, callbacks: callbacks)
        self.token = token
        self.host = host
        self.port = port
    }

    /// Serves until SIGINT or SIGTERM, then stops every mix (finalising their outputs).
    /// `onListening` gets the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let logger = Logger(label: "arena")
        callbacks.start()
        try await offload {
            try self.mixes.restore { logger.warning("\($0)") }
            try self.battles.resume { logger.warning("\($0)") }
            try self.mixes.replayScoreEvents { logger.warning("\($0)") }
        }
        let maximum = connections.effectiveMaximum
        logger.info("accepting at most \(maximum) connections at once; idle ones close after \(connections.idleTimeout)")
        let limits = connections
        let app = Application(router: router(),
                              server: .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlines(limits: limits)],
                                                                  idleTimeout: limits.idleTimeout)),
                              configuration: .init(address: .hostname(host, port: port), serverName: "arena",
                                                   availableConnectionsDelegate: .maximum(maximum, logger: logger)),
                              onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) })
        try await app.runService()
        await mixes.stopAll()
        await offload { self.callbacks.stop() }
        (store as? PostgresStore)?.close()
    }

    private func router() -> Router<ArenaRequestContext> {
        let router = Router(context: ArenaRequestContext.self)
        router.add(middleware: LogRequestsMiddleware(.debug))  // each request at debug level (LOG_LEVEL=debug)
        router.add(middleware: ServiceFailures(logger: Logger(label: "arena")))
        // Probes are never rate-limited: a busy client must not make the service look dead.
        router.get("healthz") { _, _ in JSONResponse(["status": "ok"]) }
        router.get("readyz") { _, _ in JSONResponse(["status": "ready"]) }
        let limited = router.group()
        if let rateLimit { limited.add(middleware: RateLimit(perSecond: rateLimit)) }
        let document = TemplateLibrary.assetFolders().lazy.compactMap { try? Data(contentsOf: $0.appendingPathComponent("openapi.yaml")) }.first
        limited.get("openapi.yaml") { _, _ -> Response in
            guard let document else { throw APIError(.notFound, "openapi.yaml is not installed") }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        let authenticated = limited.group().add(middleware: BearerToken(token: token))
        authenticated.get("metrics") { _, _ in
            let text = try await offload { self.metrics() }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let api = authenticated.group("v1")

        api.post("mixes") { request, context in
            let body = try await Self.body(of: request)
            let id = request.uri.queryParameters.get("id") ?? UUID().uuidString.lowercased()
            guard Self.isIdentifier(id) else { throw APIError(.badRequest, "id '\(Redaction.value(id))' must be 1 to 64 letters, digits, '-' or '_'") }
            let entry = try await offload { try self.mixes.create(id: id, spec: body) }
            return JSONResponse(["mix": Self.describe(entry)], status: .created)
        }
        api.get("mixes") { _, _ in JSONResponse(["mixes": .array(self.mixes.all.map(Self.describe))]) }
        api.get("mixes/:id") { _, context in
            JSONResponse(["mix": Self.describe(try self.mixes.entry(try context.parameters.require("id")))])
        }
        api.patch("mixes/:id") { request, context in
            let id = try context.parameters.require("id")
            let body = try await Self.body(of: request)
            let entry = try await offload { try self.mixes.update(id, body: body) }
            return JSONResponse(["mix": Self.describe(entry)])
        }
        api.delete("mixes/:id") { _, context in
            let id = try context.parameters.require("id")
            let entry = try self.mixes.entry(id)
            try await self.mixes.remove(id)
            return JSONResponse(["mix": Self.describe(entry)])
        }
        api.post("mixes/:id/events") { request, context in
            let entry = try self.mixes.entry(try context.parameters.require("id"))
            let body = try await Self.body(of: request)
            let event: SessionEvent
            do {
                event = try MixSpec.event(json: body, source: "body")
            } catch {
                throw APIError(.badRequest, "\(error)")
            }
            let notices = try await offload { try self.mixes.post(event, body: body, to: entry.id) }
            return JSONResponse(["events": Self.encode(notices)])
        }
        api.get("mixes/:id/events/stream") { _, context -> Response in
            let events = try self.mixes.entry(try context.parameters.require("id")).events()
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
                for await notice in events {
                    let data = Self.encode([notice]).text.dropFirst().dropLast()  // the one element of the array
                    try await writer.write(ByteBuffer(string: "event: \(notice.event)\ndata: \(data)\n\n"))
                }
                try await writer.finish(nil)
            })
        }
        api.get("mixes/:id/events") { _, context in
            JSONResponse(["events": Self.encode(try self.mixes.entry(try context.parameters.require("id")).notices)])
        }

        api.post("battles") { request, _ in
            let body = try await Self.body(of: request)
            return try await offload { try self.battles.create(body) }
        }
        api.get("battles/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await offload { try self.battles.status(battleId: id) }
        }
        api.post("battles/:id/scores") { request, context in
            let id = try context.parameters.require("id")
            let body = try await Self.body(of: request)
            return try await offload { try self.battles.updateScores(battleId: id, body) }
        }
        api.post("battles/:id/end") { _, context in
            let id = try context.parameters.require("id")
            return try await offload { try self.battles.end(battleId: id) }
        }
        api.get("rooms/:room/battle") { _, context in
            let room = try context.parameters.require("room")
            return try await offload { try self.battles.status(room: room) }
        }
        return router
    }

    /// Prometheus text: mixes, their frames and inputs, score updates, the callback backlog.
    private func metrics() -> String {
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"] + samples.map { "\(name)\($0.labels) \($0.value)" }
        }
        let entries = mixes.all
        let states = Dictionary(grouping: entries, by: \.status).mapValues(\.count)
        family("arena_mixes", "gauge", "Mixes by state.", ["running", "stopping", "ended", "failed"].map { ("{state=\"\($0)\"}", String(states[$0] ?? 0)) })
        let running = entries.compactMap { entry in entry.mix.map { (entry, $0.status) } }
        family("arena_mix_output_seconds", "gauge", "Seconds of output a mix has made.",
               running.map { ("{mix=\"\($0.0.id)\"}", String(format: "%.3f", $0.1.seconds)) })
        family("arena_mix_frames_per_second", "gauge", "A mix's output frame rate.",
               running.map { ("{mix=\"\($0.0.id)\"}", String($0.0.plan.canvas.framesPerSecond)) })
        family("arena_mix_frames_encoded_total", "counter", "Video frames a mix has encoded.",
               running.map { ("{mix=\"\($0.0.id)\"}", String($0.1.encodedFrames)) })
        family("arena_mix_frames_missing_total", "counter", "Frames the output clock called for that were not encoded (dropped or late).",
               running.map { entry, status in
                   ("{mix=\"\(entry.id)\"}", String(max(0, Int(status.seconds * Double(entry.plan.canvas.framesPerSecond)) - status.encodedFrames)))
               })
        family("arena_input_sending", "gauge", "1 while a host's input is sending frames.", running.flatMap { entry, status in
            status.hosts.map { ("{mix=\"\(entry.id)\",host=\"\(Self.labelValue($0))\"}", status.sending.contains($0) ? "1" : "0") }
        })
        let counts = battles.scoreUpdateCounts
        family("arena_score_updates_total", "counter", "Score updates applied, and retries answered from the ledger.",
               [("{result=\"applied\"}", String(counts.applied)), ("{result=\"replayed\"}", String(counts.replayed))])
        family("arena_callback_backlog", "gauge", "Callbacks not yet delivered.", [("", String((try? store.callbackBacklog()) ?? -1))])
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Prometheus label value: backslash, double quote and newline escaped, as the text
    /// format asks, so that a user id cannot end its label or add a line.
    static func labelValue(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Bodies are at most 1 MB.
    private static func body(of request: Request) async throws -> Data {
        do {
            return Data(buffer: try await request.body.collect(upTo: 1 << 20))
        } catch {
            throw APIError(.contentTooLarge, "the body is larger than 1 MB")
        }
    }

    /// 1 to 64 letters, digits, `-` or `_`: ids of mixes and battles.
    static func isIdentifier(_ text: String) -> Bool {
        (1...64).contains(text.count) && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }
    }

    private static func describe(_ entry: MixEntry) -> JSON {
        var fields: [(String, JSON)] = [("id", .string(entry.id)), ("state", .string(entry.status))]
        if let session = entry.mix?.session {
            fields.append(("owner", .string(session.owner)))
            fields.append(("connected", .array(session.connected.map(JSON.string))))
            if let battle = session.battle { fields.append(("battleId", .string(battle.id))) }
        }
        if let outputs = entry.mix?.outputs { fields.append(("outputs", .array(outputs.map { .string($0.label) }))) }
        if let error = entry.error { fields.append(("error", .string(error))) }
        fields.append(("warnings", .array(entry.warnings.map(JSON.string))))
        return .object(fields)
    }

    private static func encode(_ notices: [Notice]) -> JSON {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return .array(notices.compactMap { notice in (try? encoder.encode(notice)).map { .raw(String(decoding: $0, as: UTF8.self)) } })
    }
}

/// Refuses calls without `Authorization: Bearer <token>` (401).
struct BearerToken<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Compared as SHA-256 digests, whose equality takes the same time wherever they differ.
        if let token, SHA256.hash(data: Data((request.headers[.authorization] ?? "").utf8)) != SHA256.hash(data: Data("Bearer \(token)".utf8)) {
            throw APIError(.unauthorized, "a valid 'Authorization: Bearer <token>' header is required")
        }
        return try await next(request, context)
    }
}
