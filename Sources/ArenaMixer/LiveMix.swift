import ArenaLayout
import ArenaSession
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

/// Runs live mixes (`arena run`): the output frame clock runs on wall time and never waits
/// for an input; inputs that stop show their placeholder and, after the disconnect timeout,
/// leave the session, joining again when their stream returns; each mix's encode goes to all
/// its outputs at once, each failing and recovering on its own.
///
/// Several mixes can run together, as the rooms of one co-host session do (each with its own
/// host in slot 0): an input that more than one of them names is received and decoded once.
public final class LiveMix: @unchecked Sendable {
    private let plans: [MixPlan]
    private let lock = NSLock()
    private var failure: MixError?
    private let finished = DispatchSemaphore(value: 0)
    /// Per mix: hosts it took out because their input went quiet (and so may bring back).
    private var leftByTimeout: [Set<String>]
    /// Each mix's state, pipeline and encoded frame count while the run is on (guarded by `lock`).
    private var states: [MixState] = []
    private var pipelines: [MixPipeline] = []
    private var frameCounters: [FrameCounter] = []
    private var outputLists: [OutputList] = []
    private var warn: (String) -> Void = { _ in }
    /// Each mix's inputs, its plan's and any added while running; the hubs and their clock.
    private var mixInputs: [[InputPlan]]
    private var hubs: [InputHub] = []
    private var clock: SharedClock?

    /// One mix, or several that may share inputs (same RTP ports or the same URI).
    public init(plans: [MixPlan]) {
        self.plans = plans
        leftByTimeout = Array(repeating: [], count: plans.count)
        mixInputs = plans.map(\.inputs)
    }

    public convenience init(plan: MixPlan) {
        self.init(plans: [plan])
    }

    /// Applies a co-host or battle event to mix `index` while it runs; it shows from the next
    /// output frame on. Nil when the mix is not running; a refused event changes nothing.
    public func apply(_ event: SessionEvent, toMix index: Int = 0) throws(SessionError) -> [Notice]? {
        lock.lock()
        let state = index < states.count ? states[index] : nil
        lock.unlock()
        return try state?.apply(event)
    }

    /// Mix `index`'s session as it stands, while it runs.
    public func session(ofMix index: Int = 0) -> Session? {
        lock.lock()
        let state = index < states.count ? states[index] : nil
        lock.unlock()
        return state?.current
    }

    /// Lays mix `index` out with another template (from the same library) from its next
    /// output frame on; the canvas stays. False when the mix is not running.
    public func switchTemplate(to template: LayoutTemplate, ofMix index: Int = 0) throws(MixError) -> Bool {
        lock.lock()
        let state = index < states.count ? states[index] : nil
        lock.unlock()
        guard let state else { return false }
        do {
            try template.validate(on: plans[index].canvas.size)
        } catch {
            throw .spec(SpecError(field: "template", "\(template.id) does not suit the canvas: \(error)"))
        }
        try state.switchTemplate(to: template)
        return true
    }

    /// Replaces mix `index`'s outputs while it runs: outputs no longer listed are finalised and
    /// stopped, new ones start at the next keyframe, unchanged ones go on. False when the mix is
    /// not running.
    public func setOutputs(_ targets: [OutputTarget], ofMix index: Int = 0) -> Bool {
        lock.lock()
        let list = index < outputLists.count ? outputLists[index] : nil
        let report = warn
        lock.unlock()
        guard let list else { return false }
        let current = list.outputs
        let kept = current.filter { targets.contains($0.target) }
        let added = targets.filter { target in !current.contains { $0.target == target } }.map { target in
            OutputPipeline(target: target, audioCodec: plans[index].spec.output.audio.codec,
                           report: { report(self.plans.count > 1 ? "mix \(index): \($0)" : $0) })
        }
        for output in added { output.start() }
        list.outputs = kept + added
        for output in current where !targets.contains(output.target) { output.finish() }
        return true
    }

    /// Adds a host to mix `index` while it runs: its input is received (or shared with another
    /// mix that has it) and it can join the session from the next frame on (post `hostJoined`).
    /// False when the mix is not running.
    public func addHost(_ host: MixSpec.Host, toMix index: Int = 0) throws(MixError) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard index < pipelines.count, let clock else { return false }
        let known = mixInputs[index]
        if known.contains(where: { $0.host.userId == host.userId }) {
            throw .spec(SpecError(field: "hosts", "'\(host.userId)' is already a host of this mix"))
        }
        guard known.count < plans[index].template.maxHosts else {
            throw .spec(SpecError(field: "hosts", "the mix has \(known.count) hosts, its template's most"))
        }
        guard case .rtp(let rtp) = host.input else {
            throw .spec(SpecError(field: "hosts", "'\(host.userId)': a host added while running needs an RTP input"))
        }
        if let clash = mixInputs.joined().first(where: { other in
            guard case .rtp(let used) = other.host.input, other.host.input != host.input else { return false }
            return !Set(used.ports).isDisjoint(with: rtp.ports)
        }) {
            throw .spec(SpecError(field: "hosts", "'\(host.userId)' uses a port of '\(clash.host.userId)''s different input"))
        }
        let input = InputPlan(index: known.count, host: host, media: nil, hasAudio: rtp.audio != nil)
        let hub: InputHub
        if let shared = hubs.first(where: { $0.source == host.input }) {
            hub = shared
        } else {
            hub = InputHub(source: host.input, hasAudio: input.hasAudio,
                           frameDuration: nanosecondsPerSecond / UInt64(plans[index].canvas.framesPerSecond),
                           label: "hosts '\(host.userId)'", warning: warn)
            hubs.append(hub)
            hub.start(on: clock)
        }
        do {
            try pipelines[index].addLiveHost(input, hub: hub)
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
        states[index].addKnownUser(host.userId)
        mixInputs[index].append(input)
        return true
    }

