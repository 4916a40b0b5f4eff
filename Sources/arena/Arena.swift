import ArenaLayout
import ArenaMixer
import ArenaServer
import ArenaSpec
import CArenaMemory
import ArgumentParser
import Foundation
import Synchronization

/// The command line: render, run, serve, snapshot and layouts.
@main
struct Arena: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Server-side compositor for co-host and PK live streams.",
        subcommands: [Render.self, Run.self, Serve.self, Snapshot.self, Layouts.self])
}

/// Prints a one-line error and exits non-zero; used for every expected failure.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("arena: error: \(message)\n".utf8))
    Foundation.exit(1)
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render a mix spec (JSON) to a video file.",
        discussion: """
            Decodes every host's input once, scales each into its cell of the layout template \
            (centre crop), composites at the spec's constant frame rate, mixes all hosts' audio, \
            and encodes H.264 (x264) with AAC or Opus into MP4 or MKV. Timeline events \
            (co-host requests, joins and leaves, camera and mic, battles and scores) take \
            effect on the frame they are scheduled for. The file appears only when complete.
            """)

    @Argument(help: "The mix spec, a JSON file (see README: 'The mix spec').")
    var spec: String

    @Option(name: .shortAndLong, help: "Output file; overrides the spec's output.path. .mkv selects Matroska.")
    var output: String?

    @Option(help: "Also write every outbound event (onCoHostUserJoined, onBattleStarted ...) to this file as JSON lines.")
    var eventsOut: String?

    @Flag(name: .shortAndLong, help: "No progress line, even on a terminal.")
    var quiet = false

    func run() throws {
        MediaMemory.configure()
        let plan: MixPlan
        do {
            let templates = try TemplateLibrary.bundled()
            let mix = try MixSpec.load(file: URL(fileURLWithPath: spec))
            plan = try MixPlan(spec: mix, templates: templates, outputOverride: output)
        } catch {
            fail("\(error)")
        }
        for text in plan.warnings { FileHandle.standardError.write(Data("arena: warning: \(text)\n".utf8)) }
        let interrupted = Interruption()
        let showProgress = !quiet && isatty(STDOUT_FILENO) != 0
        let result: RenderResult
        do {
            result = try MixRenderer(plan: plan).run(
                progress: showProgress ? { progress in
                    print(String(format: "\r%6.1f s / %.1f s  %6.1f fps  %5.2fx real time", progress.done, progress.total,
                                 progress.framesPerSecond, progress.speed), terminator: "")
                    fflush(nil)
                } : nil,
                warning: { FileHandle.standardError.write(Data("arena: warning: \($0)\n".utf8)) },
                cancelled: { interrupted.happened })
        } catch {
            if showProgress { print() }
            fail(interrupted.happened ? "interrupted; no output written" : "\(error)")
        }
        if showProgress { print() }
        if let eventsOut {
            do {
                try NoticeLog.write(plan.sessions.notices, to: eventsOut)
            } catch {
                fail("\(error)")
            }
        }
        let seconds = Double(result.frameCount) / Double(plan.canvas.framesPerSecond)
        print(String(format: "wrote %@: %dx%d, %d frames (%.2f s) at %d fps, in %.2f s (%.2fx real time); overlays %.3f ms/frame",
                     result.path, plan.canvas.size.width, plan.canvas.size.height, result.frameCount, seconds,
                     plan.canvas.framesPerSecond, result.wallSeconds, seconds / result.wallSeconds, result.overlayMilliseconds))
    }
}

extension Layouts {
    private func printCells(_ library: TemplateLibrary, _ id: Int) throws {
        let template: LayoutTemplate
        do {
            template = try library.template(id)
        } catch {
            fail("--template: \(error)")
        }
        let count = hosts ?? template.maxHosts
        guard (1...template.maxHosts).contains(count) else { fail("--hosts must be from 1 to \(template.maxHosts)") }
        var size = template.canvas
        if let canvas {
            let sides = canvas.split(separator: "x").compactMap { Int($0) }
            guard sides.count == 2, sides.allSatisfy({ $0 > 0 && $0 % 2 == 0 }) else { fail("--canvas must be like 720x1280, even sides") }
            size = Size(width: sides[0], height: sides[1])
        }
        var seats = SeatMap(template: template)
        try seats.update(connected: (0..<count).map { "host\($0)" }, owner: "host0")
        for placement in template.placements(seats, on: size) {
            print(placement.slot, placement.rect.x, placement.rect.y, placement.rect.width, placement.rect.height)
        }
    }
}

