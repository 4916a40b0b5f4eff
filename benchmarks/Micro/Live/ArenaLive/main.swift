import ArenaLayout
import ArenaMixer
import Foundation
import ArenaSpec
import GStreamerKit
import GStreamerTestSupport

// Live benchmarks of `arena run`'s engine, in one process so that one clock times everything:
//
//   ArenaLive latency CLIPS [--seconds S] [--jitter-ms J]
//       One 2-host 720x1280 30 fps live mix of two RTP senders playing the demo's clips
//       (CLIPS/alice.mp4, 1280x720, and CLIPS/bob.mp4, 720x1280, from `make demo`) in real
//       time. Alice's frames are decoded, stamped with their number as 16 black/white
//       stripes down a 48-pixel column in the middle, and encoded again (x264 ultrafast,
//       zero latency); Bob's are sent as they are (x264 veryfast, B-frames), then, in a
//       second round, re-encoded like Alice's, without B-frames, as phones and WebRTC send.
//       A receiver decodes Arena's RTP output, reads the number back in Alice's cell and
//       prints how long after sending it arrived. A first round without Arena (the receiver
//       reads the sender's stream itself) gives the baseline: sender encoding, loopback and
//       receiver decoding; Arena adds the rest.
//   ArenaLive capacity CLIPS --mixes N [--seconds S]
//       N such mixes at once, fed by the same two senders (each sends to every mix), mix 0
//       to the receiver and the others to files; prints mix 0's latency and the frames every
//       other mix wrote, to tell whether N mixes keep real time.

let arguments = CommandLine.arguments.dropFirst()
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), arguments.index(after: index) < arguments.endIndex else { return fallback }
    return Int(arguments[arguments.index(after: index)]) ?? fallback
}
let mode = arguments.first ?? "latency"
let clips = arguments.dropFirst().first { !$0.hasPrefix("--") } ?? "out/clips"
let seconds = min(option("--seconds", 15), 18)  // the clips last 20 s
let jitter = option("--jitter-ms", 50)
let mixes = mode == "capacity" ? option("--mixes", 1) : 1
let warmUp = 3.0
let canvas = Size(width: 720, height: 1280)
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arena-live-bench-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }

/// Send times of stamped frames, by number.
final class Stamps: @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [Int: Double] = [:]
    private var delays: [Double] = []
    private var next = 0
    private let start = Date()

    var now: Double { Date().timeIntervalSince(start) }
    /// Records the next frame's send time; its number.
    func sendingNext() -> Int {
        lock.lock()
        defer { lock.unlock() }
        sent[next] = now
        next += 1
        return next - 1
    }
    func received(_ number: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard let at = sent.removeValue(forKey: number), at > warmUp else { return }
        delays.append(now - at)
    }
    var measured: [Double] { lock.lock(); defer { lock.unlock() }; return delays.sorted() }
}

/// An RTP sender playing `clip` in real time to every port in `ports`; with `stamps` (or
/// `reencoded`), each frame is decoded (and stamped) and encoded again, without B-frames.
func sender(clip: String, ports: [Int], stamps: Stamps?, reencoded: Bool = false) throws -> Pipeline {
    let stamped = stamps != nil || reencoded
    let clients = ports.map { "127.0.0.1:\($0)" }.joined(separator: ",")
    let video = stamped
        ? "avdec_h264 ! videoconvert ! video/x-raw,format=I420 ! identity name=stamp sync=true "
            + "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=2500 ! rtph264pay pt=96 config-interval=-1"
        : "rtph264pay pt=96 config-interval=-1"
    let pipeline = try Pipeline(launch: """
        filesrc location=\(clips)/\(clip) ! qtdemux ! h264parse ! \(video) ! multiudpsink clients=\(clients) sync=\(!stamped)
        """)
    guard let stamps, let stamp = pipeline.element(named: "stamp") else { return pipeline }
    try stamp.staticPad("src").addWritableFrameProbe { frame in FrameStamp.draw(stamps.sendingNext(), on: frame) }
    return pipeline
}

