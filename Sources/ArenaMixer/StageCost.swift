import Foundation
import Synchronization

/// The CPU time a stage of per-frame work takes, read from the calling thread's CPU clock.
final class StageCost: Sendable {
    private let spent = Mutex<(total: UInt64, buffers: Int)>((0, 0))

    /// Runs `body` for one buffer, adding its CPU time.
    func measure(_ body: () -> Void) {
        let start = Self.threadCPUTime()
        body()
        let time = Self.threadCPUTime() - start
        spent.withLock {
            $0.total += time
            $0.buffers += 1
        }
    }

    /// Buffers measured so far.
    var buffers: Int { spent.withLock { $0.buffers } }

    /// Average CPU milliseconds per buffer so far.
    var millisecondsPerBuffer: Double {
        let (total, buffers) = spent.withLock { ($0.total, $0.buffers) }
        return buffers == 0 ? 0 : Double(total) / Double(buffers) / 1e6
    }

    private static func threadCPUTime() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
