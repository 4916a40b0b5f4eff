import Dispatch
import Hummingbird

/// Where the service's own async work runs: requests, the fleet's loops, callback delivery,
/// the battle recorder and the code between the store's awaits. Its threads are a Dispatch
/// queue's, not Swift's few cooperative threads (one per core): while something in the
/// process holds those (a blocking library call, a test), leases are still renewed on time
/// and calls still answered.
final class ServiceExecutor: TaskExecutor {
    static let shared = ServiceExecutor()
    private let queue = DispatchQueue(label: "arena.service", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Runs each request's handling on the service's executor.
struct OnServiceExecutor<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await withTaskExecutorPreference(ServiceExecutor.shared) { try await next(request, context) }
    }
}
