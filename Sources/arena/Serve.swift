import ArenaServer
import ArgumentParser
import Foundation
import Synchronization

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the mixing service: live mixes, their events and the PK score API over HTTP.",
        discussion: """
            Every call but /healthz and /readyz needs 'Authorization: Bearer <token>'; the token is \
            read from the ARENA_TOKEN environment variable or --token-file. SIGINT or SIGTERM \
            stop every mix, finalising their outputs. See README: 'The service'.
            """)

    @Option(help: "A JSON file of settings: {\"listen\": \"0.0.0.0:8080\", \"maxMixes\": 4, ...}, each option by its camelCase name (README: 'Deploying').")
    var config: String?

    @Option(help: "Where the store (arena.sqlite) lives; relative paths in mix specs are taken from here (default: arena-data).")
    var data: String?

    @Option(help: """
        Keep the store in PostgreSQL instead: postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require] \
        (else ARENA_STORE_URL, the place for a password). Mixes' files stay in --data.
        """)
    var store: String?

    @Option(help: "HOST:PORT to listen on (default: 127.0.0.1:8080).")
    var listen: String?

    @Option(help: "Also serve /metrics, without the token, on this HOST:PORT (for a scraper on a private network).")
    var metricsListen: String?

    @Option(help: "A file holding the bearer token (else ARENA_TOKEN).")
    var tokenFile: String?

    @Flag(help: "Serve without authentication (for local experiments only).")
    var noAuth = false

    @Option(help: "Calls a second allowed per client address (0: no limit; default: 200).")
    var rateLimit: Int?

    @Option(help: "How many mixes may run at once (default: 8; this 2-core machine holds 4 live 2-host 720x1280 mixes).")
    var maxMixes: Int?

    @Option(help: "This instance's name in the store (default: the machine's name and the port); unique in a fleet.")
    var instance: String?

    @Option(help: "Where other instances and RTP senders reach this one (default: the --listen host, or the machine's name).")
    var advertiseHost: String?

    @Option(help: "Take no new mix while the machine's CPU is busier than this percentage (default: no such limit).")
    var cpuLimit: Int?

    @Flag(help: "Let avatar URLs reach loopback and private addresses (a posted spec cannot ask for it).")
    var allowPrivateAvatarHosts = false

    @Option(help: "POST battle and co-host callbacks to this URL (repeatable; tencent+https://... for the reference service's webhooks); signed with ARENA_CALLBACK_SECRET or --callback-secret-file.")
    var callbackUrl: [String] = []

    @Option(help: "A file holding the secret callbacks are signed with (else ARENA_CALLBACK_SECRET).")
    var callbackSecretFile: String?

    func run() throws {
        LogLines.bootstrap()
        MediaMemory.configure()
        let settings: ServeConfiguration
        do {
            settings = try ServeConfiguration(file: config, known: ["data", "store", "listen", "metricsListen", "tokenFile", "noAuth", "rateLimit", "maxMixes", "instance",
                                                                    "advertiseHost", "cpuLimit", "allowPrivateAvatarHosts", "callbackUrls",
                                                                    "callbackSecretFile"])
        } catch {
            fail("\(error)")
        }
        func setting<T>(_ value: T?, _ key: String, _ read: (String) throws -> T?) -> T? {
            do {
                return try value ?? read(key)
            } catch {
                fail("\(error)")
            }
        }
        let environment = ProcessInfo.processInfo.environment
        let data = setting(data, "data", settings.string) ?? "arena-data"
        // The environment's ARENA_STORE or ARENA_STORE_URL (the place for a password) over the file's.
        let store = self.store ?? environment["ARENA_STORE"] ?? environment["ARENA_STORE_URL"] ?? setting(nil, "store", settings.string)
        let listen = setting(listen, "listen", settings.string) ?? "127.0.0.1:8080"
        let metricsListen = setting(metricsListen, "metricsListen", settings.string)
        let noAuth = noAuth || setting(nil, "noAuth", settings.bool) == true
        let rateLimit = setting(rateLimit, "rateLimit", settings.int) ?? 200
        let maxMixes = setting(maxMixes, "maxMixes", settings.int) ?? 8
        let instance = setting(instance, "instance", settings.string)
        let advertiseHost = setting(advertiseHost, "advertiseHost", settings.string)
        let cpuLimit = setting(cpuLimit, "cpuLimit", settings.int)
        let allowPrivateAvatarHosts = allowPrivateAvatarHosts || setting(nil, "allowPrivateAvatarHosts", settings.bool) == true
        let callbackUrl = callbackUrl.isEmpty ? setting(nil, "callbackUrls", settings.strings) ?? [] : callbackUrl

        guard let (host, port) = Self.address(listen) else { fail("--listen must be HOST:PORT") }
        let metricsListener = metricsListen.map(Self.address)
        guard metricsListen == nil || metricsListener != nil else { fail("--metrics-listen must be HOST:PORT") }
        guard cpuLimit.map({ (1...100).contains($0) }) ?? true else { fail("--cpu-limit must be a percentage from 1 to 100") }
        guard maxMixes >= 1, rateLimit >= 0 else { fail("--max-mixes must be at least 1, and --rate-limit 0 or more") }
        /// A secret: from the command line's file, else the environment (its file, else its value), else the config file's file.
        func secret(file option: String?, _ name: String, variable: String, key: String) -> String? {
            let path = option ?? environment[variable + "_FILE"]
            if path == nil, let value = environment[variable] { return value }
            guard let path = path ?? setting(nil, key, settings.string) else { return nil }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("--\(name) \(path) cannot be read") }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let token = secret(file: tokenFile, "token-file", variable: "ARENA_TOKEN", key: "tokenFile")
        guard noAuth || token?.isEmpty == false else { fail("no token: set ARENA_TOKEN or --token-file (or pass --no-auth)") }
        var callbacks: CallbackSettings?
        if !callbackUrl.isEmpty {
            let urls = callbackUrl.compactMap { URL(string: $0) }.filter { ["http", "https", "tencent+http", "tencent+https"].contains($0.scheme) }
            guard urls.count == callbackUrl.count else {
                fail("--callback-url must be http:// or https:// URLs (tencent+https://... for the reference service's webhook format)")
            }
            let secret = secret(file: callbackSecretFile, "callback-secret-file", variable: "ARENA_CALLBACK_SECRET", key: "callbackSecretFile")
            guard let secret, !secret.isEmpty else {
                fail("--callback-url needs ARENA_CALLBACK_SECRET or --callback-secret-file, the secret callbacks are signed with")
            }
            callbacks = CallbackSettings(urls: urls, secret: secret)
        }
        let outcome = ServeOutcome()
        Task {
            do {
                let service = try await ArenaService(dataFolder: URL(fileURLWithPath: data), storeURL: store,
                                                     token: noAuth ? nil : token, host: host, port: port,
                                                     callbacks: callbacks, rateLimit: rateLimit > 0 ? rateLimit : nil, maxMixes: maxMixes,
                                                     allowPrivateAvatarHosts: allowPrivateAvatarHosts, instance: instance,
                                                     advertisedHost: advertiseHost, cpuLimit: cpuLimit.map { Double($0) / 100 },
                                                     metricsListener: metricsListener ?? nil)
                try await service.run(onListening: { port in print("arena: listening on \(host):\(port)"); fflush(nil) })
            } catch {
                outcome.fail("\(error)")
            }
            outcome.finish()
        }
        if let failure = outcome.wait() { fail(failure) }
    }
}

extension Serve {
    /// HOST:PORT, split (the host may hold colons, as an IPv6 address does).
    static func address(_ text: String) -> (host: String, port: Int)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65_535).contains(port) else { return nil }
        return (parts.dropLast().joined(separator: ":"), port)
    }
}

/// How `serve` ended, handed from its task to the main thread.
final class ServeOutcome: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let failure = Mutex<String?>(nil)

    func fail(_ message: String) { failure.withLock { $0 = message } }
    func finish() { done.signal() }
    func wait() -> String? {
        done.wait()
        return failure.withLock { $0 }
    }
}
