import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP server on `address` that gives every request the same answer, and counts them.
final class FixedAnswerServer: Sendable {
    let port: Int
    private let listener: Int32
    private let answer: [UInt8]
    private let hits = Atomic(0)

    /// `status` with `headers` and `body`; `address` must be one of this machine's.
    init(address: String = "127.0.0.1", status: Int, headers: [String: String] = [:], body: Data = Data()) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_addr.s_addr = inet_addr(address)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 16) == 0 else {
            close(fd)
            throw URLError(.cannotConnectToHost)
        }
        listener = fd
        port = Int(UInt16(bigEndian: socketAddress.sin_port))
        let head = (["HTTP/1.1 \(status) Answer", "Content-Length: \(body.count)", "Connection: close"]
            + headers.map { "\($0.key): \($0.value)" }).joined(separator: "\r\n") + "\r\n\r\n"
        answer = Array(head.utf8) + Array(body)
        Thread { [self] in serve() }.start()
    }

    /// How many requests have come in.
    var requests: Int { hits.load(ordering: .relaxed) }

    /// Stops accepting; the serving thread then closes the listener (closed here, its number
    /// could be another socket's by the thread's next accept).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func serve() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                close(listener)
                return
            }
            var request = [UInt8]()
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !request.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
                let got = recv(client, &chunk, chunk.count, 0)
                guard got > 0 else { break }
                request += chunk[..<got]
            }
            hits.add(1, ordering: .relaxed)
            _ = answer.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(client)
        }
    }
}

/// An address outside the private ranges, put on this machine's loopback interface for the
/// test (needs root, as CI runs): what a public host would be to the avatar checks.
enum PublicTestAddress {
    static let address = "198.51.100.7"

    /// The address, once it is on `lo`; nil where it cannot be added.
    static let ready: String? = {
        let add = Process()
        add.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        add.arguments = ["addr", "replace", "\(address)/32", "dev", "lo"]
        guard (try? add.run()) != nil else { return nil }
        add.waitUntilExit()
        return add.terminationStatus == 0 ? address : nil
    }()
}
