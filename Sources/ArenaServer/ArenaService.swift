import ArenaLayout
import ArenaMixer
import ArenaSession
import ArenaSpec
import Foundation
import HTTPTypes
import Hummingbird
import Crypto
import Logging
import ServiceLifecycle
import NIOCore

/// `arena serve`: live mixes as HTTP resources, their co-host and battle events, and the PK
/// score API, with the durable facts in a store in the data folder.
public final class ArenaService: Sendable {
    private let mixes: MixRegistry
    private let battles: BattleDesk
    private let reference: ReferenceFacade
    private let callbacks: CallbackOutbox
    private let store: any ArenaStore
    private let token: String?
    private let rateLimit: Int?
    private let host: String
    private let port: Int
    private let connections: ConnectionLimits
    private let fleet: FleetMember
    private let descriptions: MixDescriptions
    private let metricsListener: (host: String, port: Int)?
    private let recorder: BattleRecorder

    /// `token`: the bearer token every call but `/healthz` and `/readyz` must carry (nil: none).
    /// `callbacks`: where battle and co-host callbacks go (nil: nowhere). `rateLimit`: calls a
    /// second per client address (nil: no limit). `maxMixes`: how many mixes may run at once.
    /// `allowPrivateAvatarHosts`: the operator lets avatar URLs reach loopback and private
    /// addresses (a posted spec cannot). `storeURL`: a PostgreSQL store (`postgres://...`)
    /// instead of `arena.sqlite` in the data folder (which still holds the mixes' files).
    /// `instance`: this instance's name in the store (default: the machine's name and the
    /// port); `advertisedHost`: where other instances and senders reach it (default: `host`,
    /// or the machine's name when `host` is a wildcard). `cpuLimit`: past this share of the
    /// machine's CPU busy, the instance takes no new mix (nil: no such limit). `metricsListener`:
    /// also serve `/metrics`, without the token, on this address (for a scraper on a private network).
    /// Returns once the store is open (a PostgreSQL one: connected and migrated) and the
    /// instance has its name in it.
    public init(dataFolder: URL, storeURL: String? = nil, token: String?, host: String = "127.0.0.1", port: Int = 8080,
                callbacks settings: CallbackSettings? = nil, rateLimit: Int? = 200, maxMixes: Int = 8, allowPrivateAvatarHosts: Bool = false,
                connections: ConnectionLimits = ConnectionLimits(), instance: String? = nil, advertisedHost: String? = nil,
                cpuLimit: Double? = nil, metricsListener: (host: String, port: Int)? = nil) async throws {
        self.metricsListener = metricsListener
        self.connections = connections
        self.rateLimit = rateLimit
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
        let store: any ArenaStore
        if let storeURL {
            store = try await PostgresStore(url: storeURL)
        } else {
            // Opening and migrating the file: blocking work, off Swift's cooperative threads.
            store = try await offload { try SQLiteStore(folder: dataFolder) }
        }
        self.store = store
        let logger = Logger(label: "arena")
        func isName(_ text: String) -> Bool {
            (1...64).contains(text.count) && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.:".unicodeScalars.contains($0)) }
        }
        // By default the machine's short name (at most 40 characters) and the port.
        let machine = String(ProcessInfo.processInfo.hostName.prefix { $0 != "." }.prefix(40)).filter { isName(String($0)) }
        let name = instance ?? "\(machine.isEmpty ? "arena" : machine):\(port == 0 ? String(UUID().uuidString.prefix(8)) : String(port))"
        guard isName(name) else { throw SettingError(message: "the instance name must be 1 to 64 letters, digits, '-', '_', '.' or ':'") }
        let advertised = advertisedHost ?? (["0.0.0.0", "::", ""].contains(host) ? ProcessInfo.processInfo.hostName : host)
        let callbacks = CallbackOutbox(instance: name, settings: settings, store: store) { logger.warning("\($0)") }
        self.callbacks = callbacks
        let load = MachineLoad()
        let recorder = BattleRecorder(store: store) { logger.error("\($0)") }
        self.recorder = recorder
        mixes = MixRegistry(instance: name, templates: try TemplateLibrary.bundled(), dataFolder: dataFolder, store: store, limit: maxMixes,
                            load: load, cpuLimit: cpuLimit, allowPrivateAvatarHosts: allowPrivateAvatarHosts) { mixId, notices in
            callbacks.record(notices, mixId: mixId)
            recorder.add(notices, mixId: mixId)
        }
        battles = BattleDesk(mixes: mixes, store: store, callbacks: callbacks, recorder: recorder)
        reference = ReferenceFacade(battles: battles)
        descriptions = MixDescriptions(mixes: mixes, store: store, advertisedHost: advertised)
        fleet = FleetMember(name: name, advertisedHost: advertised, store: store, mixes: mixes, battles: battles, callbacks: callbacks, load: load)
        do {
            try await fleet.join()
        } catch {
            (store as? PostgresStore)?.close()
            throw error
        }
        self.token = token
        self.host = host
        self.port = port
    }

