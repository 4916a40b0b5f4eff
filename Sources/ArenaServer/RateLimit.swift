import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import NIOCore

/// The service's request context: Hummingbird's basics plus the client's address, which
/// the rate limit counts by.
struct ArenaRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// At most `perSecond` calls a second per client address, with bursts up to that many (a
/// token bucket); past it, 429 with `Retry-After`.
struct RateLimit: RouterMiddleware {
    typealias Context = ArenaRequestContext
    let buckets: Buckets

    init(perSecond: Int) {
        buckets = Buckets(rate: Double(perSecond))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        guard buckets.take(for: client) else {
            var error = try APIError(.tooManyRequests, "more than \(Int(buckets.rate)) calls a second from \(client)").response(from: request, context: context)
            error.headers[.retryAfter] = "1"
            return error
        }
        return try await next(request, context)
    }

    /// One token bucket per client.
    final class Buckets: Sendable {
        let rate: Double
        private let buckets = Mutex<[String: (tokens: Double, at: Double)]>([:])

        init(rate: Double) {
            self.rate = rate
        }

        func take(for client: String) -> Bool {
            let now = ProcessInfo.processInfo.systemUptime
            return buckets.withLock { buckets in
                var bucket = buckets[client] ?? (rate, now)
                bucket.tokens = min(rate, bucket.tokens + (now - bucket.at) * rate)
                bucket.at = now
                let allowed = bucket.tokens >= 1
                if allowed { bucket.tokens -= 1 }
                buckets[client] = bucket
                if buckets.count > 10_000 { buckets = buckets.filter { now - $0.value.at < 10 } }
                return allowed
            }
        }
    }
}
