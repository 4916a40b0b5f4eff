import ArenaLayout
import ArenaOverlay
import ArenaSpec
import Testing

@Suite struct OverlayItemTests {
    let theme = OverlayTheme()

    @Test func namesShowOnlyWhileMoreThanOneHostIsConnected() {
        let alone = OverlayState(canvas: canvas, hosts: [host("alice", Rect(x: 0, y: 0, width: 360, height: 640))], battle: nil)
        #expect(alone.items(theme: theme).isEmpty)
        let two = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1], micOff: true)], battle: nil)
        #expect(two.items(theme: theme) == [.nickname(cell: twoCells[0], name: "Alice", micOff: false),
                                            .nickname(cell: twoCells[1], name: "Bob", micOff: true)])
    }

    @Test func aHostWithoutPictureGetsTheAvatar() {
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1], avatar: true)], battle: nil)
        #expect(state.items(theme: theme).first == .avatar(cell: twoCells[1], userId: "bob"))
    }

    @Test func oneVersusOneHasTheBarAndTheTimerUnderIt() {
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                 battle: battle(["alice", "bob"], scores: ["alice": 3, "bob": 1]))
        let items = state.items(theme: theme)
        let area = Rect(x: 0, y: 138, width: 360, height: 322)
        #expect(items.contains(.scoreBar(area: area, split: 270, left: 3, right: 1)))
        #expect(items.contains(.timer(area: area, top: 138 + 14, text: "4:59")))
        #expect(!items.contains { if case .ranking = $0 { return true } else { return false } })
    }

    @Test func threeOrMoreHostsHaveRanksAndAConnectingBadgeForThoseOutOfTheBattle() {
        let state = OverlayState(canvas: canvas, hosts: [host("alice", threeCells[0]), host("bob", threeCells[1]), host("carol", threeCells[2])],
                                 battle: battle(["alice", "bob"], scores: ["alice": 5, "bob": 5]))
        let items = state.items(theme: theme)
        #expect(items.contains(.ranking(cell: threeCells[0], rank: 1, score: 5)))
        #expect(items.contains(.ranking(cell: threeCells[1], rank: 1, score: 5)))
        #expect(items.contains(.connecting(cell: threeCells[2])))
        #expect(!items.contains { if case .scoreBar = $0 { return true } else { return false } })
    }

    @Test(arguments: [(UInt64(299) * second, "4:59"), (UInt64(60) * second, "1:00"), (UInt64(9) * second + 1, "0:10"), (UInt64(0), "PK End")])
    func timerText(remaining: UInt64, text: String) {
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                 battle: battle(["alice", "bob"], scores: [:], remaining: remaining))
        #expect(state.items(theme: theme).contains { $0 == .timer(area: Rect(x: 0, y: 138, width: 360, height: 322), top: 152, text: text) })
    }

    @Test func startBannerForTheFirstSecondAndResultForFiveSecondsAfterTheEnd() {
        func items(sinceStart: UInt64, sinceEnd: UInt64?) -> [OverlayItem] {
            OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                         battle: battle(["alice", "bob"], scores: [:], remaining: sinceEnd == nil ? 10 * second : 0,
                                        sinceStart: sinceStart, sinceEnd: sinceEnd, outcome: sinceEnd == nil ? nil : .draw))
                .items(theme: OverlayTheme())
        }
        #expect(items(sinceStart: 999_999_999, sinceEnd: nil).contains(.startBanner))
        #expect(!items(sinceStart: second, sinceEnd: nil).contains(.startBanner))
        #expect(items(sinceStart: 30 * second, sinceEnd: 5 * second - 1).contains(.result(.draw)))
        #expect(!items(sinceStart: 30 * second, sinceEnd: 5 * second).contains(.result(.draw)))
    }

    @Test func themeSwitchesTurnOverlaysOff() {
        var theme = OverlayTheme()
        theme.scoreBar = false
        theme.timer = false
        theme.nicknames = false
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0]), host("bob", twoCells[1])],
                                 battle: battle(["alice", "bob"], scores: [:]))
        #expect(state.items(theme: theme).isEmpty)
    }
}

@Suite struct OverlayPixelTests {
    @Test func barSplitsAtTheScoreRatio() {
        let renderer = OverlayRenderer(canvas: canvas)
        for (left, right, split) in [(Int64(3), Int64(1), 270), (0, 0, 180)] {
            let bar = renderer.image(.scoreBar(area: Rect(x: 0, y: 138, width: 360, height: 322), split: split, left: left, right: right))
            #expect(bar.y == 138 && bar.width == 360 && bar.height == 14)
            let blue = channels(bar.pixel(x: split - 8, y: 1)), red = channels(bar.pixel(x: split + 8, y: 1))
            #expect(blue == (0x1C, 0x66, 0xE5), "left of the split: \(blue)")
            #expect(red == (0xF1, 0x50, 0x65), "right of the split: \(red)")
        }
    }

    /// On 720 x 1280 a design width unit is 1.92 px and a height unit 1.58 px.
    let fullCanvas = Size(width: 720, height: 1280)
    let fullCell = Rect(x: 0, y: 276, width: 360, height: 644)

    @Test func nicknameCapsuleHoldsWhiteTextAndFitsItsCell() {
        let renderer = OverlayRenderer(canvas: fullCanvas)
        let pill = renderer.image(.nickname(cell: fullCell, name: "Alice", micOff: false))
        #expect(pill.x == 19 && pill.y + pill.height == fullCell.maxY - 6)   // left 10, bottom 4 design units
        let white = pill.pixels.filter { channels($0).red > 220 && channels($0).green > 220 && channels($0).blue > 220 }
        #expect(white.count > 20)
        let long = renderer.image(.nickname(cell: fullCell, name: String(repeating: "Wolfeschlegelsteinhausen", count: 4), micOff: true))
        #expect(long.width <= fullCell.width - 38, "ellipsised to the cell less its margins: \(long.width)")
    }

    @Test(arguments: ["主播小明", "🔥Ace🔥", "علي"])
    func namesInOtherScriptsDrawGlyphs(name: String) {
        let pill = OverlayRenderer(canvas: fullCanvas).image(.nickname(cell: fullCell, name: name, micOff: false))
        let ink = pill.pixels.filter { channels($0).red > 150 || channels($0).green > 150 }
        #expect(pill.width > 20 && ink.count > 20, "\(name): \(pill.width) wide, \(ink.count) bright pixels")
    }
}
