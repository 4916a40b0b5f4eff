// swift-tools-version:6.1
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which is wherever the repo was cloned.
let arena = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()

// Benchmarks kept out of the main build: micro-benchmarks of Arena's per-event and per-frame
// work (`swift package benchmark`), live latency and capacity (`swift run -c release ArenaLive`), and the
// PK score API's throughput and score-to-screen time (`swift run -c release ArenaScores`).
let package = Package(
    name: "ArenaMicroBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.0"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.0"),
        .package(url: "https://github.com/swift-server/swift-openapi-async-http-client", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .executableTarget(
            name: "ArenaMicro",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ArenaLayout", package: arena),
                .product(name: "ArenaSession", package: arena),
                .product(name: "ArenaOverlay", package: arena),
            ],
            path: "Benchmarks/ArenaMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ArenaLive",
            dependencies: [
                .product(name: "ArenaMixer", package: arena),
                .product(name: "ArenaSpec", package: arena),
                .product(name: "ArenaLayout", package: arena),
                .product(name: "GStreamerKit", package: arena),
                .product(name: "GStreamerTestSupport", package: arena),
            ],
            path: "Live/ArenaLive"
        ),
        .executableTarget(
            name: "ArenaScores",
            dependencies: [
                .product(name: "ArenaServer", package: arena),
                .product(name: "GStreamerKit", package: arena),
                .product(name: "GStreamerTestSupport", package: arena),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "OpenAPIAsyncHTTPClient", package: "swift-openapi-async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Live/ArenaScores",
            // A client generated from assets/openapi.yaml at build time, as a platform's would be.
            plugins: [.plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
    ],
    swiftLanguageModes: [.v5]
)