    /// Mix `index`'s outputs while it runs.
    public func outputs(ofMix index: Int = 0) -> [OutputTarget]? {
        lock.lock()
        let list = index < outputLists.count ? outputLists[index] : nil
        lock.unlock()
        return list?.outputs.map(\.target)
    }

    /// How mix `index` is doing, while it runs.
    public func status(ofMix index: Int = 0) -> LiveStatus? {
        lock.lock()
        let running = index < pipelines.count ? (pipelines[index], frameCounters[index]) : nil
        lock.unlock()
        guard let (pipeline, counter) = running else { return nil }
        return currentStatus(ofMix: index, pipeline, frames: counter.value)
    }

    /// How many inputs are received and decoded: one per distinct input of all the mixes.
    public var decodedInputCount: Int { Self.distinctInputs(plans).count }

    /// Runs until `stopped` turns true (polled every 100 ms) or every mix's duration is
    /// reached, then finalises every output. `notices` gets each mix's outbound events (with
    /// its index in `plans`) as they happen; `warning` one line per problem; `status` mix 0's
    /// state about once a second.
    public func run(notices: @escaping (Int, [Notice]) -> Void = { _, _ in }, warning: @escaping (String) -> Void = { _ in },
                    status: ((LiveStatus) -> Void)? = nil, stopped: @escaping () -> Bool) throws(MixError) {
        let prefix = { (index: Int, text: String) in self.plans.count > 1 ? "mix \(index): \(text)" : text }
        try Self.checkPorts(plans)
        let hubs = Self.distinctInputs(plans).map { input in
            InputHub(source: input.source, hasAudio: input.hasAudio, frameDuration: nanosecondsPerSecond / UInt64(plans[0].canvas.framesPerSecond),
                     label: input.label, warning: warning)
        }
        var mixes: [(pipeline: MixPipeline, state: MixState, outputs: OutputList, reader: BusReader)] = []
        defer {
            for mix in mixes {
                mix.pipeline.pipeline.stop()
                mix.reader.stop()
            }
            for hub in hubs { hub.stop() }
        }
        let clock = SharedClock()
        var counters: [FrameCounter] = []
        for (index, plan) in plans.enumerated() {
            let state = try MixState(live: plan, onNotices: { notices(index, $0) }, warning: { warning(prefix(index, $0)) })
            let box = OutputList()
            let counter = FrameCounter()
            counters.append(counter)
            let mix: MixPipeline
            do {
                let inputHubs = Dictionary(uniqueKeysWithValues: plan.inputs.map { input in
                    (input.index, hubs.first { $0.source == input.host.input }!)
                })
                mix = try MixPipeline(plan: plan, state: state, output: .live(
                    video: { sample in
                        counter.increment()
                        for output in box.outputs { output.feedVideo(sample) }
                    },
                    audio: { sample in for output in box.outputs { output.feedAudio(sample) } }), hubs: inputHubs)
            } catch {
                throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
            }
            let outputs = plan.spec.outputs.map { target in
                OutputPipeline(target: target, audioCodec: plan.spec.output.audio.codec, report: { warning(prefix(index, $0)) })
            }
            box.outputs = outputs
            let reader = BusReader(pipeline: mix.pipeline) { [weak self] message in self?.handle(message) }
            mixes.append((mix, state, box, reader))
            clock.adopt(mix.pipeline)
        }
        lock.lock()
        self.hubs = hubs
        self.clock = clock
        states = mixes.map(\.state)
        pipelines = mixes.map(\.pipeline)
        frameCounters = counters
        outputLists = mixes.map(\.outputs)
        warn = warning
        lock.unlock()
        defer {
            lock.lock()
            states = []
            pipelines = []
            frameCounters = []
            outputLists = []
            let added = self.hubs.filter { hub in !hubs.contains { $0 === hub } }
            self.hubs = []
            self.clock = nil
            lock.unlock()
            for hub in added { hub.stop() }
        }
        for hub in hubs { hub.start(on: clock) }
        for mix in mixes {
            for output in mix.outputs.outputs { output.start() }
            do {
                try mix.pipeline.pipeline.play()
            } catch {
                throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
            }
        }

        var lastStatus = Date()
        var ended = 0
        while ended < mixes.count, !stopped() {
            if finished.wait(timeout: .now() + 0.1) == .success { ended += 1 }
            for (index, mix) in mixes.enumerated() { watchInputs(of: index, mix.pipeline, state: mix.state, warning: { warning(prefix(index, $0)) }) }
            if let status, Date().timeIntervalSince(lastStatus) >= 1 {
                lastStatus = Date()
                status(currentStatus(ofMix: 0, mixes[0].pipeline, frames: counters[0].value))
            }
            lock.lock()
            let failed = failure != nil
            lock.unlock()
            if failed { break }
        }
        // Ending: the outputs get end-of-stream after what they have, and close their files.
        for mix in mixes {
            let outputs = mix.outputs.outputs
            mix.outputs.outputs = []
            for output in outputs { output.finish() }
        }
        lock.lock()
        let failed = failure
        lock.unlock()
        if let failed { throw failed }
    }

