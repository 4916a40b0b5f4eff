import ArenaLayout
import Testing

private let library = try! TemplateLibrary.bundled()

@Suite struct SeatMapTests {
    @Test func reflowClosesTheGapWhenAHostLeaves() throws {
        var seats = SeatMap(template: try library.template(600))
        try seats.update(connected: ["owner", "b", "c"], owner: "owner")
        try seats.update(connected: ["owner", "c"], owner: "owner")
        #expect(seats.seats == ["owner", "c"])
        let placements = try library.template(600).placements(seats, on: Size(width: 720, height: 1280))
        #expect(placements.map(\.userId) == ["owner", "c"])
        #expect(placements[1].rect == Rect(x: 360, y: 276, width: 360, height: 644))
    }

    @Test func fixedSeatsKeepTheirPlacesAndNewcomersTakeTheLowestFreeSeat() throws {
        var seats = SeatMap(template: try library.template(800))
        try seats.update(connected: ["owner", "b", "c"], owner: "owner")
        try seats.update(connected: ["owner", "c"], owner: "owner")
        #expect(Array(seats.seats.prefix(3)) == ["owner", nil, "c"])
        try seats.update(connected: ["owner", "c", "d"], owner: "owner")
        #expect(Array(seats.seats.prefix(3)) == ["owner", "d", "c"])
        let placements = try library.template(800).placements(seats, on: Size(width: 720, height: 1280))
        #expect(placements.first { $0.userId == "c" }?.rect == Rect(x: 480, y: 276, width: 240, height: 240))
    }

    @Test func theOwnerAlwaysHasSeatZero() throws {
        var seats = SeatMap(template: try library.template(800))
        try seats.update(connected: ["b"], owner: "owner")
        try seats.update(connected: ["owner", "b"], owner: "owner")
        #expect(Array(seats.seats.prefix(2)) == ["owner", "b"])
    }

    @Test func floatingTilesStackAboveTheFullScreenHost() throws {
        var seats = SeatMap(template: try library.template(601))
        try seats.update(connected: ["owner", "b"], owner: "owner")
        let placements = try library.template(601).placements(seats, on: Size(width: 720, height: 1280))
        #expect(placements[1].zOrder > placements[0].zOrder)
    }

    @Test func moreHostsThanSeatsIsRefused() throws {
        var seats = SeatMap(template: try library.template(400))
        #expect(throws: LayoutError.tooManyHosts(template: 400, maxHosts: 2, requested: 3)) {
            try seats.update(connected: ["a", "b", "c"], owner: "a")
        }
    }
}

@Suite struct CentreCropTests {
    @Test func wideSourceIntoTallCellCutsTheSides() {
        // 1280x720 into 360x644: keep 720 * 360 / 644 = 402.5 -> 402 wide; cut 878 = 438 + 440.
        #expect(CropInsets.centreCrop(source: Size(width: 1280, height: 720), cell: Size(width: 360, height: 644))
                == CropInsets(left: 438, right: 440))
    }

    @Test func tallSourceIntoSquareCellCutsTopAndBottom() {
        #expect(CropInsets.centreCrop(source: Size(width: 720, height: 1280), cell: Size(width: 240, height: 240))
                == CropInsets(top: 280, bottom: 280))
    }

    @Test func sameAspectCutsNothing() {
        #expect(CropInsets.centreCrop(source: Size(width: 1280, height: 720), cell: Size(width: 640, height: 360)) == CropInsets())
    }
}

@Suite struct ColourTests {
    @Test func parsesHexColours() {
        #expect(RGBColour(hex: "#1F2024")?.rgb == 0x1F2024)
        #expect(RGBColour(hex: "1F2024") == nil)
        #expect(RGBColour(hex: "#12345G") == nil)
        #expect(RGBColour(rgb: 0x00FF00).description == "#00FF00")
    }
}
