import ArenaServer
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A flood of idle connections cannot take the descriptors a mix needs nor make the service
/// unreachable for good: it holds at most its maximum, closes idle ones, and the recording
/// goes on opening its segments.
@Suite struct FloodTests {
    @Test func idleConnectionsCannotStarveTheServiceOrItsRecording() async throws {
        let service = try await RunningService(connections: ConnectionLimits(maximum: 64, idleTimeout: .seconds(2)))
        let spec = idleMixSpec(ports: ServerTestPorts.pair()).replacingOccurrences(of: #""segmentSeconds": 600"#, with: #""segmentSeconds": 1"#)
        #expect(try await service.call("POST", "/v1/mixes?id=room", spec).status == 201)
        try await Task.sleep(for: .seconds(1.5))
        var flood = (0..<400).compactMap { _ in idleConnection(port: service.port) }
        #expect(flood.count == 400)
        // Closed once: a descriptor closed twice may by then be another test's socket.
        defer { for socket in flood { close(socket) } }
        try await Task.sleep(for: .seconds(1))
        // Ours are 400; the service's side of them stays at its maximum (64), give or take a few.
        // Counted as this process's descriptors that are accepted connections on the service's
        // port (the rest wait in the kernel's backlog): other tests open descriptors meanwhile.
        let held = acceptedConnections(port: service.port)
        #expect(held <= 64 + 8, "the service holds \(held) connections")
        let segmentsAtStart = segments(in: service.folder)
        // Idle connections close after 2 s, so the queue drains and a probe gets through.
        let probe = try await service.call("GET", "/healthz", token: nil)
        #expect(probe.status == 200)
        try await Task.sleep(for: .seconds(3))
        #expect(segments(in: service.folder) >= segmentsAtStart + 2, "the recording stopped making segments")
        for socket in flood { close(socket) }
        flood = []
        #expect(try await service.call("DELETE", "/v1/mixes/room").status == 200)
        let partial = try FileManager.default.contentsOfDirectory(atPath: service.folder.path).filter { $0.hasSuffix(".partial") }
        #expect(partial.isEmpty, "\(partial)")
        await service.stop()
    }

    private func segments(in folder: URL) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasPrefix("mix-") }.count
    }

    /// Descriptors of this process that are TCP connections whose local port is `port`.
    private func acceptedConnections(port: Int) -> Int {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        let sockets = Set(descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)") }
            .filter { $0.hasPrefix("socket:[") }.map { String($0.dropFirst(8).dropLast()) })
        let table = ["/proc/net/tcp", "/proc/net/tcp6"].compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined()
        let local = String(format: ":%04X", port)
        var count = 0
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[1].hasSuffix(local), fields[3] != "0A" else { continue }  // 0A: listening
            if sockets.contains(String(fields[9])) { count += 1 }
        }
        return count
    }

    /// A TCP connection to 127.0.0.1:`port` that sends nothing (connecting without waiting).
    private func idleConnection(port: Int) -> Int32? {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return nil }
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 || errno == EINPROGRESS else {
            close(socket)
            return nil
        }
        return socket
    }
}
