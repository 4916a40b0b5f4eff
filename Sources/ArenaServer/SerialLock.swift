import Synchronization

/// A lock for async code, guarding a value: holders run one at a time, in the order they
/// asked, and one waiting holds no thread (it may hold the lock across awaits, as a store
/// call, which a `Mutex` must not).
final class SerialLock<Value: Sendable>: Sendable {
    private struct State {
        var value: Value
        var held = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ value: Value) {
        state = Mutex(State(value: value))
    }

    /// Runs `body` with the value once every earlier holder is done.
    func withLock<T>(_ body: (inout Value) async throws -> T) async rethrows -> T {
        await withCheckedContinuation { waiter in
            let now = state.withLock { state in
                if !state.held {
                    state.held = true
                    return true
                }
                state.waiters.append(waiter)
                return false
            }
            if now { waiter.resume() }
        }
        return try await holding(body)
    }

    /// Runs `body` as `withLock` does, unless the lock is held (then nothing, and false).
    @discardableResult
    func withLockIfAvailable(_ body: (inout Value) async throws -> Void) async rethrows -> Bool {
        let taken = state.withLock { state in
            defer { state.held = true }
            return !state.held
        }
        guard taken else { return false }
        try await holding(body)
        return true
    }

    private func holding<T>(_ body: (inout Value) async throws -> T) async rethrows -> T {
        var value = state.withLock { $0.value }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.value = value
                guard !state.waiters.isEmpty else {
                    state.held = false
                    return nil
                }
                return state.waiters.removeFirst()
            }
            next?.resume()
        }
        return try await body(&value)
    }
}
