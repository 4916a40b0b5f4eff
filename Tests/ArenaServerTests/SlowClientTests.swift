import ArenaServer
import ArenaTestSupport
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Clients that trickle a request, or send far too much of one, lose their connection instead
/// of holding it (slowloris), and an oversized body is answered 413 and the connection closed.
@Suite struct SlowClientTests {
    static let limits = ConnectionLimits(maximum: 64, headTimeout: .seconds(1), bodyTimeout: .seconds(2))

    @Test func aHeadTrickledByteByByteIsCutOffAtTheHeadTimeout() async throws {
        // One header line every 0.3 s: never idle for long, never a complete head.
        let held = try await secondsHeld(opening: "GET /healthz HTTP/1.1\r\n") { "X-Slow-\($0): a\r\n" }
        #expect(held < 3, "closed only after \(held) s")
    }

    @Test func aBodyTrickledByteByByteIsCutOffAtTheBodyTimeout() async throws {
        let head = "POST /v1/battles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(RunningService.token)\r\nContent-Length: 200\r\n\r\n"
        let held = try await secondsHeld(opening: head) { _ in "{" }
        #expect(held < 4, "closed only after \(held) s")
    }

    /// Sends `opening`, then a piece every 0.3 s, until the service closes the connection (at
    /// most 12 s); how long the connection was held. The service answers a probe afterwards.
    private func secondsHeld(opening: String, piece: (Int) -> String) async throws -> Double {
        let service = try await RunningService(connections: Self.limits)
        let client = try RawConnection(port: service.port)
        try client.send(opening)
        let start = Date()
        var open = true
        for number in 0..<40 where open {
            try? client.send(piece(number))
            open = !client.closed(within: 0.3)
        }
        let held = Date().timeIntervalSince(start)
        #expect(!open, "still open after \(held) s")
        #expect(try await service.call("GET", "/healthz", token: nil).status == 200)
        await service.stop()
        return held
    }

    @Test(arguments: [true, false])
    func aTenMegabyteBodyIsRefusedAndItsConnectionClosed(askingToClose: Bool) async throws {
        // The default deadlines: under a loaded test run the answer can take seconds to come.
        let service = try await RunningService()
        let client = try RawConnection(port: service.port)
        let size = 10 << 20
        try client.send("POST /v1/mixes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(RunningService.token)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(size)\r\n" + (askingToClose ? "Connection: close\r\n" : "") + "\r\n")
        // On a thread of its own: blocking sends on Swift's cooperative threads would starve the
        // service's handlers, which run there too.
        let closed = await onThread {
            let chunk = [UInt8](repeating: 0x20, count: 64 << 10)
            var sent = 0
            let start = Date()
            // Keeps sending until the service stops taking bytes or closes.
            while sent < size, Date().timeIntervalSince(start) < 10, client.send(bytes: chunk) {
                sent += chunk.count
            }
            // The answer, then the close once the linger is over (2 s after the answer).
            return client.closed(within: 20)
        }
        #expect(closed, "the connection stayed open")
        #expect(client.received.hasPrefix("HTTP/1.1 413"), "\(client.received.prefix(80))")
        #expect(client.received.lowercased().contains("connection: close"))
        await service.stop()
    }
}


/// A blocking TCP client on 127.0.0.1 that sends raw bytes and watches for the server closing.
/// Unchecked Sendable: used by one thread at a time.
final class RawConnection: @unchecked Sendable {
    private let socket: Int32
    private(set) var received = ""

    init(port: Int) throws {
        socket = try loopbackSocket(port: port)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)  // a send the server stops reading gives up after 1 s
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(socket) }

    func send(_ text: String) throws {
        guard send(bytes: Array(text.utf8)) else { throw URLError(.networkConnectionLost) }
    }

    /// Sends all of `bytes`; false when the connection is gone or took nothing for 1 s.
    func send(bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Reads what arrives for up to `seconds`; true once the server has closed the connection.
    func closed(within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let left = deadline.timeIntervalSinceNow
            var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            guard left > 0, poll(&poller, 1, Int32(left * 1000)) > 0 else { return false }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let got = recv(socket, &chunk, chunk.count, 0)
            if got <= 0 { return true }
            received += String(decoding: chunk[..<got], as: UTF8.self)
        }
    }
}
