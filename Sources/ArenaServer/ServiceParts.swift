import ServiceLifecycle

/// This instance's mixes as a service of the service group, shut down after the HTTP servers:
/// on graceful shutdown (SIGTERM, SIGINT) or cancellation it stops claiming mixes, finalises
/// every mix's outputs (in parallel, 30 s at most each), records the battles they ended (10 s
/// at most), and gives its leases back so that another instance may claim the mixes at once.
struct MixesService: Service {
    let mixes: MixRegistry
    let fleet: FleetMember
    let recorder: BattleRecorder

    func run() async throws {
        try? await gracefulShutdown()
        // An unstructured task: a cancelled group's cancellation would cut the steps short.
        await Task(executorPreference: ServiceExecutor.shared) {
            await fleet.stop()
            await mixes.stopAll()
            await recorder.caughtUp(within: 10)  // the battles the mixes ended on the way
            await fleet.leave()
        }.value
    }
}

/// The callback sender as a service, shut down last: it delivers from the outbox until
/// shutdown, then writes the callbacks still in memory to the outbox (10 s at most), so that
/// a restart or another instance sends them.
struct CallbackService: Service {
    let callbacks: CallbackOutbox

    func run() async throws {
        callbacks.start()
        try? await gracefulShutdown()
        await Task(executorPreference: ServiceExecutor.shared) { await callbacks.stop() }.value
    }
}
