// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Arena",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "arena", targets: ["arena"]),
        // For the benchmarks package in benchmarks/.
        .library(name: "ArenaSpec", targets: ["ArenaSpec"]),
        .library(name: "ArenaLayout", targets: ["ArenaLayout"]),
        .library(name: "ArenaSession", targets: ["ArenaSession"]),
        .library(name: "ArenaOverlay", targets: ["ArenaOverlay"]),
        .library(name: "ArenaMixer", targets: ["ArenaMixer"]),
        .library(name: "GStreamerKit", targets: ["GStreamerKit"]),
        // For the live benchmarks' senders and receivers only.
        .library(name: "GStreamerTestSupport", targets: ["GStreamerTestSupport"]),
        .library(name: "ArenaServer", targets: ["ArenaServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.30.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // GStreamer core, base, video, audio, app and pbutils: one Clang module, because
        // their headers include each other and split modules would duplicate the C types.
        .systemLibrary(
            name: "CGStreamer",
            pkgConfig: "gstreamer-pbutils-1.0",
            providers: [.apt(["libgstreamer1.0-dev", "libgstreamer-plugins-base1.0-dev"])]
        ),
        // Cairo and Pango, through PangoCairo (which brings Cairo's headers).
        .systemLibrary(name: "CCairo", pkgConfig: "pangocairo", providers: [.apt(["libcairo2-dev", "libpango1.0-dev"])]),
        .target(name: "CArenaShim", dependencies: ["CGStreamer"], linkerSettings: [.linkedLibrary("gstnet-1.0"), .linkedLibrary("gio-2.0")]),
        // glibc's malloc settings: arenas per process, and giving freed memory back.
        .target(name: "CArenaMemory"),
        // Opening a path only if it resolves inside a folder (openat2 RESOLVE_BENEATH).
        .target(name: "CArenaFiles"),
        // Painting host cells into the output frame with libyuv's scalers (Debian libyuv-dev).
        .target(name: "CArenaPaint", linkerSettings: [.linkedLibrary("yuv")]),
        // arenavideodec: H.264/H.265 on libavcodec, handing its pictures on without a copy (Debian libavcodec-dev).
        .target(name: "CArenaDecoder", dependencies: ["CGStreamer"], linkerSettings: [.linkedLibrary("avcodec"), .linkedLibrary("avutil")]),
        .target(name: "GStreamerKit", dependencies: ["CGStreamer", "CArenaShim", "CArenaDecoder"]),
        .target(name: "ArenaLayout"),
        .target(name: "ArenaSession"),
        // Test-only helpers: pipelines from constant gst-launch text, frame and sample decoders, a free port.
        .target(name: "GStreamerTestSupport", dependencies: ["GStreamerKit", "CGStreamer"]),
        .target(name: "ArenaSpec", dependencies: ["ArenaLayout", "ArenaSession", "CArenaFiles"]),
        // HTTP to URLs from outside (avatars, callbacks): checked addresses, no unchecked redirect, bounded.
        .target(name: "ArenaFetch", dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")]),
        .target(name: "ArenaOverlay", dependencies: ["CCairo", "CArenaPaint", "ArenaSpec", "ArenaLayout", "ArenaSession"]),
        .target(name: "ArenaFrame", dependencies: ["ArenaLayout", "ArenaSession", "ArenaSpec", "ArenaOverlay"]),
        .target(name: "ArenaMixer", dependencies: ["GStreamerKit", "CArenaFiles", "CArenaPaint", "ArenaFetch", "ArenaSpec", "ArenaLayout", "ArenaSession", "ArenaOverlay", "ArenaFrame"]),
        .target(
            name: "ArenaServer",
            dependencies: [
                "ArenaMixer", "ArenaSpec", "ArenaSession", "ArenaFetch", "CArenaMemory",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "arena",
            dependencies: [
                "ArenaMixer", "ArenaSpec", "ArenaLayout", "ArenaServer", "CArenaMemory",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Test-only: a PostgreSQL 15 server (Debian's package), a callback receiver, blocking work on a thread.
        .target(name: "ArenaTestSupport", dependencies: ["GStreamerTestSupport", .product(name: "Hummingbird", package: "hummingbird")],
                path: "Tests/ArenaTestSupport"),
        .testTarget(name: "ArenaLayoutTests", dependencies: ["ArenaLayout"]),
        .testTarget(name: "ArenaSessionTests", dependencies: ["ArenaSession"]),
        .testTarget(name: "GStreamerKitTests", dependencies: ["GStreamerKit", "GStreamerTestSupport", "CGStreamer"]),
        .testTarget(name: "ArenaSpecTests", dependencies: ["ArenaSpec"]),
        .testTarget(name: "ArenaFrameTests", dependencies: ["ArenaFrame", "ArenaLayout", "ArenaSession", "ArenaOverlay"]),
        .testTarget(name: "ArenaOverlayTests", dependencies: ["ArenaOverlay", "ArenaSpec"]),
        .testTarget(name: "ArenaMixerTests", dependencies: ["ArenaMixer", "ArenaSpec", "ArenaFrame", "ArenaOverlay", "CArenaPaint", "GStreamerKit", "GStreamerTestSupport"]),
        .testTarget(
            name: "ArenaServerTests",
            dependencies: [
                "ArenaServer", "ArenaMixer", "ArenaSpec", "GStreamerKit", "GStreamerTestSupport", "ArenaTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Runs the built `arena` binary; depending on it makes `swift test` build it.
        .testTarget(name: "ArenaCLITests", dependencies: ["arena", "GStreamerKit", "GStreamerTestSupport", "ArenaTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
