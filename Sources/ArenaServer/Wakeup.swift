import Foundation
import Synchronization

/// Wakes a waiting loop early: `signal` (from any thread) ends the current or next `wait`;
/// signals that came while nobody waited count as one.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: (id: UUID, continuation: CheckedContinuation<Void, Never>)?
        /// A wait whose time ran out before it began waiting.
        var expired: UUID?
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
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Returns at the first signal since the last wait, or after `seconds`.
    func wait(upTo seconds: Double) async {
        let id = UUID()
        let timer = Task(executorPreference: ServiceExecutor.shared) { [self] in
            try? await Task.sleep(for: .seconds(seconds))
            end(id)
        }
        defer { timer.cancel() }
        await withCheckedContinuation { continuation in
            let now = state.withLock { state in
                if state.signalled || state.expired == id {
                    state.signalled = false
                    return true
                }
                state.waiter = (id, continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func end(_ id: UUID) {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter, waiter.id == id else {
                state.expired = id
                return nil as CheckedContinuation<Void, Never>?
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }
}