/// Turns SIGINT and SIGTERM into a flag the render polls, so it can clean up.
final class Interruption: Sendable {
    private let flag = Atomic(false)
    /// Kept alive with this object; a signal source is made to be used from any thread.
    private nonisolated(unsafe) var sources: [DispatchSourceSignal] = []

    init() {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.flag.store(true, ordering: .relaxed) }
            source.resume()
            return source
        }
    }

    var happened: Bool { flag.load(ordering: .relaxed) }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run live mixes until stopped (Ctrl-C or SIGTERM finalise the outputs).",
        discussion: """
            Mixes the hosts' live inputs (RTP, or files) on wall time: the output never waits for \
            an input. A host whose input stops shows the placeholder, leaves the session after \
            live.disconnectTimeoutMs and joins again when it sends again. The encode goes to every \
            entry of the spec's outputs (recording, hls, rtmp, rtp, srt); one failing is retried \
            without stopping the others. Timeline events apply at their time from the start.
            """)

    @Argument(help: "The mix spec, a JSON file with an outputs list (see README: 'Live mixes'). Several specs run together, as the rooms of one co-host session: an input they share is decoded once.")
    var specs: [String]

    @Option(help: "Append every outbound event to this file as JSON lines, as it happens; once per spec, in order.")
    var eventsOut: [String] = []

    @Flag(name: .shortAndLong, help: "No status line.")
    var quiet = false

    func run() throws {
        MediaMemory.configure()
        guard !specs.isEmpty else { fail("give at least one spec") }
        guard eventsOut.isEmpty || eventsOut.count == specs.count else {
            fail("--events-out is given \(eventsOut.count) times for \(specs.count) specs; give it once per spec or not at all")
        }
        let plans: [MixPlan]
        do {
            let templates = try TemplateLibrary.bundled()
            plans = try specs.map { try MixPlan(spec: try MixSpec.load(file: URL(fileURLWithPath: $0)), templates: templates, live: true) }
        } catch {
            fail("\(error)")
        }
        let warn: @Sendable (String) -> Void = { text in FileHandle.standardError.write(Data("arena: warning: \(text)\n".utf8)) }
        plans.flatMap(\.warnings).forEach(warn)
        let events = eventsOut.map { path -> FileHandle in
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                fail("--events-out \(path) cannot be written")
            }
            return handle
        }
        let interrupted = Interruption()
        let showStatus = !quiet && isatty(STDOUT_FILENO) != 0
        do {
            try LiveRun(plans: plans).run(
                notices: { index, notices in if !events.isEmpty { events[index].write(NoticeLog.lines(notices)) } },
                warning: warn,
                status: showStatus ? { status in
                    print(String(format: "\r%8.1f s  sending: %@", status.seconds, status.sending.sorted().joined(separator: ", ")),
                          terminator: "")
                    fflush(nil)
                } : nil,
                stopped: { interrupted.happened })
        } catch {
            fail("\(error)")
        }
        if showStatus { print() }
        for handle in events { try? handle.close() }
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the mixing service: live mixes, their events and the PK score API over HTTP.",
        discussion: """
            Every call but /healthz and /readyz needs 'Authorization: Bearer <token>'; the token is \
            read from the ARENA_TOKEN environment variable or --token-file. SIGINT or SIGTERM \
            stop every mix, finalising their outputs. See README: 'The service'.
            """)

    @Option(help: "Where the store (arena.sqlite) lives; relative paths in mix specs are taken from here.")
    var data = "arena-data"

    @Option(help: """
        Keep the store in PostgreSQL instead: postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require] \
        (else ARENA_STORE_URL, the place for a password). Mixes' files stay in --data.
        """)
    var store: String?

    @Option(help: "HOST:PORT to listen on.")
    var listen = "127.0.0.1:8080"

    @Option(help: "A file holding the bearer token (else ARENA_TOKEN).")
    var tokenFile: String?

    @Flag(help: "Serve without authentication (for local experiments only).")
    var noAuth = false

    @Option(help: "Calls a second allowed per client address (0: no limit).")
    var rateLimit = 200

    @Option(help: "How many mixes may run at once (this 2-core machine holds 4 live 2-host 720x1280 mixes).")
    var maxMixes = 8

    @Option(help: "This instance's name in the store (default: the machine's name and the port); unique in a fleet.")
    var instance: String?

    @Option(help: "Where other instances and RTP senders reach this one (default: the --listen host, or the machine's name).")
    var advertiseHost: String?

    @Option(help: "Take no new mix while the machine's CPU is busier than this percentage (default: no such limit).")
    var cpuLimit: Int?

    @Flag(help: "Let avatar URLs reach loopback and private addresses (a posted spec cannot ask for it).")
    var allowPrivateAvatarHosts = false

    @Option(help: "POST battle and co-host callbacks to this URL (repeatable); signed with ARENA_CALLBACK_SECRET.")
    var callbackUrl: [String] = []

    func run() throws {
        MediaMemory.configure()
        let parts = listen.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 2, let port = Int(parts.last!), (0...65_535).contains(port) else { fail("--listen must be HOST:PORT") }
        let host = parts.dropLast().joined(separator: ":")
        guard cpuLimit.map({ (1...100).contains($0) }) ?? true else { fail("--cpu-limit must be a percentage from 1 to 100") }
        var token = ProcessInfo.processInfo.environment["ARENA_TOKEN"]
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else { fail("--token-file \(tokenFile) cannot be read") }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard noAuth || token?.isEmpty == false else { fail("no token: set ARENA_TOKEN or --token-file (or pass --no-auth)") }
        var callbacks: CallbackSettings?
        if !callbackUrl.isEmpty {
            let urls = callbackUrl.compactMap { URL(string: $0) }.filter { ["http", "https"].contains($0.scheme) }
            guard urls.count == callbackUrl.count else { fail("--callback-url must be http:// or https:// URLs") }
            guard let secret = ProcessInfo.processInfo.environment["ARENA_CALLBACK_SECRET"], !secret.isEmpty else {
                fail("--callback-url needs ARENA_CALLBACK_SECRET, the secret callbacks are signed with")
            }
            callbacks = CallbackSettings(urls: urls, secret: secret)
        }
        let service: ArenaService
        do {
            service = try ArenaService(dataFolder: URL(fileURLWithPath: data), storeURL: store ?? ProcessInfo.processInfo.environment["ARENA_STORE_URL"],
                                       token: noAuth ? nil : token, host: host, port: port,
                                       callbacks: callbacks, rateLimit: rateLimit > 0 ? rateLimit : nil, maxMixes: maxMixes,
                                       allowPrivateAvatarHosts: allowPrivateAvatarHosts, instance: instance, advertisedHost: advertiseHost,
                                       cpuLimit: cpuLimit.map { Double($0) / 100 })
        } catch {
            fail("\(error)")
        }
        let outcome = ServeOutcome()
        Task {
            do {
                try await service.run(onListening: { port in print("arena: listening on \(host):\(port)"); fflush(nil) })
            } catch {
                outcome.fail("\(error)")
            }
            outcome.finish()
        }
        if let failure = outcome.wait() { fail(failure) }
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

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one composited frame of a mix spec, overlays and all, as PNG.",
        discussion: "Renders the mix up to the frame at --at seconds and writes that frame; for docs and for looking.")

    @Argument(help: "The mix spec, a JSON file.")
    var spec: String

    @Option(help: "Seconds into the mix; the first frame at or after this time is written.")
    var at: Double

    @Option(name: .shortAndLong, help: "The PNG file to write.")
    var output: String

    func run() throws {
        MediaMemory.configure()
        do {
            let mix = try MixSpec.load(file: URL(fileURLWithPath: spec))
            let plan = try MixPlan(spec: mix, templates: try TemplateLibrary.bundled(), outputOverride: output)
            guard at >= 0, at * 1e9 < Double(plan.duration) else {
                fail("--at \(at) is outside the mix (0 to \(Double(plan.duration) / 1e9) s)")
            }
            let result = try MixRenderer(plan: plan).run(.snapshot(seconds: at, path: output),
                                                         warning: { FileHandle.standardError.write(Data("arena: warning: \($0)\n".utf8)) })
            print("wrote \(result.path): the frame at \(at) s")
        } catch {
            fail("\(error)")
        }
    }
}

struct Layouts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the layout templates, or one template's cells.",
        discussion: "With --template and --hosts, prints one line per cell: slot x y width height.")

    @Option(help: "A template id: print its cells instead of the list.")
    var template: Int?

    @Option(help: "With --template: how many hosts are connected.")
    var hosts: Int?

    @Option(help: "With --template: the canvas, WIDTHxHEIGHT (default: the template's).")
    var canvas: String?

    func run() throws {
        let library: TemplateLibrary
        do {
            library = try TemplateLibrary.bundled()
        } catch {
            fail("\(error)")
        }
        if let template {
            try printCells(library, template)
            return
        }
        let rows = [["id", "hosts", "seating", "canvas", "name"]] + library.templates.values.sorted { $0.id < $1.id }.map {
            [String($0.id), String($0.maxHosts), $0.seating.rawValue, $0.canvas.description, $0.name]
        }
        let widths = (0..<4).map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            print((0..<4).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                  + "  " + row[4])
        }
    }
}
