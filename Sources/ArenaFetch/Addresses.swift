import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One address a host name resolved to, as text (`203.0.113.5`, `2001:db8::1`), and whether it
/// is inside the network: loopback, private, link-local, shared (CGNAT), unspecified, or an
/// IPv4-mapped IPv6 address.
public struct ResolvedAddress: Sendable, Equatable {
    public let text: String
    public let isInternal: Bool
}

/// Name resolution done once, so that the address that was checked is the one connected to.
public enum Addresses {
    /// Every address `host` resolves to (a literal resolves to itself); empty when it does not.
    public static func resolve(_ host: String) -> [ResolvedAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(list) }
        var found: [ResolvedAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let entry = node {
            defer { node = entry.pointee.ai_next }
            guard let address = entry.pointee.ai_addr else { continue }
            if entry.pointee.ai_family == AF_INET {
                let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin_addr) { Array($0) } }
                found.append(ResolvedAddress(text: bytes.map(String.init).joined(separator: "."), isInternal: isInternal(ipv4: bytes)))
            } else if entry.pointee.ai_family == AF_INET6 {
                let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { withUnsafeBytes(of: $0.pointee.sin6_addr) { Array($0) } }
                found.append(ResolvedAddress(text: text(ipv6: bytes), isInternal: isInternal(ipv6: bytes)))
            }
        }
        return found.reduce(into: []) { unique, address in if !unique.contains(address) { unique.append(address) } }
    }

    static func isInternal(ipv4 bytes: [UInt8]) -> Bool {
        bytes[0] == 127 || bytes[0] == 10 || bytes[0] == 0 || (bytes[0] == 169 && bytes[1] == 254)
            || (bytes[0] == 172 && (16...31).contains(bytes[1])) || (bytes[0] == 192 && bytes[1] == 168)
            || (bytes[0] == 100 && (64...127).contains(bytes[1]))
    }

    static func isInternal(ipv6 bytes: [UInt8]) -> Bool {
        let loopbackOrUnspecified = bytes.dropLast().allSatisfy { $0 == 0 } && (bytes.last == 1 || bytes.last == 0)
        let local = bytes[0] & 0xFE == 0xFC || (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80)
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        return loopbackOrUnspecified || local || mapped
    }

    private static func text(ipv6 bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        return inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)).map { String(cString: $0) } ?? ""
    }
}
