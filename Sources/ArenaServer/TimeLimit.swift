import Synchronization

/// Runs `work` in a task of its own on the service's executor and waits for it: the caller's
/// cancellation does not reach it, so work begun (a commit, a blocking call) is never cut short
/// or reported as failed when it was done.
func toTheEnd<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await Task(executorPreference: ServiceExecutor.shared) { try await work() }.value
}

/// Waits for `work`, run in a task of its own, for at most `seconds`: past that it returns
/// nil, and the work is cancelled and left to end on its own (a query that ignores
/// cancellation cannot hold the caller). The caller's own cancellation does not reach the
/// work: a store call that commits is never reported as failed because its caller was
/// cancelled meanwhile.
func withTimeLimit<T: Sendable>(_ seconds: Double, _ work: @escaping @Sendable () async throws -> T) async throws -> T? {
    let worker = Task(executorPreference: ServiceExecutor.shared) { try await work() }
    return try await withCheckedThrowingContinuation { continuation in
        let answer = FirstAnswer(continuation)
        let timer = Task(executorPreference: ServiceExecutor.shared) {
            try? await Task.sleep(for: .seconds(seconds))
            guard !Task.isCancelled else { return }
            worker.cancel()
            answer.give(.success(nil))
        }
        Task(executorPreference: ServiceExecutor.shared) {
            let result = await worker.result
            timer.cancel()
            answer.give(result.map { Optional.some($0) })
        }
    }
}

/// Resumes a continuation with the first result given; later ones are dropped.
private final class FirstAnswer<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T?, any Error>?>

    init(_ continuation: CheckedContinuation<T?, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func give(_ result: Result<T?, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}
