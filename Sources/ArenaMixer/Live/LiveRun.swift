import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit

/// Runs live mixes (`arena run`, and each mix of `arena serve`): the output frame clock runs
/// on wall time and never waits for an input; each mix's encode goes to all its outputs at
/// once, each failing and recovering on its own.
///
/// Several mixes can run together, as the rooms of one co-host session do (each with its own
/// host in slot 0): an input that more than one of them names is received and decoded once.
/// The run keeps only what they share, the input hubs and the clock; each mix is a
/// ``RunningMix``.
public final class LiveRun: Sendable {
    private let plans: [MixPlan]

    /// One mix, or several that may share inputs (same RTP ports or the same URI).
    public init(plans: [MixPlan]) {
        self.plans = plans
    }

    /// How many inputs are received and decoded: one per distinct input of all the mixes.
    public var decodedInputCount: Int {
        var sources: [InputSource] = []
        for input in plans.flatMap(\.inputs) where !sources.contains(input.host.input) { sources.append(input.host.input) }
        return sources.count
    }

    /// Runs until `stopped` turns true (polled every 100 ms) or every mix's duration is
    /// reached, then finalises every output. `started` gets the running mixes once they play
    /// (to change them while they run); `notices` each mix's outbound events (with its index
    /// in `plans`) as they happen; `warning` one line per problem; `status` mix 0's state
    /// about once a second.
    public func run(started: @escaping ([RunningMix]) -> Void = { _ in },
                    notices: @escaping @Sendable (Int, [Notice]) -> Void = { _, _ in },
                    warning: @escaping @Sendable (String) -> Void = { _ in },
                    status: ((LiveStatus) -> Void)? = nil, stopped: @escaping () -> Bool) throws(MixError) {
        try Self.checkPorts(plans)
        let hubs = InputHubs(frameDuration: plans[0].frameDuration, access: plans[0].access,
                             warning: warning)
        var mixes: [RunningMix] = []
        defer {
            for mix in mixes { mix.finish() }
            hubs.stopAll()
        }
        for (index, plan) in plans.enumerated() {
            let prefix = plans.count > 1 ? "mix \(index): " : ""
            mixes.append(try RunningMix(plan: plan, hubs: hubs, label: prefix, notices: { notices(index, $0) },
                                        warning: { warning(prefix + $0) }))
        }
        for mix in mixes { try mix.start() }
        started(mixes)

        var lastStatus = Date()
        while !stopped() {
            Thread.sleep(forTimeInterval: 0.1)
            let states = mixes.map(\.isOver)
            if let failure = states.compactMap(\.failure).first { throw failure }
            if states.allSatisfy(\.over) { break }
            for mix in mixes { mix.watchInputs() }
            if let status, Date().timeIntervalSince(lastStatus) >= 1 {
                lastStatus = Date()
                status(mixes[0].status)
            }
        }
    }

    /// Two different RTP inputs cannot listen on one port (the same input in two mixes can).
    private static func checkPorts(_ plans: [MixPlan]) throws(MixError) {
        var seen: [(source: InputSource, field: String)] = []
        for (index, plan) in plans.enumerated() {
            for input in plan.inputs {
                let field = (plans.count > 1 ? "mix \(index): " : "") + "hosts[\(input.index)].input"
                for other in seen {
                    if let port = input.host.input.sharedPort(with: other.source) {
                        throw .spec(SpecError(field: field, "uses port \(port), which \(other.field) uses for a different input"))
                    }
                }
                seen.append((input.host.input, field))
            }
        }
    }
}
