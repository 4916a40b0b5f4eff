import Foundation
import NIOCore

/// How many HTTP connections the service holds, and for how long an idle one: a flood of
/// connections must not take the file descriptors its mixes need (a recording's next segment,
/// an input's socket). Past the maximum the service stops accepting (the rest wait in the
/// kernel's queue, holding none of its descriptors) until connections close; a connection that
/// sends nothing for `idleTimeout` is closed.
public struct ConnectionLimits: Sendable {
    public var maximum: Int
    public var idleTimeout: TimeAmount

    public init(maximum: Int = 1_024, idleTimeout: TimeAmount = .seconds(30)) {
        self.maximum = maximum
        self.idleTimeout = idleTimeout
    }

    /// `maximum`, but never more than a quarter of the process's descriptor limit: the other
    /// three quarters stay for the mixes.
    var effectiveMaximum: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int.max) else { return maximum }
        return max(16, min(maximum, Int(limit.rlim_cur / 4)))
    }
}
