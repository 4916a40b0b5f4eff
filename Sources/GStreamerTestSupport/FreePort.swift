import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A port nothing on loopback uses now (`type`: SOCK_STREAM or SOCK_DGRAM), found by binding port 0.
public func freePort(_ type: __socket_type = SOCK_STREAM) -> Int {
    let probe = socket(AF_INET, Int32(type.rawValue), 0)
    defer { close(probe) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, length) == 0 && getsockname(probe, $0, &length) == 0 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
