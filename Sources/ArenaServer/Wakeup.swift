import Foundation
import Synchronization

/// Wakes one waiting loop early: `signal` (from any thread) ends the current or next `wait`;
/// signals that came while nobody waited count as one.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        /// The wait under way, and its continuation once it has begun waiting.
        var current: UUID?
        var waiter: CheckedContinuation<Void, Never>?
        /// The current wait's time ran out before it began waiting.
        var expired = false
    }
    private let state = Mutex(State())

    init() {}

    func signal() {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.signalled = true
                return nil as CheckedContinuation<Void, Never>?
            }
            state.waiter = nil
            state.current = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the first signal since the last wait, or after `seconds`. One caller at a time.
    func wait(upTo seconds: Double) async {
        let id = UUID()
        state.withLock { state in
            precondition(state.waiter == nil, "one loop waits on a Wakeup")
            state.current = id
            state.expired = false
        }
        let timer = Task(executorPreference: ServiceExecutor.shared) { [self] in
            try? await Task.sleep(for: .seconds(seconds))
            end(id)
        }
        defer { timer.cancel() }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.signalled || state.expired {
                    state.signalled = false
                    state.current = nil
                    return true
                }
                state.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The time of wait `id` is up (a timer of a wait that has ended does nothing).
    private func end(_ id: UUID) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.current == id else { return nil }
            guard let waiter = state.waiter else {
                state.expired = true
                return nil
            }
            state.waiter = nil
            state.current = nil
            return waiter
        }
        waiter?.resume()
    }
}