    /// Serves until SIGINT or SIGTERM, then stops every mix (finalising their outputs).
    /// `onListening` gets the bound port (useful with port 0).
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let logger = Logger(label: "arena")
        // The instance's own mixes from before a restart run again before the API answers.
        await withTaskExecutorPreference(ServiceExecutor.shared) { await fleet.start(port: port) }
        let maximum = connections.effectiveMaximum
        logger.info("accepting at most \(maximum) connections at once; idle ones close after \(connections.idleTimeout)")
        let limits = connections
        let app = Application(router: router(),
                              server: .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlines(limits: limits)],
                                                                  idleTimeout: limits.idleTimeout)),
                              configuration: .init(address: .hostname(host, port: port), serverName: "arena",
                                                   availableConnectionsDelegate: .maximum(maximum, logger: logger)),
                              onServerRunning: { [fleet] channel in
                                  fleet.listening(on: channel.localAddress?.port ?? 0)
                                  onListening(channel.localAddress?.port ?? 0)
                              })
        // /metrics without the token, on a listener of its own (--metrics-listen).
        let metricsApp = metricsListener.map { listener in
            let router = Router()
            router.add(middleware: OnServiceExecutor())
            router.get("metrics") { _, _ in try await self.metricsResponse() }
            // The same deadlines as the API's listener, and few connections: a scraper needs one.
            return Application(router: router,
                               server: .http1(configuration: .init(additionalChannelHandlers: [RequestDeadlines(limits: limits)],
                                                                   idleTimeout: limits.idleTimeout)),
                               configuration: .init(address: .hostname(listener.host, port: listener.port), serverName: "arena-metrics",
                                                    availableConnectionsDelegate: .maximum(16, logger: logger)))
        }
        // Shut down in reverse order: the HTTP servers stop taking requests, then the mixes are
        // finalised and the leases given back, then the callbacks still in memory are stored.
        let services: [any Service] = [CallbackService(callbacks: callbacks), MixesService(mixes: mixes, fleet: fleet, recorder: recorder), app]
            + (metricsApp.map { [$0] } ?? [])
        var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger)
        // Past this the services are cancelled; the mixes still finish stopping (MixesService).
        configuration.maximumGracefulShutdownDuration = .seconds(40)
        let group = ServiceGroup(configuration: configuration)
        // Stopped by a signal, or by its task's cancellation (which throws): either way the
        // mixes' outputs are finalised and other instances may claim the mixes at once.
        var ending: (any Error)?
        do {
            try await withTaskExecutorPreference(ServiceExecutor.shared) { try await group.run() }
        } catch {
            ending = error
        }
        (store as? PostgresStore)?.close()
        if let ending { throw ending }
    }

    private func router() -> Router<ArenaRequestContext> {
        let router = Router(context: ArenaRequestContext.self)
        _ = ServiceMetrics.registry  // the metrics backend, before the middleware makes its first metric
        router.add(middleware: OnServiceExecutor())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: RequestLog())  // each request at debug level (LOG_LEVEL=debug)
        router.add(middleware: ServiceFailures())
        // Probes are never rate-limited: a busy client must not make the service look dead.
        router.get("healthz") { _, _ in JSONResponse(["status": "ok"]) }
        router.get("readyz") { _, _ in self.readiness() }
        let limited = router.group()
        if let rateLimit { limited.add(middleware: RateLimit(perSecond: rateLimit)) }
        let document = TemplateLibrary.assetFolders().lazy.compactMap { try? Data(contentsOf: $0.appendingPathComponent("openapi.yaml")) }.first
        limited.get("openapi.yaml") { _, _ -> Response in
            guard let document else { throw APIError(.notFound, "openapi.yaml is not installed") }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(bytes: document)))
        }
        let authenticated = limited.group().add(middleware: BearerToken(token: token))
        authenticated.get("metrics") { _, _ in try await self.metricsResponse() }
        let api = authenticated.group("v1")

        api.post("mixes") { request, context in
            let body = try await Self.body(of: request)
            let id = request.uri.queryParameters.get("id") ?? UUID().uuidString.lowercased()
            guard Self.isIdentifier(id) else { throw APIError(.badRequest, "id '\(Redaction.value(id))' must be 1 to 64 letters, digits, '-' or '_'") }
            let entry = try await self.mixes.create(id: id, spec: body)
            return JSONResponse(["mix": try await self.descriptions.describe(id, entry)], status: .created)
        }
        api.get("mixes") { _, _ in JSONResponse(["mixes": .array(try await self.descriptions.describeAll())]) }
        api.get("mixes/:id") { _, context in
            let id = try context.parameters.require("id")
            return JSONResponse(["mix": try await self.descriptions.describe(id, self.mixes.local(id))])
        }
        api.patch("mixes/:id") { request, context in
            let id = try context.parameters.require("id")
            let body = try await Self.body(of: request)
            let entry = try await self.mixes.update(id, body: body)
            return JSONResponse(["mix": try await self.descriptions.describe(id, entry)], status: entry == nil ? .accepted : .ok)
        }
        api.delete("mixes/:id") { _, context in
            let id = try context.parameters.require("id")
            let before = try await self.descriptions.describe(id, self.mixes.local(id))
            guard let entry = try await self.mixes.remove(id) else { return JSONResponse(["mix": before]) }
            return JSONResponse(["mix": await self.descriptions.describe(entry)])
        }
        api.post("mixes/:id/events") { request, context in
            let id = try context.parameters.require("id")
            if self.mixes.local(id) == nil, try await self.store.mix(id: id) == nil {
                throw APIError(.notFound, "no mix '\(id)'")
            }
            let body = try await Self.body(of: request)
            let event: SessionEvent
            do {
                event = try MixSpec.event(json: body, source: "body")
            } catch {
                throw APIError(.badRequest, "\(error)")
            }
            // A score for a battle the store has counts in its totals, through any instance.
            if case .score(let battleId, let room, let value, let op) = event,
               let notices = try await self.battles.scoreEvent(battleId: battleId, room: room, value: value, op: op, body: body) {
                return JSONResponse(["events": Self.encode(notices)])
            }
            guard let notices = try await self.mixes.post(event, body: body, to: id) else {
                // Recorded for the instance that runs the mix: it applies it within a quarter second.
                return JSONResponse(["events": [], "mix": try await self.descriptions.describe(id, nil)], status: .accepted)
            }
            // A battle the event started or ended is in the store before the answer.
            await self.recorder.caughtUp([id])
            return JSONResponse(["events": Self.encode(notices)])
        }
        api.get("mixes/:id/events/stream") { _, context -> Response in
            let events = try await self.runningHere(try context.parameters.require("id")).events()
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
                // Ends when the mix ends, or when the service shuts down (the server waits for open
                // responses before the mixes stop, so a stream left open would hold the shutdown).
                let (lines, continuation) = AsyncStream<String>.makeStream()
                let forwarding = Task(executorPreference: ServiceExecutor.shared) {
                    for await notice in events {
                        let data = Self.encode([notice]).text.dropFirst().dropLast()  // the one element of the array
                        continuation.yield("event: \(notice.event)\ndata: \(data)\n\n")
                    }
                    continuation.finish()
                }
                defer { forwarding.cancel() }
                try await withGracefulShutdownHandler {
                    for await line in lines { try await writer.write(ByteBuffer(string: line)) }
                } onGracefulShutdown: {
                    continuation.finish()
                }
                try await writer.finish(nil)
            })
        }
        api.get("mixes/:id/events") { _, context in
            JSONResponse(["events": Self.encode(try await self.runningHere(try context.parameters.require("id")).notices)])
        }

        api.post("battles") { request, _ in
            let body = try await Self.body(of: request)
            return try await self.battles.create(body)
        }
        api.get("battles/:id") { _, context in
            let id = try context.parameters.require("id")
            return try await self.battles.status(battleId: id)
        }
        api.post("battles/:id/scores") { request, context in
            let id = try context.parameters.require("id")
            let body = try await Self.body(of: request)
            return try await self.battles.updateScores(battleId: id, body)
        }
        api.post("battles/:id/end") { _, context in
            let id = try context.parameters.require("id")
            return try await self.battles.end(battleId: id)
        }
        // The reference PK service's admin calls, in its own format (see ReferenceFacade).
        authenticated.post("v4/live_engine_http_pk/:name") { request, context in
            let name = try context.parameters.require("name")
            let body = try await Self.body(of: request)
            guard let answer = await self.reference.answer(name, body: body) else {
                throw APIError(.notFound, "the reference service has no call '\(Redaction.value(name))'")
            }
            return JSONResponse(answer)
        }
        api.get("rooms/:room/battle") { _, context in
            let room = try context.parameters.require("room")
            return try await self.battles.status(room: room)
        }
        return router
    }

    /// The mix if it runs here; a mix another instance runs is a 409 naming that instance and
    /// where its API is.
    private func runningHere(_ id: String) async throws -> MixEntry {
        if let entry = mixes.local(id) { return entry }
        let (record, live) = (try await store.mix(id: id), try await store.liveInstances())
        guard let record else { throw APIError(.notFound, "no mix '\(id)'") }
        guard let owner = live.first(where: { $0.id == record.owner }) else { throw APIError(.conflict, "mix '\(id)' runs on no instance yet") }
        throw APIError(.conflict, "mix '\(id)' runs on instance '\(owner.id)' (\(owner.apiURL)): ask it for its events")
    }

    /// `/readyz`: 200 while this instance holds its leases and has room for another mix; 503
    /// when it is full, its CPU past its limit, or its store out of reach.
    private func readiness() -> JSONResponse {
        let (ready, reason) = fleet.readiness
        let body: JSON = ["status": .string(ready ? "ready" : reason), "instance": .string(fleet.name), "mixes": .int(mixes.held.count),
                          "capacity": .int(mixes.limit), "cpuBusy": .double((mixes.cpuBusy * 100).rounded() / 100)]
        return JSONResponse(body, status: ready ? .ok : .serviceUnavailable)
    }

    /// `GET /metrics`: Prometheus text, what swift-metrics recorded and the service's own figures.
    private func metricsResponse() async throws -> Response {
        let text = ServiceMetrics.text + (await ServiceMetrics.serviceText(mixes: mixes, battles: battles, store: store))
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
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
