// swift-tools-version:6.1
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its folder, which is wherever the repo was cloned.
let arena = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()

// Benchmarks kept out of the main build: micro-benchmarks of Arena's per-event and per-frame
// work (`swift package benchmark`), and live latency and capacity (`swift run -c release ArenaLive`).
let package = Package(
    name: "ArenaMicroBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
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
                .product(name: "ArenaLayout", package: arena),
                .product(name: "GStreamerKit", package: arena),
            ],
            path: "Live/ArenaLive"
        ),
    ],
    swiftLanguageModes: [.v5]
)
