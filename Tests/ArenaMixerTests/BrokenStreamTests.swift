@testable import ArenaMixer
import ArenaSpec
import Foundation
import GStreamerKit
import GStreamerTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// An HTTP server on 127.0.0.1 serving one file. Once told to `breakTransfers()`, it
/// announces the whole file but sends only its first part, then closes, and refuses the
/// client's request to resume: a stream that breaks mid-way.
final class BreakingHTTPServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let body: Data
    private let sent: Int
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var breaking = false
    /// Pause between 4 KiB chunks while breaking, so the break comes a while into the transfer.
    private let trickle: TimeInterval
    /// While breaking, keep the connection open after the part sent, sending nothing more.
    private let hold: Bool
    private let released = DispatchSemaphore(value: 0)

    init(body: Data, sendFraction: Double, trickle: TimeInterval = 0, hold: Bool = false) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 8) == 0 else {
            close(fd)
            throw GStreamerError(message: "cannot listen on loopback")
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        self.body = body
        sent = Int(Double(body.count) * sendFraction)
        self.trickle = trickle
        self.hold = hold
        Thread { [self] in serve() }.start()
    }

    /// From now on, transfers stop part-way.
    func breakTransfers() {
        lock.lock()
        breaking = true
        lock.unlock()
    }

    /// Stops accepting and waits for the server thread (which closes the listener: closed
    /// here, its number could be reused before the thread's next accept).
    func stop() {
        if hold { released.signal() }
        shutdown(listener, Int32(SHUT_RDWR))
        done.wait()
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { break }
            var request = [UInt8](repeating: 0, count: 4096)
            let count = recv(client, &request, request.count, 0)
            let text = String(decoding: request.prefix(max(0, count)), as: UTF8.self).lowercased()
            lock.lock()
            let breaking = self.breaking
            lock.unlock()
            let start = text.range(of: #"range: bytes=(\d+)"#, options: .regularExpression)
                .flatMap { Int(text[$0].filter(\.isNumber)) }
            if breaking, start != nil {
                send(client, Data("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
            } else if let start, start > 0 {
                send(client, Data("HTTP/1.1 206 Partial Content\r\nContent-Type: video/mp2t\r\nContent-Length: \(body.count - start)\r\nContent-Range: bytes \(start)-\(body.count - 1)/\(body.count)\r\nConnection: close\r\n\r\n".utf8))
                send(client, body.dropFirst(start))
            } else {
                send(client, Data("HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nAccept-Ranges: bytes\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8))
                if breaking {
                    for start in stride(from: 0, to: sent, by: 4096) {
                        send(client, body[start..<min(sent, start + 4096)])
                        Thread.sleep(forTimeInterval: trickle)
                    }
                    if hold { released.wait() }
                } else {
                    send(client, body)
                }
            }
            close(client)
        }
        close(listener)
        done.signal()
    }

    private func send(_ socket: Int32, _ data: Data) {
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.send(socket, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// A 3 s green MPEG-TS clip (no index, so it is read front to back) in a new folder.
private func greenTransportStream() throws -> (folder: URL, clip: URL) {
    let folder = try TestMedia.workspace()
    let clip = folder.appendingPathComponent("bob.ts")
    try Pipeline(launch: """
        videotestsrc pattern=solid-color foreground-color=0xFF\(String(format: "%06X", Colour.green)) num-buffers=90 \
        ! video/x-raw,width=640,height=480,framerate=30/1 ! x264enc speed-preset=ultrafast key-int-max=15 \
        ! mpegtsmux ! filesink location=\(clip.path)
        """).runToEnd(timeLimit: 30)
    return (folder, clip)
}

/// A 3 s mix of alice (a red file) and bob (the given loopback HTTP server).
private func alicePlusHTTPBob(port: UInt16, folder: URL) throws -> MixPlan {
    let alice = try TestMedia.clip(rgb: Colour.red, seconds: 3)
    let spec = try MixSpec.parse(Data("""
        {"duration": 3, "hosts": [{"userId": "alice", "input": "\(alice.path)"},
                                  {"userId": "bob", "input": "http://127.0.0.1:\(port)/bob.ts"}],
         "output": {"video": {"preset": "ultrafast"}}}
        """.utf8), source: "spec.json", baseDirectory: folder)
    return try MixPlan(spec: spec, templates: try .bundled(), outputOverride: folder.appendingPathComponent("out.mp4").path)
}

@Suite struct BrokenStreamTests {
    @Test func elementPathsTellWhichPartReported() {
        #expect(MixGraph.origin(ofElementPath: "/GstPipeline:arena-mix/GstURIDecodeBin:input-12/GstDecodeBin:decodebin0/avdec_h264:d") == .input(12))
        #expect(MixGraph.origin(ofElementPath: "/GstPipeline:arena-mix/GstX264Enc:video-encoder") == .mix)
        #expect(MixGraph.origin(ofElementPath: "/GstPipeline:arena-mix/GstVideoCrop:crop-1") == .mix)
        #expect(MixGraph.origin(ofElementPath: "/GstSoupHTTPSrc:source") == .detached)
    }

    @Test func aStreamThatStallsIsDroppedAfterTheStallLimit() throws {
        let (folder, clip) = try greenTransportStream()
        let server = try BreakingHTTPServer(body: try Data(contentsOf: clip), sendFraction: 0.5, hold: true)
        defer { server.stop() }
        let plan = try alicePlusHTTPBob(port: server.port, folder: folder)
        server.breakTransfers()
        let started = Date()
        let result = try MixRenderer(plan: plan, stallLimit: 2).run()
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(result.warnings == ["hosts[1] 'bob' input sent nothing for 2 s; showing its placeholder"])
        let (count, frames) = try VideoFrames.decode(path: result.path) { $0 == 80 }
        #expect(count == 90)
        expectPlaceholder(frames[0], x: 540, y: 598)
        expectColour(frames[0], x: 180, y: 598, Colour.red)
    }

    @Test(arguments: [0, 0.05])
    func aStreamThatFailsIsDroppedWithAWarningAndTheMixGoesOn(trickle: TimeInterval) throws {
        let (folder, clip) = try greenTransportStream()
        let server = try BreakingHTTPServer(body: try Data(contentsOf: clip), sendFraction: 0.5, trickle: trickle)
        defer { server.stop() }

        let plan = try alicePlusHTTPBob(port: server.port, folder: folder)
        server.breakTransfers()
        let warnings = Mutex<[String]>([])
        let result = try MixRenderer(plan: plan).run(warning: { text in warnings.withLock { $0.append(text) } })

        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.hasPrefix("hosts[1] 'bob' input broke (") == true, "\(result.warnings)")
        #expect(warnings.withLock { $0 } == result.warnings)
        // Without a trickle the break comes within milliseconds, while the mix is still
        // starting, and the few frames already decoded from bob are dropped with him; with
        // it, the break comes after the mix is playing and his first frames are in it.
        let (count, frames) = try VideoFrames.decode(path: result.path) { $0 == 5 || $0 == 80 }
        #expect(count == 90)
        if trickle > 0 { expectColour(frames[0], x: 540, y: 598, Colour.green) }
        expectPlaceholder(frames[1], x: 540, y: 598)
        expectColour(frames[1], x: 180, y: 598, Colour.red)
    }
}
