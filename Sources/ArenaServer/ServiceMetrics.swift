import Metrics
import Prometheus

/// The process's swift-metrics backend: a Prometheus registry, for what libraries and the HTTP
/// server record (Hummingbird's `MetricsMiddleware`: requests, errors and their latency as a
/// histogram, by route, method and status) and `arena_build_info`. The service's own figures
/// (mixes, frames, inputs, scores, callbacks) are read at each scrape (`ArenaService.metrics`).
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
}
