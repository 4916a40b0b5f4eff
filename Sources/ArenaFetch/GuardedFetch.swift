import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// HTTP to URLs that came from outside (an avatar in a posted spec, a callback receiver):
/// bounded in time and size, and unable to reach inside the network unless allowed.
///
/// Each host name is resolved once; every address it resolves to is checked, and the
/// connection goes to the checked address (no second resolution for a rebinding DNS server to
/// answer differently; TLS still verifies the name). A redirect is followed only by GET, at
/// most `maximumRedirects` times, and only when its target passes the same checks. The body
/// is streamed and refused as soon as it passes `sizeLimit`; `timeLimit` covers the whole
/// exchange, redirects included.
public struct GuardedFetch: Sendable {
    public var allowInternalAddresses: Bool
    public var timeLimit: TimeAmount
    public var sizeLimit: Int
    public var maximumRedirects: Int

    public init(allowInternalAddresses: Bool, timeLimit: TimeAmount, sizeLimit: Int, maximumRedirects: Int = 3) {
        self.allowInternalAddresses = allowInternalAddresses
        self.timeLimit = timeLimit
        self.sizeLimit = sizeLimit
        self.maximumRedirects = maximumRedirects
    }

    /// Why a fetch failed, in words that name no secret (no credentials, no query string).
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// `url`'s body (a 200 answer), following checked redirects.
    public func get(_ url: URL) -> Result<[UInt8], Failure> {
        let deadline = NIODeadline.now() + timeLimit
        var location = url
        for _ in 0...maximumRedirects {
            let answer = exchange(location, method: .GET, headers: [:], body: nil, deadline: deadline)
            guard case .success(let response) = answer else { return answer.map { _ in [] } }
            switch response.status.code {
            case 200: return .success(response.body.map { Array($0.readableBytesView) } ?? [])
            case 301, 302, 303, 307, 308:
                guard let target = response.headers.first(name: "Location").flatMap({ URL(string: $0, relativeTo: location)?.absoluteURL }) else {
                    return .failure(Failure(description: "the server answered \(response.status.code) without a usable Location"))
                }
                location = target
            default: return .failure(Failure(description: "the server answered \(response.status.code)"))
            }
        }
        return .failure(Failure(description: "more than \(maximumRedirects) redirects"))
    }

    /// POSTs `body` and returns the answer's status; a redirect is an answer like any other.
    public func post(_ url: URL, headers: [(String, String)], body: [UInt8]) -> Result<Int, Failure> {
        exchange(url, method: .POST, headers: HTTPHeaders(headers), body: body, deadline: .now() + timeLimit).map { Int($0.status.code) }
    }

    private func exchange(_ url: URL, method: HTTPMethod, headers: HTTPHeaders, body: [UInt8]?, deadline: NIODeadline) -> Result<HTTPClient.Response, Failure> {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty else {
            return .failure(Failure(description: "only http(s) URLs are fetched"))
        }
        let addresses = Addresses.resolve(host)
        guard let address = addresses.first else { return .failure(Failure(description: "the host '\(host)' does not resolve")) }
        if !allowInternalAddresses, let inside = addresses.first(where: \.isInternal) {
            return .failure(Failure(description: "refers to a loopback or private address (\(inside.text))"))
        }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: timeLimit, read: timeLimit))
        configuration.dnsOverride = [host: address.text]
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        defer { try? client.syncShutdown() }
        do {
            let request = try HTTPClient.Request(url: url, method: method, headers: headers, body: body.map { .bytes($0) })
            let delegate = ResponseAccumulator(request: request, maxBodySize: sizeLimit)
            return .success(try client.execute(request: request, delegate: delegate, deadline: deadline).futureResult.wait())
        } catch is ResponseAccumulator.ResponseTooBigError {
            return .failure(Failure(description: "larger than \(sizeLimit / 1024 / 1024) MB"))
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return .failure(Failure(description: "no answer within \(timeLimit.nanoseconds / 1_000_000_000) s"))
        } catch {
            return .failure(Failure(description: "cannot be fetched (\(Self.reason(error)))"))
        }
    }

    /// A transport error in a few words, without the URL it may carry.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)".components(separatedBy: "(").first ?? "HTTP error" }
        return "the connection failed"
    }
}
