import ArenaLayout
import ArenaMixer
import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Synchronization

/// A host's RTP sender: `gst-launch-1.0` on loopback, as a separate process the test can kill.
final class RTPSender {
    private let process = Process()

    /// Sends H.264 (or VP8) video of `pattern` to `videoPort`, and Opus to `audioPort` if given.
    /// Keyframes every second, so a restarted sender is picked up quickly.
    init(videoPort: Int, audioPort: Int? = nil, vp8: Bool = false, pattern: String) throws {
        let encode = vp8 ? "vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay pt=96"
            : "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! rtph264pay pt=96 config-interval=-1"
        var description = "videotestsrc is-live=true \(pattern) ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! \(encode) "
            + "! udpsink host=127.0.0.1 port=\(videoPort)"
        if let audioPort {
            description += " audiotestsrc is-live=true ! opusenc ! rtpopuspay pt=111 ! udpsink host=127.0.0.1 port=\(audioPort)"
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/gst-launch-1.0")
        process.arguments = ["-q"] + description.split(separator: " ").map(String.init)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Freezes the sender for `seconds` (SIGSTOP, then SIGCONT): it sends nothing meanwhile
    /// and then goes on with the same stream, as a sender that stalls does.
    func pause(for seconds: Double) {
        Foundation.kill(process.processIdentifier, SIGSTOP)
        Thread.sleep(forTimeInterval: seconds)
        Foundation.kill(process.processIdentifier, SIGCONT)
    }

    /// Kills the sender at once, as a crashed phone or a lost network would stop.
    func kill() {
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}

/// UDP ports for one test, distinct per process and per call, so tests can run side by side.
enum TestPorts {
    private static let next = Mutex(20_000 + Int(ProcessInfo.processInfo.processIdentifier % 2_000) * 20)

    static func take(_ count: Int) -> [Int] {
        next.withLock { next in
            let ports = (0..<count).map { next + 2 * $0 }
            next += 2 * count
            if next > 60_000 { next = 20_000 }
            return ports
        }
    }
}

/// Calls `body` with 127.0.0.1:`port` as a socket address and its length.
func withLoopbackAddress<T>(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// Sends raw datagrams to a local port: garbage and stray RTP for the bad-input tests.
enum UDPNoise {
    static func send(_ packets: [[UInt8]], to port: Int) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(socket) }
        for packet in packets {
            _ = withLoopbackAddress(port: port) { address, length in
                packet.withUnsafeBytes { sendto(socket, $0.baseAddress, $0.count, 0, address, length) }
            }
        }
    }

    /// An RTP packet of payload type `payloadType` with `size` bytes of junk payload.
    static func rtp(payloadType: UInt8, sequence: UInt16, size: Int = 200) -> [UInt8] {
        [0x80, payloadType, UInt8(sequence >> 8), UInt8(sequence & 0xFF), 0, 0, 0, 1, 0x12, 0x34, 0x56, 0x78]
            + (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(sequence)) }
    }
}

/// Live mixes running on a thread of their own until `stop()`; collects notices and warnings.
final class RunningLiveMix: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var collectedNotices: [Int: [Notice]] = [:]
    private var collectedWarnings: [String] = []
    private var latestStatus: LiveStatus?
    private var startedMixes: [RunningMix] = []
    private var failure: Error?
    private let done = DispatchSemaphore(value: 0)

    /// The mixes of `specs` (JSON), which may share inputs; `decodedInputs` tells how many
    /// inputs the run receives and decodes.
    init(specs: [String], in folder: URL) throws {
        let plans = try specs.enumerated().map { index, json in
            let file = folder.appendingPathComponent("spec-\(index).json")
            try Data(json.utf8).write(to: file)
            return try MixPlan(spec: try MixSpec.load(file: file), templates: try TemplateLibrary.bundled(), live: true)
        }
        let mix = LiveRun(plans: plans)
        decodedInputs = mix.decodedInputCount
        let thread = Thread { [self] in
            do {
                try mix.run(
                    started: { mixes in self.locked { self.startedMixes = mixes } },
                    notices: { index, new in self.locked { self.collectedNotices[index, default: []] += new } },
                    warning: { text in self.locked { self.collectedWarnings.append(text) } },
                    status: { status in self.locked { self.latestStatus = status } },
                    stopped: { self.locked { self.stopping } })
            } catch {
                self.locked { self.failure = error }
            }
            self.done.signal()
        }
        thread.start()
    }

    /// Stops the mix (as SIGINT does) and waits for its outputs to be finalised.
    func stop() throws {
        locked { stopping = true }
        guard done.wait(timeout: .now() + 30) == .success else { throw GStreamerError(message: "the live mix did not stop within 30 s") }
        if let failure = locked({ failure }) { throw failure }
    }

    convenience init(spec json: String, in folder: URL) throws {
        try self.init(specs: [json], in: folder)
    }

    let decodedInputs: Int
    /// The first mix's outbound events so far.
    var notices: [Notice] { notices(of: 0) }
    func notices(of mix: Int) -> [Notice] { locked { collectedNotices[mix] ?? [] } }
    var warnings: [String] { locked { collectedWarnings } }
    /// The mixes, once they play.
    var running: [RunningMix] { locked { startedMixes } }
    /// The first mix's status, as last reported (once a second).
    var status: LiveStatus? { locked { latestStatus } }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}

/// Whether two frames differ inside `rect` (more than a few pixels changed clearly).
func picturesDiffer(_ first: RGBFrame, _ second: RGBFrame, in rect: Rect) -> Bool {
    var changed = 0
    for y in stride(from: rect.y, to: rect.y + rect.height, by: 4) {
        for x in stride(from: rect.x, to: rect.x + rect.width, by: 4) {
            let a = first.rgb(x: x, y: y), b = second.rgb(x: x, y: y)
            if abs(Int(a.red) - Int(b.red)) + abs(Int(a.green) - Int(b.green)) + abs(Int(a.blue) - Int(b.blue)) > 90 { changed += 1 }
        }
    }
    return changed > 10
}

/// A real nginx with the RTMP module on a loopback port, started and stopped by the test.
final class NginxRTMP {
    let port: Int
    private let folder: URL
    private var process: Process?

    init(port: Int) throws {
        self.port = port
        folder = try TestMedia.workspace()
        let config = """
            load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
            daemon off;
            master_process off;
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/error.log;
            events { worker_connections 64; }
            rtmp { server { listen 127.0.0.1:\(port); application live { live on; record off; } } }
            """
        try Data(config.utf8).write(to: folder.appendingPathComponent("nginx.conf"))
        try start()
    }

    /// Starts the server and waits until it accepts connections.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-c", folder.appendingPathComponent("nginx.conf").path, "-p", folder.path, "-e", folder.appendingPathComponent("error.log").path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<50 where !accepts() { Thread.sleep(forTimeInterval: 0.1) }
        guard accepts() else { throw GStreamerError(message: "nginx did not start listening on \(port)") }
    }

    /// Kills the server, as a crash would.
    func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }

    private func accepts() -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        return withLoopbackAddress(port: port) { connect(socket, $0, $1) == 0 }
    }
}

/// The largest gap allowed between a live mix's output frames at 30 fps: one frame missing
/// (a loaded machine may drop one), plus the millisecond Matroska rounds frame times to.
let oneMissingFrame: UInt64 = 2 * 33_333_334 + 1_000_000
