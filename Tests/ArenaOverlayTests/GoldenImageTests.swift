import ArenaLayout
import ArenaOverlay
import ArenaSpec
import Foundation
import Testing

/// Rendered scenes against committed reference PNGs (360 x 640, overlays over mid-grey).
/// `make golden` (ARENA_UPDATE_GOLDEN=1) writes them anew; do that only on purpose, and
/// look at the pictures before committing them.
@Suite struct GoldenImageTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let updating = ProcessInfo.processInfo.environment["ARENA_UPDATE_GOLDEN"] == "1"

    static let fullCell = Rect(x: 0, y: 0, width: 360, height: 640)
    static let scenes: [(String, OverlayState)] = [
        ("1v1-0-0", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                 battle: battle(["alice", "bob"], scores: [:]))),
        ("1v1-3-1", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                 battle: battle(["alice", "bob"], scores: ["alice": 3, "bob": 1]))),
        ("3-hosts-tie", OverlayState(canvas: canvas, hosts: [host("alice", threeCells[0]), host("bob", threeCells[1]), host("carol", threeCells[2])],
                                     battle: battle(["alice", "bob", "carol"], scores: ["alice": 120, "bob": 120, "carol": 7]))),
        // bob has an avatar image (four coloured quarters), alice the default avatar.
        ("camera-off", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0], avatar: true),
                                                            host("bob", twoCells[1], micOff: true, avatar: true)], battle: nil)),
        ("cjk-emoji-long", OverlayState(canvas: canvas, hosts: [
            host("a", threeCells[0], name: "主播小明的直播间"), host("b", threeCells[1], name: "🔥Ace🔥"),
            host("c", threeCells[2], name: "A name far too long for its little cell"),
        ], battle: nil)),
        ("timer-4-59", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                    battle: battle(["alice", "bob"], scores: [:], remaining: 299 * second))),
        ("timer-pk-end", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                      battle: battle(["alice", "bob"], scores: ["alice": 2], remaining: 0, sinceStart: 300 * second,
                                                     sinceEnd: 6 * second, outcome: .win))),
        ("win", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                             battle: battle(["alice", "bob"], scores: ["alice": 9, "bob": 1], remaining: 0, sinceStart: 300 * second,
                                            sinceEnd: second, outcome: .win))),
        ("lose", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                              battle: battle(["alice", "bob"], scores: ["alice": 1, "bob": 9], remaining: 0, sinceStart: 300 * second,
                                             sinceEnd: second, outcome: .lose))),
        ("draw", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                              battle: battle(["alice", "bob"], scores: ["alice": 4, "bob": 4], remaining: 0, sinceStart: 300 * second,
                                             sinceEnd: second, outcome: .draw))),
        ("vs", OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                            battle: battle(["alice", "bob"], scores: [:], remaining: 300 * second, sinceStart: 0))),
    ]

    /// A 64 x 48 picture in four colours, so that the crop into the circle shows.
    static let quarters = OverlayImage(x: 0, y: 0, width: 64, height: 48, pixels: (0..<48).flatMap { y in
        (0..<64).map { x -> UInt32 in
            switch (x < 32, y < 24) {
            case (true, true): return 0xFFE0_3030
            case (false, true): return 0xFF30_B040
            case (true, false): return 0xFF30_60E0
            case (false, false): return 0xFFF0_D020
            }
        }
    })

    /// The SDK example's skin (`assets/skins/sdk-example.json`): scores at each battler's bottom-right.
    static let exampleScenes = ["1v1-3-1", "3-hosts-tie", "win"]

    @Test(arguments: scenes.map(\.0))
    func matchesItsReference(name: String) throws {
        try compare(name, skin: defaultSkin, file: name)
    }

    @Test(arguments: exampleScenes)
    func theExampleSkinMatchesItsReference(name: String) throws {
        var theme = OverlayTheme()
        theme.skin = .bundled("sdk-example")
        try compare(name, skin: try SkinLibrary.resolve(theme), file: "sdk-example-\(name)")
    }

    private func compare(_ name: String, skin: Skin, file name2: String) throws {
        let state = Self.scenes.first { $0.0 == name }!.1
        let rendered = scene(state, renderer: OverlayRenderer(canvas: canvas, skin: skin, avatars: ["bob": Self.quarters]))
        let file = Self.folder.appendingPathComponent("\(name2).png").path
        if Self.updating {
            try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
            #expect(rendered.writePNG(to: file))
            return
        }
        let reference = try #require(OverlayImage(pngFile: file), "no reference \(file); run `make golden` and look at it")
        #expect(reference.width == rendered.width && reference.height == rendered.height)
        // Each channel within 12 levels; a few pixels of anti-aliasing may differ more.
        var off = 0
        for (a, b) in zip(reference.pixels, rendered.pixels) {
            let (x, y) = (channels(a), channels(b))
            if abs(x.red - y.red) > 12 || abs(x.green - y.green) > 12 || abs(x.blue - y.blue) > 12 { off += 1 }
        }
        #expect(off <= reference.pixels.count / 1000, "\(name2): \(off) pixels differ from the reference")
    }
}
