import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// How many HTTP connections the service holds, and for how long: a flood of connections must
/// not take the file descriptors its mixes need (a recording's next segment, an input's
/// socket), and a client that trickles its request must not hold a connection for ever.
///
/// Past the maximum the service stops accepting (the rest wait in the kernel's queue, holding
/// none of its descriptors) until connections close. A connection is closed when it sends no
/// request for `idleTimeout`, when its first request's head has not arrived `headTimeout` after
/// it opened, or when a request's body has not all arrived `bodyTimeout` after its head.
public struct ConnectionLimits: Sendable {
    public var maximum: Int
    public var idleTimeout: TimeAmount
    public var headTimeout: TimeAmount
    public var bodyTimeout: TimeAmount

    public init(maximum: Int = 1_024, idleTimeout: TimeAmount = .seconds(30), headTimeout: TimeAmount = .seconds(10),
                bodyTimeout: TimeAmount = .seconds(30)) {
        self.maximum = maximum
        self.idleTimeout = idleTimeout
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
    }

    /// `maximum`, but never more than a quarter of the process's descriptor limit: the other
    /// three quarters stay for the mixes.
    var effectiveMaximum: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int.max) else { return maximum }
        return max(16, min(maximum, Int(limit.rlim_cur / 4)))
    }
}

/// Enforces `ConnectionLimits`' head and body deadlines on one connection, and ends it once an
/// answer is written that ends the conversation: the client asked for `Connection: close`, or
/// the body was refused as too large. Ending is a lingering close, as nginx does: the answer
/// is sent and the sending side shut, then what the client still sends is read and thrown
/// away for `lingerTime` before the socket closes, so that the client reads the answer
/// instead of a reset.
final class RequestDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private var deadline: Scheduled<Void>?
    private var closeAfterAnswer = false
    private var lingering = false
    static let lingerTime = TimeAmount.seconds(2)

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { expect(within: limits.headTimeout, context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        expect(within: limits.headTimeout, context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if lingering { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.headerFields[.connection]?.lowercased() == "close" { closeAfterAnswer = true }
            expect(within: limits.bodyTimeout, context: context)
        case .body: break
        case .end:
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            if head.status == .contentTooLarge { closeAfterAnswer = true }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closeAfterAnswer else { return context.write(data, promise: promise) }
            context.writeAndFlush(data, promise: promise)
            lingering = true
            context.close(mode: .output, promise: nil)
            expect(within: Self.lingerTime, context: context)
            // In front of the HTTP decoder: bytes are thrown away as they come, whatever the
            // handlers behind it still wait for.
            try? context.pipeline.syncOperations.addHandler(BytesDiscarder(), position: .first)
        }
    }

    /// Closes the connection unless the deadline is replaced or cancelled first.
    private func expect(within time: TimeAmount, context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: time) { [context] in
            context.close(promise: nil)
        }
    }
}

/// Reads and throws away every byte that arrives, asking for more each time.
private final class BytesDiscarder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelReadComplete(context: ChannelHandlerContext) {
        context.read()
    }
}