    /// Two different RTP inputs cannot listen on one port (the same input in two mixes can).
    private static func checkPorts(_ plans: [MixPlan]) throws(MixError) {
        var owners: [Int: (source: InputSource, field: String)] = [:]
        for (index, plan) in plans.enumerated() {
            for input in plan.inputs {
                guard case .rtp(let rtp) = input.host.input else { continue }
                let field = (plans.count > 1 ? "mix \(index): " : "") + "hosts[\(input.index)].input.rtp"
                for port in rtp.ports {
                    if let owner = owners[port], owner.source != input.host.input {
                        throw .spec(SpecError(field: field, "uses port \(port), which \(owner.field) uses for a different input"))
                    }
                    owners[port] = (input.host.input, field)
                }
            }
        }
    }

    /// The inputs of all mixes, each once, with a name for messages.
    private static func distinctInputs(_ plans: [MixPlan]) -> [(source: InputSource, hasAudio: Bool, label: String)] {
        var inputs: [(source: InputSource, hasAudio: Bool, label: String)] = []
        for (index, plan) in plans.enumerated() {
            for input in plan.inputs where !inputs.contains(where: { $0.source == input.host.input }) {
                let label = (plans.count > 1 ? "mix \(index): " : "") + "hosts[\(input.index)] '\(input.host.userId)'"
                inputs.append((input.host.input, input.hasAudio, label))
            }
        }
        return inputs
    }

    private func currentStatus(ofMix index: Int, _ mix: MixPipeline, frames: Int) -> LiveStatus {
        let times = mix.inputTimes()
        let output = times.output ?? 0
        lock.lock()
        let inputs = mixInputs[index]
        lock.unlock()
        let sending = inputs.filter { input in
            times.latestFrames[input.index].map { output.saturatingSubtract($0) <= plans[index].spec.live.staleAfter } ?? false
        }
        return LiveStatus(seconds: Double(output) / 1e9, sending: Set(sending.map(\.host.userId)), hosts: inputs.map(\.host.userId),
                          encodedFrames: frames)
    }

    /// Hosts whose input has sent nothing for the disconnect timeout leave the session; a host
    /// that left that way and whose input is sending again joins it again.
    private func watchInputs(of index: Int, _ mix: MixPipeline, state: MixState, warning: (String) -> Void) {
        let plan = plans[index]
        let times = mix.inputTimes()
        guard let now = times.output else { return }
        let session = state.current
        lock.lock()
        let inputs = mixInputs[index]
        lock.unlock()
        for input in inputs {
            let user = input.host.userId
            let silence = now.saturatingSubtract(times.latestFrames[input.index] ?? 0)
            if silence > plan.spec.live.disconnectTimeout, session.connected.contains(user), user != session.owner,
               leftByTimeout[index].insert(user).inserted {
                warning("hosts[\(input.index)] '\(user)' sent nothing for \(Double(silence) / 1e9) s; taken as having left")
                _ = try? state.apply(.hostLeft(userId: user))
            } else if silence <= plan.spec.live.staleAfter, leftByTimeout[index].contains(user), !session.connected.contains(user) {
                leftByTimeout[index].remove(user)
                do {
                    try state.apply(.hostJoined(userId: user))
                    warning("hosts[\(input.index)] '\(user)' is sending again; joined again")
                } catch {
                    warning("hosts[\(input.index)] '\(user)' is sending again but cannot join: \(error)")
                }
            }
        }
    }

    /// Bus thread of a mix: end-of-stream ends that mix (its duration is reached); an error
    /// ends the run. Inputs' errors arrive on their hubs' buses, not here.
    private func handle(_ message: BusMessage) {
        switch message {
        case .endOfStream:
            finished.signal()
        case .error(let error):
            lock.lock()
            if failure == nil { failure = .pipeline(error) }
            lock.unlock()
            finished.signal()
        case .warning, .element:
            break
        }
    }
}

/// Counts encoded video frames (the encoder's thread) for readers anywhere.
private final class FrameCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}

/// The outputs, set once they exist; read by the encoders' threads.
private final class OutputList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [OutputPipeline] = []
    var outputs: [OutputPipeline] {
        get { lock.lock(); defer { lock.unlock() }; return list }
        set { lock.lock(); list = newValue; lock.unlock() }
    }
}
