import ArenaLayout
import ArenaOverlay
import CArenaPaint
import Testing

/// The painting step on its own: exact cell rectangles, cuts at the canvas edges, every
/// source layout and depth it reads, and a change of colour matrix.
@Suite struct CellPaintingTests {
    /// An I420 image in three arrays, each plane tightly packed.
    struct Image {
        let width: Int, height: Int
        var planes: [[UInt8]]
        init(width: Int, height: Int, y: UInt8 = 0, u: UInt8 = 128, v: UInt8 = 128) {
            self.width = width
            self.height = height
            let chroma = ((width + 1) / 2) * ((height + 1) / 2)
            planes = [[UInt8](repeating: y, count: width * height), [UInt8](repeating: u, count: chroma), [UInt8](repeating: v, count: chroma)]
        }
        var chromaWidth: Int { (width + 1) / 2 }
        func y(_ x: Int, _ row: Int) -> UInt8 { planes[0][row * width + x] }
        func u(_ x: Int, _ row: Int) -> UInt8 { planes[1][row * chromaWidth + x] }
        func v(_ x: Int, _ row: Int) -> UInt8 { planes[2][row * chromaWidth + x] }

        mutating func withCanvas(_ body: (inout arena_canvas) -> Void) {
            let (w, h, cw) = (width, height, chromaWidth)
            var (y, u, v) = (planes[0], planes[1], planes[2])
            y.withUnsafeMutableBufferPointer { y in
                u.withUnsafeMutableBufferPointer { u in
                    v.withUnsafeMutableBufferPointer { v in
                        var canvas = arena_canvas(planes: (y.baseAddress, u.baseAddress, v.baseAddress), strides: (Int32(w), Int32(cw), Int32(cw)),
                                                  width: Int32(w), height: Int32(h))
                        body(&canvas)
                    }
                }
            }
            planes = [y, u, v]
        }
    }

    /// Paints `planes` (read as `layout`; `depth` 0 means 8-bit, as a zeroed source says)
    /// scaled into `cell` of a 64 x 48 black canvas.
    static func paint(_ planes: [[UInt8]], strides: [Int], width: Int, height: Int, shifts: (Int, Int) = (1, 1), interleaved: Int = 0,
                      depth: Int = 0, crop: arena_rect? = nil, cell: arena_rect) -> (Image, Int32) {
        var canvas = Image(width: 64, height: 48, y: 16)
        var result: Int32 = 0
        let p = planes.map { UnsafeMutablePointer<UInt8>.allocate(capacity: $0.count) }
        defer { p.forEach { $0.deallocate() } }
        for (index, plane) in planes.enumerated() { p[index].initialize(from: plane, count: plane.count) }
        var source = arena_source()
        source.planes = (UnsafePointer(p[0]), UnsafePointer(p[1]), p.count > 2 ? UnsafePointer(p[2]) : nil)
        source.strides = (Int32(strides[0]), Int32(strides[1]), strides.count > 2 ? Int32(strides[2]) : 0)
        source.width = Int32(width)
        source.height = Int32(height)
        source.chroma_shift_x = Int32(shifts.0)
        source.chroma_shift_y = Int32(shifts.1)
        source.uv_interleaved = Int32(interleaved)
        source.depth = Int32(depth)
        canvas.withCanvas { result = arena_paint_scaled(&source, crop ?? arena_rect(x: 0, y: 0, width: Int32(width), height: Int32(height)), &$0, cell) }
        return (canvas, result)
    }

