// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Arena",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "arena", targets: ["arena"]),
        // For the benchmarks package in benchmarks/.
        .library(name: "ArenaLayout", targets: ["ArenaLayout"]),
        .library(name: "ArenaSession", targets: ["ArenaSession"]),
        .library(name: "ArenaOverlay", targets: ["ArenaOverlay"]),
        .library(name: "ArenaMixer", targets: ["ArenaMixer"]),
        .library(name: "GStreamerKit", targets: ["GStreamerKit"]),
        .library(name: "ArenaServer", targets: ["ArenaServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
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
        .target(name: "CArenaShim", dependencies: ["CGStreamer"]),
        .target(name: "GStreamerKit", dependencies: ["CGStreamer", "CArenaShim"]),
        .target(name: "ArenaLayout"),
        .target(name: "ArenaSession"),
        .target(name: "ArenaOverlay", dependencies: ["CCairo", "ArenaLayout", "ArenaSession"]),
        .target(name: "ArenaMixer", dependencies: ["GStreamerKit", "ArenaLayout", "ArenaSession", "ArenaOverlay"]),
        .target(
            name: "ArenaServer",
            dependencies: [
                "ArenaMixer", "ArenaSession",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(
            name: "arena",
            dependencies: [
                "ArenaMixer", "ArenaLayout", "ArenaServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "ArenaLayoutTests", dependencies: ["ArenaLayout"]),
        .testTarget(name: "ArenaSessionTests", dependencies: ["ArenaSession"]),
        .testTarget(name: "ArenaOverlayTests", dependencies: ["ArenaOverlay"]),
        .testTarget(name: "ArenaMixerTests", dependencies: ["ArenaMixer", "GStreamerKit"]),
        .testTarget(
            name: "ArenaServerTests",
            dependencies: [
                "ArenaServer", "ArenaMixer", "GStreamerKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Runs the built `arena` binary; depending on it makes `swift test` build it.
        .testTarget(name: "ArenaCLITests", dependencies: ["arena", "GStreamerKit"]),
    ],
    swiftLanguageModes: [.v5]
)
