import Foundation
import ArenaLayout
import ArenaOverlay
import ArenaSpec
import Testing

/// Which items the default skin shows when, and what they hold.
@Suite struct OverlayItemTests {
    let battleArea = Rect(x: 0, y: 138, width: 360, height: 322)

    private func named(_ name: String, in items: [OverlayItem]) -> [OverlayItem] { items.filter { $0.name == name } }

    @Test func namesShowOnlyWhileMoreThanOneHostIsConnected() {
        let alone = OverlayState(canvas: canvas, hosts: [host("alice", Rect(x: 0, y: 0, width: 360, height: 640))], battle: nil)
        #expect(alone.items(skin: defaultSkin).isEmpty)
        let two = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1], micOff: true)], battle: nil)
        let items = two.items(skin: defaultSkin)
        #expect(items.map(\.name) == ["nickname", "nickname"])
        #expect(items.map(\.texts) == [["Alice"], ["Bob"]])
        #expect(items.map(\.frame) == twoCells)
        // Bob's mic is off: the icon and its gap widen his pill.
        let renderer = OverlayRenderer(canvas: canvas, skin: defaultSkin)
        let muted = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1], name: "Alice", micOff: true)], battle: nil)
        let pills = muted.items(skin: defaultSkin).map(renderer.image)
        #expect(pills[1].width - pills[0].width == 12 + 2, "12 icon + 2 gap, in width units of 0.96 px, rounded")
    }

    @Test func aHostWithoutPictureGetsTheAvatar() {
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1], avatar: true)], battle: nil)
        let first = state.items(skin: defaultSkin).first
        #expect(first?.name == "avatar" && first?.frame == twoCells[1])
    }

    @Test func oneVersusOneHasTheBarAndTheTimerUnderIt() {
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                 battle: battle(["alice", "bob"], scores: ["alice": 3, "bob": 1]))
        let items = state.items(skin: defaultSkin)
        let renderer = OverlayRenderer(canvas: canvas, skin: defaultSkin)
        let bar = named("scoreBar", in: items), timer = named("timer", in: items)
        #expect(bar.map(\.texts) == [[], ["3"], ["1"]] && bar.allSatisfy { $0.frame == battleArea }, "the bar, then each score (drawn once per score)")
        #expect(timer.map(\.texts) == [["4:59"]])
        #expect(timer.map { renderer.image($0).y } == [138 + 14], "under the 18-unit bar (14 px here)")
        #expect(named("ranking", in: items).isEmpty)
    }

    @Test func threeOrMoreHostsHaveRanksAndAConnectingBadgeForThoseOutOfTheBattle() {
        let state = OverlayState(canvas: canvas, hosts: [host("alice", threeCells[0]), host("bob", threeCells[1]), host("carol", threeCells[2])],
                                 battle: battle(["alice", "bob"], scores: ["alice": 5, "bob": 5]))
        let items = state.items(skin: defaultSkin)
        #expect(named("ranking", in: items).map(\.texts) == [["1", "5"], ["1", "5"]])
        #expect(named("ranking", in: items).map(\.frame) == [threeCells[0], threeCells[1]])
        #expect(named("connecting", in: items).map(\.frame) == [threeCells[2]])
        #expect(named("scoreBar", in: items).isEmpty)
        // Without the bar the timer sits just above the battle area.
        let timer = named("timer", in: items)
        #expect(timer.map { OverlayRenderer(canvas: canvas, skin: defaultSkin).image($0).y } == [138 - 17])
    }

    @Test(arguments: [(UInt64(299) * second, "4:59"), (UInt64(60) * second, "1:00"), (UInt64(9) * second + 1, "0:10"), (UInt64(0), "PK End")])
    func timerText(remaining: UInt64, text: String) {
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                 battle: battle(["alice", "bob"], scores: [:], remaining: remaining))
        #expect(named("timer", in: state.items(skin: defaultSkin)).map(\.texts) == [[text]])
    }

    @Test func startBannerForTheFirstSecondAndResultForFiveSecondsAfterTheEnd() {
        func names(sinceStart: UInt64, sinceEnd: UInt64?) -> [String?] {
            OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                         battle: battle(["alice", "bob"], scores: [:], remaining: sinceEnd == nil ? 10 * second : 0,
                                        sinceStart: sinceStart, sinceEnd: sinceEnd, outcome: sinceEnd == nil ? nil : .draw))
                .items(skin: defaultSkin).map(\.name)
        }
        #expect(names(sinceStart: 999_999_999, sinceEnd: nil).contains("startBanner"))
        #expect(!names(sinceStart: second, sinceEnd: nil).contains("startBanner"))
        #expect(names(sinceStart: 30 * second, sinceEnd: 5 * second - 1).contains("result"))
        #expect(!names(sinceStart: 30 * second, sinceEnd: 5 * second).contains("result"))
    }

    @Test func themeSwitchesTurnOverlaysOff() throws {
        var theme = OverlayTheme()
        theme.hidden = ["scoreBar", "timer", "nickname"]
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                 battle: battle(["alice", "bob"], scores: [:]))
        #expect(state.items(skin: try SkinLibrary.resolve(theme)).isEmpty)
        theme = OverlayTheme()
        theme.enabled = false
        #expect(state.items(skin: try SkinLibrary.resolve(theme)).isEmpty)
        theme.shown = ["timer"]   // "enabled": false, "timer": true
        #expect(state.items(skin: try SkinLibrary.resolve(theme)).map(\.name) == ["timer"])
    }
}

