import ArenaSession
import Foundation
import GStreamerKit

/// How a live mix is doing, for progress lines and (later) the service's health endpoint.
public struct LiveStatus: Sendable {
    /// Seconds of output made.
    public let seconds: Double
    /// Hosts whose input is sending, by user id.
    public let sending: Set<String>
}

/// Runs a live mix (`arena run`): the output frame clock runs on wall time and never waits
/// for an input; inputs that stop show their placeholder and, after the disconnect timeout,
/// leave the session, joining again when their stream returns; the encode goes to every
/// output at once, each failing and recovering on its own.
public final class LiveMix: @unchecked Sendable {
    private let plan: MixPlan
    private let lock = NSLock()
    private var failure: MixError?
    private let finished = DispatchSemaphore(value: 0)
    /// Hosts this mix took out because their input went quiet (and so may bring back).
    private var leftByTimeout: Set<String> = []
    private var restarting: Set<Int> = []

    public init(plan: MixPlan) {
        self.plan = plan
    }

    /// Runs until `stopped` turns true (polled every 100 ms) or the spec's duration is reached,
    /// then finalises every output. `notices` gets the session's outbound events as they
    /// happen; `warning` one line per problem; `status` about once a second.
    public func run(notices: @escaping ([Notice]) -> Void = { _ in }, warning: @escaping (String) -> Void = { _ in },
                    status: ((LiveStatus) -> Void)? = nil, stopped: @escaping () -> Bool) throws(MixError) {
        let state = try MixState(live: plan, onNotices: notices, warning: warning)
        var outputs: [OutputPipeline] = []
        let mix: MixPipeline
        do {
            let box = OutputList()
            mix = try MixPipeline(plan: plan, state: state, output: .live(
                video: { sample in for output in box.outputs { output.feedVideo(sample) } },
                audio: { sample in for output in box.outputs { output.feedAudio(sample) } }))
            outputs = plan.spec.outputs.map { target in
                OutputPipeline(target: target, audioCodec: plan.spec.output.audio.codec, report: warning)
            }
            box.outputs = outputs
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }
        let reader = BusReader(pipeline: mix.pipeline) { [weak self, weak mix] message in
            guard let self, let mix else { return }
            self.handle(message, mix: mix, warning: warning)
        }
        defer {
            mix.pipeline.stop()
            reader.stop()
        }
        for output in outputs { output.start() }
        do {
            try mix.pipeline.play()
        } catch {
            throw .pipeline(error as? GStreamerError ?? GStreamerError(message: "\(error)"))
        }

        var lastStatus = Date()
        while finished.wait(timeout: .now() + 0.1) == .timedOut, !stopped() {
            watchInputs(mix, state: state, warning: warning)
            if let status, Date().timeIntervalSince(lastStatus) >= 1 {
                lastStatus = Date()
                status(currentStatus(mix))
            }
        }
        // Ending: the outputs get end-of-stream after what they have, and close their files.
        for output in outputs { output.finish() }
        lock.lock()
        let failed = failure
        lock.unlock()
        if let failed { throw failed }
    }

    private func currentStatus(_ mix: MixPipeline) -> LiveStatus {
        let times = mix.inputTimes()
        let output = times.output ?? 0
        let sending = plan.inputs.filter { input in
            times.latestFrames[input.index].map { output.saturatingSubtract($0) <= plan.spec.live.staleAfter } ?? false
        }
        return LiveStatus(seconds: Double(output) / 1e9, sending: Set(sending.map(\.host.userId)))
    }

    /// Hosts whose input has sent nothing for the disconnect timeout leave the session; a host
    /// that left that way and whose input is sending again joins it again.
    private func watchInputs(_ mix: MixPipeline, state: MixState, warning: (String) -> Void) {
        let times = mix.inputTimes()
        guard let now = times.output else { return }
        let session = state.current
        for input in plan.inputs {
            let user = input.host.userId
            let silence = now.saturatingSubtract(times.latestFrames[input.index] ?? 0)
            if silence > plan.spec.live.disconnectTimeout, session.connected.contains(user), user != session.owner,
               leftByTimeout.insert(user).inserted {
                warning("hosts[\(input.index)] '\(user)' sent nothing for \(Double(silence) / 1e9) s; taken as having left")
                _ = try? state.apply(.hostLeft(userId: user))
            } else if silence <= plan.spec.live.staleAfter, leftByTimeout.contains(user), !session.connected.contains(user) {
                leftByTimeout.remove(user)
                do {
                    try state.apply(.hostJoined(userId: user))
                    warning("hosts[\(input.index)] '\(user)' is sending again; joined again")
                } catch {
                    warning("hosts[\(input.index)] '\(user)' is sending again but cannot join: \(error)")
                }
            }
        }
    }

    /// Bus thread: an input's error restarts that input after a pause (it may come back);
    /// any other error ends the mix.
    private func handle(_ message: BusMessage, mix: MixPipeline, warning: @escaping (String) -> Void) {
        switch message {
        case .endOfStream:
            finished.signal()
        case .error(let error):
            switch MixPipeline.origin(ofElementPath: error.source ?? "") {
            case .input(let index):
                lock.lock()
                let first = restarting.insert(index).inserted
                lock.unlock()
                guard first else { return }
                warning("hosts[\(index)] '\(plan.inputs[index].host.userId)' input broke (\(error.message)); showing its placeholder until it sends again")
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { [weak self, weak mix] in
                    mix?.restartInput(index)
                    self?.lock.lock()
                    self?.restarting.remove(index)
                    self?.lock.unlock()
                }
            case .detached:
                break
            case .mix:
                lock.lock()
                if failure == nil { failure = .pipeline(error) }
                lock.unlock()
                finished.signal()
            }
        case .warning, .element:
            break
        }
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