    @Test func aScaledFrameCoversExactlyItsCellEvenAtOddPlaces() {
        let source = Image(width: 20, height: 20, y: 200, u: 90, v: 160)
        let cell = arena_rect(x: 7, y: 5, width: 13, height: 11)
        let (canvas, result) = Self.paint(source.planes, strides: [20, 10, 10], width: 20, height: 20, cell: cell)
        #expect(result == 0)
        for row in 0..<canvas.height {
            for x in 0..<canvas.width {
                let inside = (7..<20).contains(x) && (5..<16).contains(row)
                #expect(canvas.y(x, row) == (inside ? 200 : 16), "luma at \(x), \(row)")
            }
        }
        // Chroma covers the 2 x 2 blocks the cell touches: columns 3...9, rows 2...7.
        #expect(canvas.u(3, 2) == 90 && canvas.v(9, 7) == 160)
        #expect(canvas.u(2, 2) == 128 && canvas.u(10, 7) == 128 && canvas.u(5, 1) == 128 && canvas.u(5, 8) == 128)
    }

    @Test func theCropIsTakenFromTheSourceAndScaled() {
        // Left half dark, right half bright; cropping the right half makes the whole cell bright.
        var source = Image(width: 40, height: 20)
        for row in 0..<20 { for x in 0..<40 { source.planes[0][row * 40 + x] = x < 20 ? 30 : 220 } }
        let (canvas, _) = Self.paint(source.planes, strides: [40, 20, 20], width: 40, height: 20,
                                     crop: arena_rect(x: 20, y: 0, width: 20, height: 20), cell: arena_rect(x: 0, y: 0, width: 10, height: 10))
        for row in 0..<10 { for x in 0..<10 { #expect(canvas.y(x, row) == 220) } }
        #expect(canvas.y(10, 0) == 16)
    }

    @Test func aCellPastTheCanvasIsCutWithTheMatchingPartOfTheFrame() {
        // A left-to-right ramp into a cell twice the canvas's width, starting 32 to the left:
        // the canvas shows the ramp's right half.
        var source = Image(width: 128, height: 16)
        for row in 0..<16 { for x in 0..<128 { source.planes[0][row * 128 + x] = UInt8(x * 2) } }
        let (canvas, result) = Self.paint(source.planes, strides: [128, 64, 64], width: 128, height: 16,
                                          cell: arena_rect(x: -32, y: 40, width: 128, height: 16))
        #expect(result == 0)
        #expect(abs(Int(canvas.y(0, 40)) - 64) <= 2)
        #expect(abs(Int(canvas.y(63, 47)) - 190) <= 2)
        #expect(canvas.y(0, 39) == 16)
    }

    @Test func aCropOutsideTheSourceIsRefusedAndPaintsNothing() {
        let source = Image(width: 16, height: 16, y: 200)
        let (canvas, result) = Self.paint(source.planes, strides: [16, 8, 8], width: 16, height: 16,
                                          crop: arena_rect(x: 8, y: 0, width: 16, height: 16), cell: arena_rect(x: 0, y: 0, width: 16, height: 16))
        #expect(result == -1)
        #expect(canvas.planes[0].allSatisfy { $0 == 16 })
    }

    @Test func semiPlanarAndFullChromaSourcesPaintAsI420Does() {
        let (width, height) = (32, 32)
        var i420 = Image(width: width, height: height)
        for row in 0..<16 {
            for x in 0..<16 {
                i420.planes[1][row * 16 + x] = UInt8(60 + x * 4)
                i420.planes[2][row * 16 + x] = UInt8(200 - row * 4)
            }
        }
        let cell = arena_rect(x: 8, y: 8, width: 32, height: 32)
        let (expected, _) = Self.paint(i420.planes, strides: [32, 16, 16], width: width, height: height, cell: cell)

        let nv12 = (0..<(16 * 16)).flatMap { [i420.planes[1][$0], i420.planes[2][$0]] }
        let nv21 = (0..<(16 * 16)).flatMap { [i420.planes[2][$0], i420.planes[1][$0]] }
        for (pairs, order) in [(nv12, 1), (nv21, 2)] {
            let (painted, result) = Self.paint([i420.planes[0], pairs], strides: [32, 32], width: width, height: height, interleaved: order, cell: cell)
            #expect(result == 0)
            let same = painted.planes == expected.planes  // compared outside #expect: it would print every byte
            #expect(same, "semi-planar order \(order)")
        }
        // 4:4:4: each chroma sample doubled; scaling it to the cell's 4:2:0 grid gives the same picture.
        func doubled(_ plane: [UInt8]) -> [UInt8] {
            (0..<(32 * 32)).map { (index: Int) -> UInt8 in plane[(index / 64) * 16 + (index % 32) / 2] }
        }
        let full = [doubled(i420.planes[1]), doubled(i420.planes[2])]
        let (painted, result) = Self.paint([i420.planes[0]] + full, strides: [32, 32, 32], width: width, height: height, shifts: (0, 0), cell: cell)
        #expect(result == 0)
        for plane in 1...2 {
            let worst = zip(painted.planes[plane], expected.planes[plane]).map { abs(Int($0) - Int($1)) }.max()!
            #expect(worst <= 2, "4:4:4 plane \(plane) differs by \(worst)")
        }
    }

    /// 10- and 12-bit planar sources (16-bit little-endian samples) paint as their 8-bit values
    /// do, each sample narrowed as it is blended: shrunk, enlarged, shrunk 4.5x, and shrunk 9x
    /// (past 8x libyuv scales the 16-bit plane, then it is narrowed). Within 1: libyuv's 8-bit row blend keeps
    /// 7 bits of its weight.
    @Test(arguments: [10, 12]) func deeperSamplesPaintAsTheirEightBitValues(depth: Int) {
        let (width, height) = (48, 40)
        var image = Image(width: width, height: height)
        for row in 0..<height { for x in 0..<width { image.planes[0][row * width + x] = UInt8((x * 5 + row * 3) % 256) } }
        for index in image.planes[1].indices {
            image.planes[1][index] = UInt8(40 + index % 170)
            image.planes[2][index] = UInt8(220 - index % 150)
        }
        func deep(_ plane: [UInt8]) -> [UInt8] {
            plane.flatMap { value -> [UInt8] in let sample = UInt16(value) << (depth - 8); return [UInt8(sample & 0xFF), UInt8(sample >> 8)] }
        }
        let deepPlanes = image.planes.map(deep)
        for cell in [arena_rect(x: 2, y: 3, width: 30, height: 26), arena_rect(x: 0, y: 2, width: 60, height: 44), arena_rect(x: 5, y: 5, width: 8, height: 8),
                     arena_rect(x: 5, y: 5, width: 4, height: 4)] {
            let crop = arena_rect(x: 6, y: 4, width: 36, height: 30)
            let (expected, _) = Self.paint(image.planes, strides: [48, 24, 24], width: width, height: height, crop: crop, cell: cell)
            let (painted, result) = Self.paint(deepPlanes, strides: [96, 48, 48], width: width, height: height, depth: depth, crop: crop, cell: cell)
            #expect(result == 0)
            for plane in 0..<3 {
                let worst = zip(painted.planes[plane], expected.planes[plane]).map { abs(Int($0) - Int($1)) }.max()!
                #expect(worst <= 1, "\(depth)-bit plane \(plane) into \(cell.width)x\(cell.height) differs by \(worst)")
            }
        }
        // Depths it does not read, and deep semi-planar pairs, are refused.
        let (_, unreadable) = Self.paint(deepPlanes, strides: [96, 48, 48], width: width, height: height, depth: 17, cell: arena_rect(x: 0, y: 0, width: 8, height: 8))
        let (untouched, semiPlanar) = Self.paint(Array(deepPlanes.prefix(2)), strides: [96, 96], width: width, height: height, interleaved: 1, depth: depth,
                                                 cell: arena_rect(x: 0, y: 0, width: 8, height: 8))
        #expect(unreadable == -1 && semiPlanar == -1)
        #expect(untouched.planes[0].allSatisfy { $0 == 16 })
    }

    /// Narrowing rounds half up and clamps: painted at its own size (the filter's weights are
    /// then 64 and 0), a 10-bit source gives each sample rounded to 8 bits, 1023 and values past
    /// 10 bits giving 255; at 4:2:0, 4:2:2 and 4:4:4.
    @Test(arguments: [(1, 1), (1, 0), (0, 0)]) func deeperSamplesAreRoundedAndClamped(shiftX: Int, shiftY: Int) {
        let (width, height) = (16, 8)
        let samples: [(UInt16, UInt8)] = [(1, 0), (2, 1), (5, 1), (6, 2), (512, 128), (1021, 255), (1023, 255), (0xFFFF, 255)]
        func bytes(_ values: [UInt16]) -> [UInt8] { values.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }
        let luma = bytes((0..<(width * height)).map { samples[$0 % samples.count].0 })
        let (chromaWidth, chromaHeight) = (width >> shiftX, height >> shiftY)
        let chroma = bytes([UInt16](repeating: 512, count: chromaWidth * chromaHeight))
        let (painted, result) = Self.paint([luma, chroma, chroma], strides: [2 * width, 2 * chromaWidth, 2 * chromaWidth], width: width, height: height,
                                           shifts: (shiftX, shiftY), depth: 10, cell: arena_rect(x: 0, y: 0, width: Int32(width), height: Int32(height)))
        #expect(result == 0)
        let expected = (0..<(width * height)).map { samples[$0 % samples.count].1 }
        let narrowed = (0..<height).flatMap { row in (0..<width).map { painted.y($0, row) } }
        #expect(narrowed == expected)
        #expect((0..<(height / 2)).allSatisfy { row in (0..<(width / 2)).allSatisfy { painted.u($0, row) == 128 && painted.v($0, row) == 128 } })
    }

    @Test func aFrameInAnotherColourMatrixIsReexpressedInTheCanvasOne() {
        // Orange encoded in BT.601 limited range, painted into a BT.709 canvas, reads as orange in BT.709.
        let orange = RGBColour(rgb: 0xF08020)
        let bt601 = YUVMatrix(isBT709: false, isFullRange: false), bt709 = YUVMatrix(isBT709: true, isFullRange: false)
        let (y, u, v) = bt601.yuv(of: orange)
        var canvas = Image(width: 16, height: 16, y: y, u: u, v: v)
        let change = bt601.change(to: bt709)
        func fixed(_ value: Double) -> Int32 { Int32((value * 65_536).rounded()) }
        var coefficients = arena_matrix_change(y_gain: fixed(change.luma[0]), y_from_u: fixed(change.luma[1]), y_from_v: fixed(change.luma[2]),
                                               y_in: 16, y_out: 16, uu: fixed(change.u[0]), uv: fixed(change.u[1]),
                                               vu: fixed(change.v[0]), vv: fixed(change.v[1]))
        canvas.withCanvas { arena_paint_change_matrix(&$0, arena_rect(x: 0, y: 0, width: 16, height: 16), &coefficients) }
        let expected = bt709.yuv(of: orange)
        #expect(abs(Int(canvas.y(5, 5)) - Int(expected.y)) <= 1)
        #expect(abs(Int(canvas.u(3, 3)) - Int(expected.u)) <= 1)
        #expect(abs(Int(canvas.v(3, 3)) - Int(expected.v)) <= 1)
        #expect(expected.y != y)  // the two matrices really differ for this colour
    }

    @Test func aFillCoversItsCellCutToTheCanvas() {
        var canvas = Image(width: 64, height: 48, y: 16)
        canvas.withCanvas { arena_paint_fill(&$0, arena_rect(x: 60, y: -4, width: 10, height: 10), 100, 50, 200) }
        #expect(canvas.y(60, 0) == 100 && canvas.y(63, 5) == 100)
        #expect(canvas.y(59, 0) == 16 && canvas.y(60, 6) == 16)
        #expect(canvas.u(30, 0) == 50 && canvas.v(31, 2) == 200 && canvas.u(29, 0) == 128)
    }
}