@Suite struct OverlayPixelTests {
    @Test func barSplitsAtTheScoreRatio() {
        let renderer = OverlayRenderer(canvas: canvas, skin: defaultSkin)
        for (left, right, split) in [(Int64(3), Int64(1), 270), (0, 0, 180)] {
            let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                     battle: battle(["alice", "bob"], scores: ["alice": left, "bob": right]))
            let bar = renderer.image(state.items(skin: defaultSkin).first { $0.name == "scoreBar" }!)
            #expect(bar.y == 138 && bar.width == 360 && bar.height == 14)
            let blue = channels(bar.pixel(x: split - 8, y: 1)), red = channels(bar.pixel(x: split + 8, y: 1))
            #expect(blue == (0x1C, 0x66, 0xE5), "left of the split: \(blue)")
            #expect(red == (0xF1, 0x50, 0x65), "right of the split: \(red)")
        }
    }

    /// On 720 x 1280 a design width unit is 1.92 px and a height unit 1.58 px.
    let fullCanvas = Size(width: 720, height: 1280)
    let fullCell = Rect(x: 0, y: 276, width: 360, height: 644)

    private func pill(_ name: String, micOff: Bool = false) -> OverlayImage {
        let state = OverlayState(canvas: fullCanvas, hosts: [host("a", fullCell, name: name, micOff: micOff),
                                                             host("b", Rect(x: 360, y: 276, width: 360, height: 644))], battle: nil)
        return OverlayRenderer(canvas: fullCanvas, skin: defaultSkin).image(state.items(skin: defaultSkin)[0])
    }

    @Test func nicknameCapsuleHoldsWhiteTextAndFitsItsCell() {
        let alice = pill("Alice")
        #expect(alice.x == 19 && alice.y + alice.height == fullCell.maxY - 6)   // left 10, bottom 4 design units
        let white = alice.pixels.filter { channels($0).red > 220 && channels($0).green > 220 && channels($0).blue > 220 }
        #expect(white.count > 20)
        let long = pill(String(repeating: "Wolfeschlegelsteinhausen", count: 4), micOff: true)
        #expect(long.width <= fullCell.width - 38, "ellipsised to the cell less its margins: \(long.width)")
    }

    @Test(arguments: ["主播小明", "🔥Ace🔥", "علي"])
    func namesInOtherScriptsDrawGlyphs(name: String) {
        let image = pill(name)
        let ink = image.pixels.filter { channels($0).red > 150 || channels($0).green > 150 }
        #expect(image.width > 20 && ink.count > 20, "\(name): \(image.width) wide, \(ink.count) bright pixels")
    }
}

/// Names and captions are hostile text: shown as written, never read as a template.
@Suite struct HostileTextTests {
    @Test func aNameOrCaptionThatLooksLikeATemplateIsShownAsWritten() throws {
        var fields = try JSONFields.decode(Data(#"{"captions": [{"text": "Room {score} {{x}}", "anchor": "top", "size": 20}]}"#.utf8), source: "d")
        let decorations = try Decorations.parse(&fields, images: [])
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0], name: "{score}}"), host("bob", twoCells[1])],
                                 battle: nil, decorations: decorations)
        let items = state.items(skin: defaultSkin)
        #expect(items.first { $0.name == "nickname" }?.texts == ["{score}}"])
        #expect(items.first { $0.name == "caption" }?.texts == ["Room {score} {{x}}"])
        let image = OverlayRenderer(canvas: canvas, skin: defaultSkin).image(items.first { $0.name == "caption" }!)
        #expect(image.width > 100, "drawn whole: \(image.width) px")
    }
}
