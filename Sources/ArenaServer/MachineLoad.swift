import Foundation
import Synchronization

/// How busy this machine's CPUs are: the share of time not idle between the last two
/// samples of `/proc/stat` (taken every second by the fleet loop). An instance past its CPU
/// limit takes no new mix, whatever its mix count says.
final class MachineLoad: Sendable {
    private let state = Mutex<(idle: UInt64, total: UInt64, busy: Double)>((0, 0, 0))

    /// The busy share, 0 to 1, over the last sampling interval (0 before two samples).
    var busy: Double { state.withLock { $0.busy } }

    /// Reads `/proc/stat` again.
    func sample() {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8), let times = Self.cpuTimes(text) else { return }
        state.withLock { state in
            if state.total > 0, times.total > state.total {
                let idle = Double(times.idle &- state.idle), total = Double(times.total - state.total)
                state.busy = min(1, max(0, 1 - idle / total))
            }
            (state.idle, state.total) = (times.idle, times.total)
        }
    }

    /// Idle (idle + iowait) and total jiffies from the `cpu` line of `/proc/stat`.
    static func cpuTimes(_ text: String) -> (idle: UInt64, total: UInt64)? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 5 else { return nil }
        // user nice system idle iowait irq softirq steal (guest times are within user and nice)
        return (fields[3] + fields[4], fields.prefix(8).reduce(0, +))
    }
}
