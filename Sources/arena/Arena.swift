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
        version: ArenaBuild.version,
        subcommands: [Render.self, Run.self, Serve.self, Snapshot.self, Layouts.self])
}

/// Prints a one-line error and exits non-zero; used for every expected failure.
func fail(_ message: String, status: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("arena: error: \(message)\n".utf8))
    Foundation.exit(status)
}

/// How a render reports progress: a line redrawn on a terminal, JSON lines for job runners, or nothing.
enum ProgressStyle: String, ExpressibleByArgument, CaseIterable {
    case auto, json, none
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

    @Option(help: "auto: a line on a terminal; json: one JSON line a second on standard output ({\"frames\", \"seconds\", \"total\", \"speed\"}); none.")
    var progress: ProgressStyle = .auto

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
        let showProgress = !quiet && progress == .auto && isatty(STDOUT_FILENO) != 0
        var report: (@Sendable (RenderProgress) -> Void)?
        if showProgress {
            report = { done in
                print(String(format: "\r%6.1f s / %.1f s  %6.1f fps  %5.2fx real time", done.done, done.total, done.framesPerSecond, done.speed),
                      terminator: "")
                fflush(nil)
            }
        } else if progress == .json {
            report = ProgressReporter(framesPerSecond: plan.canvas.framesPerSecond).report
        }
        let result: RenderResult
        do {
            result = try MixRenderer(plan: plan).run(
                progress: report,
                warning: { FileHandle.standardError.write(Data("arena: warning: \($0)\n".utf8)) },
                cancelled: { interrupted.happened })
        } catch {
            if showProgress { print() }
            // 128 + SIGINT, as a shell reports a program Ctrl-C stopped.
            if interrupted.happened { fail("interrupted; no output written", status: 130) }
            fail("\(error)")
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
        print(String(format: "wrote %@: %dx%d, %d frames (%.2f s) at %d fps, in %.2f s (%.2fx real time); cells %.3f ms/frame; overlays %.3f ms/frame",
                     result.path, plan.canvas.size.width, plan.canvas.size.height, result.frameCount, seconds,
                     plan.canvas.framesPerSecond, result.wallSeconds, seconds / result.wallSeconds, result.cellMilliseconds,
                     result.overlayMilliseconds))
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

/// `render --progress json`: at most one line a second, `{"frames", "seconds", "total", "speed"}`.
final class ProgressReporter: Sendable {
    private let framesPerSecond: Int
    private let last = Mutex<Date?>(nil)

    init(framesPerSecond: Int) { self.framesPerSecond = framesPerSecond }

    func report(_ progress: RenderProgress) {
        let due = last.withLock { last in
            guard last.map({ Date().timeIntervalSince($0) >= 1 }) ?? true else { return false }
            last = Date()
            return true
        }
        guard due else { return }
        print(String(format: #"{"frames":%d,"seconds":%.3f,"total":%.3f,"speed":%.3f}"#,
                     Int((progress.done * Double(framesPerSecond)).rounded()), progress.done, progress.total, progress.speed))
        fflush(nil)
    }
}

/// Set by the SIGINT/SIGTERM handler; a lock-free atomic, so storing to it is safe in a handler.
private let interruptionFlag = Atomic(false)

/// Turns SIGINT and SIGTERM into a flag the render polls, so it can clean up.
///
/// A plain `sigaction` handler, and the signals unblocked: a process inherits its parent's
/// signal mask (a test runner's worker thread blocks them), so a signal sent early waits,
/// pending, and is taken here. The dispatch signal source used before set the disposition to
/// "ignore", which discards a pending signal: a render interrupted during its start-up in a
/// loaded test run went on to its end.
final class Interruption: Sendable {
    init() {
        _ = interruptionFlag.load(ordering: .relaxed)  // initialised before any handler can touch it
        var signals = sigset_t()
        sigemptyset(&signals)
        for number in [SIGINT, SIGTERM] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { _ in interruptionFlag.store(true, ordering: .relaxed) }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
            sigaddset(&signals, number)
        }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    var happened: Bool { interruptionFlag.load(ordering: .relaxed) }
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

    @Option(help: "Draw the overlays with this bundled skin (assets/skins/NAME.json) instead of the spec's.")
    var skin: String?

    func run() throws {
        MediaMemory.configure()
        do {
            var mix = try MixSpec.load(file: URL(fileURLWithPath: spec))
            if let skin { mix.overlays.skin = .bundled(try SkinParser.bundledName(skin, field: "--skin")) }
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

    @Option(help: "Write a diagram of each template's cells (TEMPLATE.svg, one panel per host count) into this folder.")
    var diagrams: String?

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
        if let diagrams {
            for template in library.templates.values.sorted(by: { $0.id < $1.id }) {
                let path = URL(fileURLWithPath: diagrams).appendingPathComponent("\(template.id).svg")
                do {
                    try Data(try LayoutDiagram.svg(template).utf8).write(to: path)
                } catch {
                    fail("--diagrams: \(path.path) cannot be written: \(error)")
                }
                print("wrote \(path.path)")
            }
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
