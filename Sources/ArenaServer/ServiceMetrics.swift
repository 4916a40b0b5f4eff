import Metrics
import Prometheus

/// The process's swift-metrics backend: a Prometheus registry, for what libraries and the HTTP
/// server record (Hummingbird's `MetricsMiddleware`: requests, errors and their latency as a
/// histogram, by route, method and status) and `arena_build_info`. The service's own figures
/// (mixes, frames, inputs, scores, callbacks) are read at each scrape (`serviceText`).
enum ServiceMetrics {
    /// Made, and swift-metrics bootstrapped with it, on first use (once a process).
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                                   .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                                   .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)]
        factory.nameAndLabelSanitizer = { name, labels in (names[name] ?? name, labels.map { (labelNames[$0.0] ?? $0.0, $0.1) }) }
        MetricsSystem.bootstrap(factory)
        registry.makeGauge(name: "arena_build_info", labels: [("version", ArenaBuild.version)],
                           help: "1, labelled with this build's version.").set(to: 1.0)
        return registry
    }()

    /// Hummingbird's metric names, as Prometheus names them.
    private static let names = ["hb.requests": "arena_http_requests_total", "hb.request.errors": "arena_http_request_errors_total",
                                "http.server.request.duration": "arena_http_request_duration_seconds",
                                "http.server.active_requests": "arena_http_active_requests"]
    private static let labelNames = ["http.route": "route", "http.request.method": "method", "http.response.status_code": "status",
                                     "error.type": "status"]

    /// Everything recorded through swift-metrics, in Prometheus text.
    static var text: String { registry.emitToString() }

    /// Prometheus text, read at each scrape: mixes, their frames and inputs, score updates, the callback backlog.
    static func serviceText(mixes: MixRegistry, battles: BattleDesk, store: any ArenaStore) async -> String {
        let backlog = (try? await store.callbackBacklog()) ?? -1
        var lines: [String] = []
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            lines += ["# HELP \(name) \(help)", "# TYPE \(name) \(type)"] + samples.map { "\(name)\($0.labels) \($0.value)" }
        }
        let entries = mixes.all
        let states = Dictionary(grouping: entries, by: \.status).mapValues(\.count)
        family("arena_mixes", "gauge", "Mixes by state.", MixEntry.Status.allCases.map { ("{state=\"\($0.rawValue)\"}", String(states[$0] ?? 0)) })
        let running = entries.compactMap { entry in entry.mix.map { (entry, $0.status) } }
        family("arena_mix_output_seconds", "gauge", "Seconds of output a mix has made.",
               running.map { ("{mix=\"\($0.0.id)\"}", String(format: "%.3f", $0.1.seconds)) })
        family("arena_mix_output_lag_seconds", "gauge", "How far a mix's latest output frame is behind the clock: the wait for its inputs plus compositing.",
               running.compactMap { entry, status in status.outputLagSeconds.map { ("{mix=\"\(entry.id)\"}", String(format: "%.3f", $0)) } })
        family("arena_mix_frames_per_second", "gauge", "A mix's output frame rate.",
               running.map { ("{mix=\"\($0.0.id)\"}", String($0.0.plan.canvas.framesPerSecond)) })
        family("arena_mix_frames_encoded_total", "counter", "Video frames a mix has encoded.",
               running.map { ("{mix=\"\($0.0.id)\"}", String($0.1.encodedFrames)) })
        family("arena_mix_frames_missing_total", "counter", "Frames the output clock called for that were not encoded (dropped or late).",
               running.map { entry, status in
                   ("{mix=\"\(entry.id)\"}", String(max(0, Int(status.seconds * Double(entry.plan.canvas.framesPerSecond)) - status.encodedFrames)))
               })
        family("arena_input_sending", "gauge", "1 while a host's input is sending frames.", running.flatMap { entry, status in
            status.hosts.map { ("{mix=\"\(entry.id)\",host=\"\(labelValue($0))\"}", status.sending.contains($0) ? "1" : "0") }
        })
        family("arena_input_broken_picture_seconds_total", "counter",
               "Seconds an RTP input's picture was broken (from a loss or decoder error to the next whole picture).",
               running.flatMap { perHost($0.0.id, $0.1.brokenPictureSeconds) })
        family("arena_input_delay_seconds", "gauge",
               "How much later than its own time a live host is shown, because its frames come in that late (the other hosts do not wait for it).",
               running.flatMap { perHost($0.0.id, $0.1.inputDelaySeconds) })
        let counts = battles.scoreUpdateCounts
        family("arena_score_updates_total", "counter", "Score updates applied, and retries answered from the ledger.",
               [("{result=\"applied\"}", String(counts.applied)), ("{result=\"replayed\"}", String(counts.replayed))])
        family("arena_callback_backlog", "gauge", "Callbacks not yet delivered.", [("", String(backlog))])
        return lines.joined(separator: "\n") + "\n"
    }

    /// One sample per host of mix `mix`, in seconds, in user-id order.
    static func perHost(_ mix: String, _ seconds: [String: Double]) -> [(String, String)] {
        seconds.sorted { $0.key < $1.key }.map { ("{mix=\"\(mix)\",host=\"\(labelValue($0.key))\"}", String(format: "%.3f", $0.value)) }
    }

    /// A Prometheus label value: backslash, double quote and newline escaped, as the text
    /// format asks, so that a user id cannot end its label or add a line.
    static func labelValue(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
