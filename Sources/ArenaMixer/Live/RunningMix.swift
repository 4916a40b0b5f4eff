import ArenaLayout
import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit
import Synchronization

/// How a live mix is doing, for status lines and the service's metrics.
public struct LiveStatus: Sendable {
    /// Seconds of output made.
    public let seconds: Double
    /// Hosts whose input is sending, by user id.
    public let sending: Set<String>
    /// Every host of the mix (those added while it runs too), by user id.
    public let hosts: [String]
    /// Video frames encoded so far; short of `seconds` x fps when frames were dropped.
    public let encodedFrames: Int
    /// For hosts with an RTP input: seconds their picture was broken (a loss or decoder error
    /// until the next whole picture; the cell held its last good frame meanwhile).
    public let brokenPictureSeconds: [String: Double]
    /// For hosts with a live input: seconds later than its own time each is shown, because its
    /// frames come in that late (see ``InputDelay``); the other hosts do not wait for it.
    public let inputDelaySeconds: [String: Double]
    /// How far the latest output frame is behind the clock (s): the wait for the inputs'
    /// frames plus compositing, up to a frame more between two frames; nil before the first.
    public let outputLagSeconds: Double?
}

/// One live mix while it runs: its state, compositing graph, outputs and inputs, and how it
/// treats inputs that go quiet (stale: the placeholder; silent past the disconnect timeout:
/// the host leaves; sending again: the host joins again). Made and run by ``LiveRun``.
///
/// Its own mutable state is one Mutex, never held while calling into the graph, the
/// outputs or the session state (which guard themselves).
public final class RunningMix: Sendable {
    public let plan: MixPlan
    let graph: MixGraph
    private let hubs: InputHubs
    private let fanout = OutputFanout()
    private let warning: @Sendable (String) -> Void
    private let reader = Mutex<BusReader?>(nil)
    private let state: Mutex<State>

    private struct State {
        var inputs: [InputPlan]
        /// Hosts being added; each input's index is taken once, even if adding it fails.
        var adding: Set<String> = []
        var nextIndex: Int
        /// Hosts taken out because their input went quiet (and so may come back).
        var leftByTimeout: Set<String> = []
        var ended = false
        var failure: MixError?
        /// Finished by the run: changes are refused.
        var finished = false
        /// For quiet inputs: up to when the compositor and mixer were told nothing comes.
        var quietUntil: [Int: UInt64] = [:]
    }

