import Foundation

/// The CPU time a stage of per-frame work takes, read from the calling thread's CPU clock.
final class StageCost {
    private let lock = NSLock()
    private var total: UInt64 = 0
    private var buffers = 0

    /// Runs `body` for one buffer, adding its CPU time.
    func measure(_ body: () -> Void) {
        let start = Self.threadCPUTime()
        body()
        let spent = Self.threadCPUTime() - start
        lock.lock()
        total += spent
        buffers += 1
        lock.unlock()
    }

    /// Average CPU milliseconds per buffer so far.
    var millisecondsPerBuffer: Double {
        lock.lock()
        defer { lock.unlock() }
        return buffers == 0 ? 0 : Double(total) / Double(buffers) / 1e6
    }

    private static func threadCPUTime() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
