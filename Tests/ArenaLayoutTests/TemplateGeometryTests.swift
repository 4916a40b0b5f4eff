import ArenaLayout
import Testing

/// Expected rectangles on 720 x 1280, from the reference table (units of W = 720), edges
/// rounded to the nearest even pixel: 0.384 W = 276.48 -> 276, (0.384 + 0.89333) W = 919.68
/// -> 920, 0.71733 W = 516.48 -> 516, 1.05067 W = 756.48 -> 756, 0.8826 W = 635.47 -> 636.
private let portrait = Size(width: 720, height: 1280)

private func rects(_ template: LayoutTemplate, hosts: Int, on size: Size = portrait) -> [Rect] {
    template.cells(forHostCount: hosts).map { LayoutTemplate.rect($0, on: size) }
}

private func r(_ x: Int, _ y: Int, _ w: Int, _ h: Int) -> Rect { Rect(x: x, y: y, width: w, height: h) }

private let library = try! TemplateLibrary.bundled()

@Suite struct DynamicGridTests {
    let grid = try! library.template(600)

    @Test func oneHostFillsTheCanvas() {
        #expect(rects(grid, hosts: 1) == [r(0, 0, 720, 1280)])
    }

    @Test func twoHostsSideBySide() {
        #expect(rects(grid, hosts: 2) == [r(0, 276, 360, 644), r(360, 276, 360, 644)])
    }

    @Test func threeHostsOneBigTwoSmall() {
        #expect(rects(grid, hosts: 3) == [r(0, 276, 480, 480), r(480, 276, 240, 240), r(480, 516, 240, 240)])
    }

    @Test func fourHostsTwoByTwo() {
        #expect(rects(grid, hosts: 4) == [r(0, 276, 360, 360), r(360, 276, 360, 360), r(0, 636, 360, 360), r(360, 636, 360, 360)])
    }

    @Test(arguments: 5...9) func fiveToNineHostsThirds(hosts: Int) {
        let all = [r(0, 276, 240, 240), r(240, 276, 240, 240), r(480, 276, 240, 240),
                   r(0, 516, 240, 240), r(240, 516, 240, 240), r(480, 516, 240, 240),
                   r(0, 756, 240, 240), r(240, 756, 240, 240), r(480, 756, 240, 240)]
        #expect(rects(grid, hosts: hosts) == Array(all.prefix(hosts)))
    }

    @Test func scalesToA1080pCanvas() {
        #expect(rects(grid, hosts: 2, on: Size(width: 1080, height: 1920)) == [r(0, 414, 540, 966), r(540, 414, 540, 966)])
    }
}

@Suite struct FloatTemplateTests {
    @Test(arguments: [601, 801]) func tilesFitTheCanvasAndSlotZeroIsFullScreen(id: Int) throws {
        let float = try library.template(id)
        let cells = rects(float, hosts: 7)
        #expect(cells[0] == r(0, 0, 720, 1280))
        // Right column bottom-up, then left column top-down; 112 x 216 tiles, 16 px margins.
        #expect(Array(cells[1...]) == [r(592, 904, 112, 216), r(592, 688, 112, 216), r(592, 472, 112, 216),
                                       r(592, 256, 112, 216), r(16, 256, 112, 216), r(16, 472, 112, 216)])
        for cell in cells { #expect(cell.maxX <= 720 && cell.maxY <= 1280) }
    }
}

@Suite struct FixedTemplateTests {
    @Test func fixedGridHasNineSeatsWhateverTheCount() throws {
        let fixed = try library.template(800)
        #expect(rects(fixed, hosts: 2).count == 9)
        #expect(rects(fixed, hosts: 2)[0] == r(0, 276, 240, 240))
        #expect(rects(fixed, hosts: 2)[8] == r(480, 756, 240, 240))
    }

    @Test func landscapeTwoSeats() throws {
        let landscape = try library.template(400)
        #expect(landscape.canvas == Size(width: 1280, height: 720))
        #expect(rects(landscape, hosts: 2, on: landscape.canvas) == [r(0, 0, 640, 720), r(640, 0, 640, 720)])
    }

    @Test func everyTemplateFitsItsOwnCanvas() throws {
        #expect(library.templates.keys.sorted() == [2, 400, 600, 601, 602, 603, 800, 801])
        for template in library.templates.values { try template.validate(on: template.canvas) }
    }

    @Test func aTemplateThatDoesNotFitIsRefused() throws {
        let float = try library.template(601)
        #expect(throws: LayoutError.self) { try float.validate(on: Size(width: 1280, height: 720)) }
    }

    @Test func unknownTemplateNamesTheKnownOnes() {
        #expect(throws: LayoutError.unknownTemplate(999, known: [2, 400, 600, 601, 602, 603, 800, 801])) { try library.template(999) }
    }

    /// Our geometry where the SDK publishes none (README: Layouts).
    @Test func leftFocusUniformGridAndVoiceRoom() throws {
        let focus = try library.template(602)
        #expect(rects(focus, hosts: 4) == [r(0, 276, 480, 480), r(480, 276, 240, 240), r(480, 516, 240, 240), r(0, 756, 240, 240)])
        #expect(rects(focus, hosts: 9).last == r(480, 996, 240, 240))
        let grid = try library.template(603)
        #expect(rects(grid, hosts: 3) == [r(0, 276, 360, 360), r(360, 276, 360, 360), r(180, 636, 360, 360)])
        #expect(rects(grid, hosts: 5).suffix(2) == [r(120, 516, 240, 240), r(360, 516, 240, 240)])
        let voice = try library.template(2)
        #expect(voice.audioOnly && !grid.audioOnly)
        #expect(rects(voice, hosts: 6) == (0..<6).map { r(240 * ($0 % 3), 276 + 240 * ($0 / 3), 240, 240) })
    }
}
