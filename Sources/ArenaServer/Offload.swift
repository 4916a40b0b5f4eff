import NIOPosix

/// Threads of the service's own for blocking work (probing a new mix's inputs, finalising an
/// output, a callback's HTTP attempt, opening the SQLite file), apart from Swift's cooperative threads and from Dispatch's shared pool: work that
/// waits cannot hold up the HTTP server, nor be held up by whatever else waits there.
private let blockingThreads: NIOThreadPool = {
    let pool = NIOThreadPool(numberOfThreads: 32)
    pool.start()
    return pool
}()

/// Runs blocking `work` on the service's blocking threads and returns its result; a caller
/// cancelled meanwhile still waits for it (work begun is not left half-reported).
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await toTheEnd { try await blockingThreads.runIfActive(work) }
}

/// Runs blocking `work` on the service's blocking threads.
func offload(_ work: @escaping @Sendable () -> Void) async {
    _ = try? await toTheEnd { try await blockingThreads.runIfActive(work) }
}