    init(plan: MixPlan, hubs: InputHubs, label: String, notices: @escaping @Sendable ([Notice]) -> Void,
         warning: @escaping @Sendable (String) -> Void) throws(MixError) {
        self.plan = plan
        self.hubs = hubs
        self.warning = warning
        state = Mutex(State(inputs: plan.inputs, nextIndex: plan.inputs.count))
        let mixState = try MixState(live: plan, onNotices: notices, warning: warning)
        var inputHubs: [Int: InputHub] = [:]
        for input in plan.inputs {
            inputHubs[input.index] = try hubs.hub(for: input.host.input, hasAudio: input.hasAudio,
                                                  label: "\(label)hosts[\(input.index)] '\(input.host.userId)'")
        }
        do {
            graph = try MixGraph(plan: plan, state: mixState, tail: .live(video: fanout.feedVideo, audio: fanout.feedAudio), hubs: inputHubs)
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
        fanout.replace(with: plan.outputs.map { OutputPipeline(target: $0, audioCodec: plan.audio.codec, access: plan.access, report: warning) })
        hubs.clock.adopt(graph.pipeline)
    }

    /// Starts the outputs and the graph.
    func start() throws(MixError) {
        reader.withLock { $0 = BusReader(pipeline: graph.pipeline) { [weak self] message in self?.handle(message) } }
        for output in fanout.outputs { output.start() }
        do {
            try graph.pipeline.play()
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
    }

    /// Finalises every output (the recording's last segment is closed) and stops the graph.
    func finish() {
        state.withLock { $0.finished = true }
        for output in fanout.replace(with: []) { output.finish() }
        graph.pipeline.stop()
        reader.withLock { $0 }?.stop()
    }

    /// Whether the mix has reached its duration or failed; the failure, if it did.
    var isOver: (over: Bool, failure: MixError?) { state.withLock { ($0.ended || $0.failure != nil, $0.failure) } }

    // MARK: Changes while it runs

    /// Applies a co-host or battle event; it shows from the next output frame on. A refused
    /// event changes nothing.
    public func apply(_ event: SessionEvent) throws(SessionError) -> [Notice] {
        // After the run a session change shows on no frame; the service has dropped the mix by then.
        try graph.state.apply(event)
    }

    /// The session as it stands.
    public var session: Session { graph.state.current }

    /// Lays the mix out with another template from its next output frame on; the canvas stays.
    public func switchTemplate(to template: LayoutTemplate) throws(MixError) {
        try checkRunning()
        do {
            try template.validate(on: plan.canvas.size)
        } catch {
            throw .spec(SpecError(field: "template", "\(template.id) does not suit the canvas: \(error)"))
        }
        try graph.state.switchTemplate(to: template)
    }

    /// Shows `decorations` from the mix's next output frame on.
    public func setDecorations(_ decorations: Decorations) throws(MixError) {
        try checkRunning()
        graph.state.setDecorations(decorations)
    }

    /// Replaces the outputs: those no longer listed are finalised and stopped, new ones start
    /// at the next keyframe, unchanged ones go on.
    public func setOutputs(_ targets: [OutputTarget]) throws(MixError) {
        try checkRunning()
        let (added, removed) = fanout.update { current in
            let added = targets.filter { target in !current.contains { $0.target == target } }
                .map { OutputPipeline(target: $0, audioCodec: plan.audio.codec, access: plan.access, report: warning) }
            return (current.filter { targets.contains($0.target) } + added, added, current.filter { !targets.contains($0.target) })
        }
        for output in added { output.start() }
        for output in removed { output.finish() }
    }

    private func checkRunning() throws(MixError) {
        if state.withLock({ $0.finished }) { throw .ended }
    }

    /// The outputs' targets.
    public var outputs: [OutputTarget] { fanout.outputs.map(\.target) }

    /// Adds a host with an RTP input: it is received (or shared with another mix of the run
    /// that has it) and can join the session from the next frame on (post `hostJoined`).
    public func addHost(_ host: MixSpec.Host) throws(MixError) {
        guard case .rtp(let rtp) = host.input else {
            throw .spec(SpecError(field: "hosts", "'\(host.userId)': a host added while running needs an RTP input"))
        }
        let reserved = state.withLock { state -> Result<Int, MixError> in
            guard !state.finished else { return .failure(.ended) }
            if state.inputs.contains(where: { $0.host.userId == host.userId }) || state.adding.contains(host.userId) {
                return .failure(.spec(SpecError(field: "hosts", "'\(host.userId)' is already a host of this mix")))
            }
            guard state.inputs.count + state.adding.count < plan.template.maxHosts else {
                return .failure(.spec(SpecError(field: "hosts", "the mix has \(state.inputs.count) hosts, its template's most")))
            }
            state.adding.insert(host.userId)
            defer { state.nextIndex += 1 }
            return .success(state.nextIndex)
        }
        let index = try reserved.get()
        let input = InputPlan(index: index, host: host, media: nil, hasAudio: rtp.audio != nil)
        do throws(MixError) {
            let hub = try hubs.hub(for: host.input, hasAudio: input.hasAudio, label: "hosts '\(host.userId)'")
            do {
                try graph.addLiveHost(input, hub: hub)
            } catch {
                throw MixError.pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
            }
        } catch {
            state.withLock { _ = $0.adding.remove(host.userId) }
            throw error
        }
        graph.state.addKnownUser(host.userId)
        state.withLock { state in
            state.adding.remove(host.userId)
            state.inputs.append(input)
        }
    }

    /// The output time the mix has reached (nanoseconds on its clock), once it makes frames.
    public var outputTime: UInt64? { graph.inputTimes().output }

    /// How the mix is doing.
    public var status: LiveStatus {
        let times = graph.inputTimes()
        let output = times.output ?? 0
        let (inputs, frames) = (state.withLock { $0.inputs }, fanout.encodedFrames)
        let sending = inputs.filter { input in
            times.latestFrames[input.index].map { output.saturatingSubtract($0) <= plan.live.staleAfter } ?? false
        }
        var broken: [String: Double] = [:], delays: [String: Double] = [:]
        for input in inputs {
            guard let hub = hubs.existing(for: input.host.input) else { continue }
            if case .rtp = input.host.input { broken[input.host.userId] = hub.brokenPictures.seconds }
            if input.host.input.isLive { delays[input.host.userId] = Double(hub.delay) / 1e9 }
        }
        return LiveStatus(seconds: Double(output) / 1e9, sending: Set(sending.map(\.host.userId)), hosts: inputs.map(\.host.userId),
                          encodedFrames: frames, brokenPictureSeconds: broken, inputDelaySeconds: delays,
                          outputLagSeconds: times.output.map { Double(hubs.clock.runningTime.saturatingSubtract($0)) / 1e9 })
    }

    // MARK: Run loop and streaming threads

    /// Hosts whose input has sent nothing for the disconnect timeout leave the session; a host
    /// that left that way and whose input is sending again joins it again. The run loop calls
    /// this about ten times a second.
    func watchInputs() {
        let times = graph.inputTimes()
        guard let now = times.output else { return }
        let session = graph.state.current
        let live = plan.live
        let clock = hubs.clock.runningTime
        for input in state.withLock({ $0.inputs }) {
            fillSilence(of: input, latestFrame: times.latestFrames[input.index], clock: clock)
            let user = input.host.userId
            let silence = now.saturatingSubtract(times.latestFrames[input.index] ?? 0)
            if silence > live.disconnectTimeout, session.connected.contains(user), user != session.owner,
               state.withLock({ $0.leftByTimeout.insert(user).inserted }) {
                warning("hosts[\(input.index)] '\(user)' sent nothing for \(Double(silence) / 1e9) s; taken as having left")
                _ = try? graph.state.apply(.hostLeft(userId: user))
            } else if silence <= live.staleAfter, !session.connected.contains(user), state.withLock({ $0.leftByTimeout.remove(user) != nil }) {
                do {
                    try graph.state.apply(.hostJoined(userId: user))
                    warning("hosts[\(input.index)] '\(user)' is sending again; joined again")
                } catch {
                    warning("hosts[\(input.index)] '\(user)' is sending again but cannot join: \(error)")
                }
            }
        }
    }

    /// The compositor and mixer wait up to an input's latency for its frame, every frame, so
    /// an input that sends nothing would keep the mix that far behind (304-330 ms with a
    /// 200 ms jitter buffer). Once it has been quiet past its latency and `staleAfter` (its
    /// cell shows the placeholder then; a shorter freeze keeps its last frame, and the mix
    /// waits as before), they are told that nothing comes from it until its latency from now
    /// (so they never wait for it between two calls; when it sends again, its frames in that
    /// span come too late and are dropped).
    private func fillSilence(of input: InputPlan, latestFrame: UInt64?, clock now: UInt64) {
        guard let latestFrame, let hub = hubs.existing(for: input.host.input),
              now.saturatingSubtract(latestFrame) > max(hub.latency, plan.live.staleAfter) else { return }
        let end = now + hub.latency
        let start = state.withLock { state in
            defer { state.quietUntil[input.index] = end }
            return max(state.quietUntil[input.index] ?? 0, latestFrame + plan.frameDuration)
        }
        graph.fillGap(ofInput: input.index, from: start, until: end)
    }

    /// Bus thread: end-of-stream ends the mix (its duration is reached); an error fails it.
    /// Inputs' errors arrive on their hubs' buses, not here.
    private func handle(_ message: BusMessage) {
        switch message {
        case .endOfStream: state.withLock { $0.ended = true }
        case .error(let error): state.withLock { $0.failure = $0.failure ?? .pipeline(error) }
        case .warning, .element: break
        }
    }
}
