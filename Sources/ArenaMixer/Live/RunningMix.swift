import ArenaLayout
import ArenaSession
import ArenaSpec
import Foundation
import GStreamerKit

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
}

/// One live mix while it runs: its state, compositing graph, outputs and inputs, and how it
/// treats inputs that go quiet (stale: the placeholder; silent past the disconnect timeout:
/// the host leaves; sending again: the host joins again). Made and run by ``LiveRun``.
///
/// One lock guards the mutable fields; it is never held while calling into the graph, the
/// outputs or the state (which have their own).
public final class RunningMix: @unchecked Sendable {
    public let plan: MixPlan
    let graph: MixGraph
    private let hubs: InputHubs
    private let warning: @Sendable (String) -> Void
    private let lock = NSLock()
    private var outputList: [OutputPipeline] = []
    private var inputs: [InputPlan]
    /// Hosts taken out because their input went quiet (and so may come back).
    private var leftByTimeout: Set<String> = []
    private var encodedFrames = 0
    private var reader: BusReader?
    private var ended = false
    private var failure: MixError?

    init(plan: MixPlan, hubs: InputHubs, label: String, notices: @escaping @Sendable ([Notice]) -> Void,
         warning: @escaping @Sendable (String) -> Void) throws(MixError) {
        self.plan = plan
        self.hubs = hubs
        self.warning = warning
        inputs = plan.inputs
        let state = try MixState(live: plan, onNotices: notices, warning: warning)
        let inputHubs = Dictionary(uniqueKeysWithValues: plan.inputs.map { input in
            (input.index, hubs.hub(for: input.host.input, hasAudio: input.hasAudio, label: "\(label)hosts[\(input.index)] '\(input.host.userId)'"))
        })
        var feed: (video: (Sample) -> Void, audio: (Sample) -> Void)!
        do {
            graph = try MixGraph(plan: plan, state: state, tail: .live(video: { feed.video($0) }, audio: { feed.audio($0) }), hubs: inputHubs)
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
        feed = ({ [weak self] sample in self?.feedVideo(sample) }, { [weak self] sample in self?.feedAudio(sample) })
        outputList = plan.spec.outputs.map { OutputPipeline(target: $0, audioCodec: plan.spec.output.audio.codec, report: warning) }
        hubs.clock.adopt(graph.pipeline)
    }

    /// Starts the outputs and the graph.
    func start() throws(MixError) {
        reader = BusReader(pipeline: graph.pipeline) { [weak self] message in self?.handle(message) }
        for output in outputs_ { output.start() }
        do {
            try graph.pipeline.play()
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
    }

    /// Finalises every output (the recording's last segment is closed) and stops the graph.
    func finish() {
        let outputs = lock.withLock {
            defer { outputList = [] }
            return outputList
        }
        for output in outputs { output.finish() }
        graph.pipeline.stop()
        reader?.stop()
    }

    /// Whether the mix has reached its duration or failed; the failure, if it did.
    var isOver: (over: Bool, failure: MixError?) { lock.withLock { (ended || failure != nil, failure) } }

    // MARK: Changes while it runs

    /// Applies a co-host or battle event; it shows from the next output frame on. A refused
    /// event changes nothing.
    public func apply(_ event: SessionEvent) throws(SessionError) -> [Notice] {
        try graph.state.apply(event)
    }

    /// The session as it stands.
    public var session: Session { graph.state.current }

    /// Lays the mix out with another template from its next output frame on; the canvas stays.
    public func switchTemplate(to template: LayoutTemplate) throws(MixError) {
        do {
            try template.validate(on: plan.canvas.size)
        } catch {
            throw .spec(SpecError(field: "template", "\(template.id) does not suit the canvas: \(error)"))
        }
        try graph.state.switchTemplate(to: template)
    }

    /// Replaces the outputs: those no longer listed are finalised and stopped, new ones start
    /// at the next keyframe, unchanged ones go on.
    public func setOutputs(_ targets: [OutputTarget]) {
        let added = lock.withLock { () -> [OutputPipeline] in
            let fresh = targets.filter { target in !outputList.contains { $0.target == target } }
                .map { OutputPipeline(target: $0, audioCodec: plan.spec.output.audio.codec, report: warning) }
            return fresh
        }
        for output in added { output.start() }
        let removed = lock.withLock { () -> [OutputPipeline] in
            let gone = outputList.filter { !targets.contains($0.target) }
            outputList = outputList.filter { targets.contains($0.target) } + added
            return gone
        }
        for output in removed { output.finish() }
    }

    /// The outputs' targets.
    public var outputs: [OutputTarget] { outputs_.map(\.target) }

    private var outputs_: [OutputPipeline] { lock.withLock { outputList } }

    /// Adds a host with an RTP input: it is received (or shared with another mix of the run
    /// that has it) and can join the session from the next frame on (post `hostJoined`).
    public func addHost(_ host: MixSpec.Host) throws(MixError) {
        guard case .rtp(let rtp) = host.input else {
            throw .spec(SpecError(field: "hosts", "'\(host.userId)': a host added while running needs an RTP input"))
        }
        let known = lock.withLock { inputs }
        if known.contains(where: { $0.host.userId == host.userId }) {
            throw .spec(SpecError(field: "hosts", "'\(host.userId)' is already a host of this mix"))
        }
        guard known.count < plan.template.maxHosts else {
            throw .spec(SpecError(field: "hosts", "the mix has \(known.count) hosts, its template's most"))
        }
        let input = InputPlan(index: known.count, host: host, media: nil, hasAudio: rtp.audio != nil)
        if let clash = hubs.portInUse(by: host.input) {
            throw .spec(SpecError(field: "hosts", "'\(host.userId)' uses port \(clash), which a different input uses"))
        }
        let hub = hubs.hub(for: host.input, hasAudio: input.hasAudio, label: "hosts '\(host.userId)'")
        do {
            try graph.addLiveHost(input, hub: hub)
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
        graph.state.addKnownUser(host.userId)
        lock.withLock { inputs.append(input) }
    }

    /// How the mix is doing.
    public var status: LiveStatus {
        let times = graph.inputTimes()
        let output = times.output ?? 0
        let (inputs, frames) = lock.withLock { (self.inputs, encodedFrames) }
        let sending = inputs.filter { input in
            times.latestFrames[input.index].map { output.saturatingSubtract($0) <= plan.spec.live.staleAfter } ?? false
        }
        return LiveStatus(seconds: Double(output) / 1e9, sending: Set(sending.map(\.host.userId)), hosts: inputs.map(\.host.userId),
                          encodedFrames: frames)
    }

    // MARK: Run loop and streaming threads

    /// Hosts whose input has sent nothing for the disconnect timeout leave the session; a host
    /// that left that way and whose input is sending again joins it again. The run loop calls
    /// this about ten times a second.
    func watchInputs() {
        let times = graph.inputTimes()
        guard let now = times.output else { return }
        let session = graph.state.current
        let live = plan.spec.live
        for input in lock.withLock({ inputs }) {
            let user = input.host.userId
            let silence = now.saturatingSubtract(times.latestFrames[input.index] ?? 0)
            if silence > live.disconnectTimeout, session.connected.contains(user), user != session.owner,
               lock.withLock({ leftByTimeout.insert(user).inserted }) {
                warning("hosts[\(input.index)] '\(user)' sent nothing for \(Double(silence) / 1e9) s; taken as having left")
                _ = try? graph.state.apply(.hostLeft(userId: user))
            } else if silence <= live.staleAfter, !session.connected.contains(user), lock.withLock({ leftByTimeout.remove(user) != nil }) {
                do {
                    try graph.state.apply(.hostJoined(userId: user))
                    warning("hosts[\(input.index)] '\(user)' is sending again; joined again")
                } catch {
                    warning("hosts[\(input.index)] '\(user)' is sending again but cannot join: \(error)")
                }
            }
        }
    }

    private func feedVideo(_ sample: Sample) {
        let outputs = lock.withLock {
            encodedFrames += 1
            return outputList
        }
        for output in outputs { output.feedVideo(sample) }
    }

    private func feedAudio(_ sample: Sample) {
        for output in outputs_ { output.feedAudio(sample) }
    }

    /// Bus thread: end-of-stream ends the mix (its duration is reached); an error fails it.
    /// Inputs' errors arrive on their hubs' buses, not here.
    private func handle(_ message: BusMessage) {
        switch message {
        case .endOfStream: lock.withLock { ended = true }
        case .error(let error): lock.withLock { failure = failure ?? .pipeline(error) }
        case .warning, .element: break
        }
    }
}