/// Reads the stamps back from Arena's RTP output, in `cell`.
func receiver(port: Int, cell: Rect, stamps: Stamps) throws -> Pipeline {
    let pipeline = try Pipeline(launch: """
        udpsrc port=\(port) buffer-size=4194304 caps="application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96" \
        ! rtph264depay ! avdec_h264 ! videoconvert ! video/x-raw,format=I420 ! fakesink name=sink sync=false
        """)
    try pipeline.element(named: "sink")!.staticPad("sink").addWritableFrameProbe { frame in
        var number = 0
        for (bit, point) in FrameStamp.points(x: cell.x, y: cell.y, width: cell.width, height: cell.height).enumerated()
            where frame.withPlanes({ planes, strides in planes[0][point.y * strides[0] + point.x] }) > 128 {
            number |= 1 << bit
        }
        stamps.received(number)
    }
    return pipeline
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

/// What one round measured.
struct Round {
    var delays: [Double]
    var cpu: Double
    var wall: Double
    var frames: [Int]

    func percentile(_ p: Double) -> Double { delays.isEmpty ? .nan : delays[min(delays.count - 1, Int(Double(delays.count) * p))] * 1000 }
}

/// Plays the clips for `seconds` into `mixes` live mixes (none: straight to the receiver);
/// `bobWithoutBFrames`: Bob's clip is re-encoded as Alice's is.
func round(mixes: Int, bobWithoutBFrames: Bool = false) throws -> Round {
    let stamps = Stamps()
    let ports = (0..<max(mixes, 1)).map { 31_000 + $0 * 10 }
    let outputPort = 32_000
    let first = try sender(clip: "alice.mp4", ports: mixes == 0 ? [outputPort] : ports, stamps: stamps)
    let second = try sender(clip: "bob.mp4", ports: ports.map { $0 + 2 }, stamps: nil, reencoded: bobWithoutBFrames)
    let cell: Rect
    if mixes == 0 {
        cell = Rect(x: 0, y: 0, width: 1280, height: 720)
    } else {
        let template = try TemplateLibrary.bundled().template(600)
        var seats = SeatMap(template: template)
        try seats.update(connected: ["a", "b"], owner: "a")
        cell = template.placements(seats, on: canvas)[0].rect
    }
    let reader = try receiver(port: outputPort, cell: cell, stamps: stamps)
    let stop = Flag()
    let group = DispatchGroup()
    for (index, port) in ports.prefix(mixes).enumerated() {
        let output = index == 0 ? #"{"type": "rtp", "videoPort": \#(outputPort), "audioPort": \#(outputPort + 2)}"#
            : #"{"type": "recording", "path": "mix-\#(index).mkv", "segmentSeconds": 3600}"#
        let spec = """
            {"template": 600, "canvas": {"width": \(canvas.width), "height": \(canvas.height), "fps": 30},
             "hosts": [{"userId": "a", "input": {"rtp": {"video": {"port": \(port)}, "latencyMs": \(jitter)}}},
                       {"userId": "b", "input": {"rtp": {"video": {"port": \(port + 2)}, "latencyMs": \(jitter)}}}],
             "output": {"video": {"bitrateKbps": 3000, "preset": "veryfast", "keyframeIntervalSeconds": 2}},
             "outputs": [\(output)]}
            """
        let file = folder.appendingPathComponent("spec-\(index).json")
        try Data(spec.utf8).write(to: file)
        let plan = try MixPlan(spec: try MixSpec.load(file: file), templates: try TemplateLibrary.bundled(), live: true)
        group.enter()
        Thread {
            do {
                try LiveRun(plans: [plan]).run(warning: { print("mix \(index): warning: \($0)") }, stopped: { stop.isSet })
            } catch {
                print("mix \(index) failed: \(error)")
            }
            group.leave()
        }.start()
    }
    try reader.play()
    try first.play()
    try second.play()
    let started = ProcessInfo.processInfo.systemUptime
    let cpuStart = clock()
    Thread.sleep(forTimeInterval: Double(seconds))
    stop.set()
    group.wait()
    let cpu = Double(clock() - cpuStart) / Double(CLOCKS_PER_SEC)
    let wall = ProcessInfo.processInfo.systemUptime - started
    for pipeline in [first, second, reader] { pipeline.stop() }
    let frames = (1..<max(mixes, 1)).map { index in
        (try? VideoFrames.decode(path: folder.appendingPathComponent("mix-\(index)-00001.mkv").path).count) ?? 0
    }
    return Round(delays: stamps.measured, cpu: cpu, wall: wall, frames: frames)
}

func describe(_ round: Round, _ label: String) {
    print(String(format: "%@: %d stamped frames read back; latency ms p50 %.1f, p95 %.1f, max %.1f; CPU %.1f s over %.1f s (%.0f%% of 2 cores)",
                 label, round.delays.count, round.percentile(0.5), round.percentile(0.95), round.percentile(1), round.cpu, round.wall,
                 100 * round.cpu / round.wall / 2))
    for (index, count) in round.frames.enumerated() {
        print(String(format: "  mix %d wrote %d frames (%.1f%% of %d)", index + 1, count, 100 * Double(count) / Double(seconds * 30), seconds * 30))
    }
}

if mode == "latency" {
    let direct = try round(mixes: 0)
    describe(direct, "without Arena (baseline)")
    for bobWithoutBFrames in [false, true] {
        let through = try round(mixes: 1, bobWithoutBFrames: bobWithoutBFrames)
        let bob = bobWithoutBFrames ? "Bob without B-frames" : "Bob with B-frames"
        describe(through, "through Arena (jitter buffer \(jitter) ms), \(bob)")
        print(String(format: "Arena adds p50 %.1f ms, p95 %.1f ms (%@)", through.percentile(0.5) - direct.percentile(0.5),
                     through.percentile(0.95) - direct.percentile(0.95), bob))
    }
} else {
    describe(try round(mixes: mixes), "\(mixes) mixes at once")
}
