import ArenaLayout
import ArenaOverlay
import ArenaSession
import Benchmark

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxDuration: .seconds(2))
    let templates = try! TemplateLibrary.bundled()
    let canvas = Size(width: 720, height: 1280)

    // Layout: seating nine hosts and computing their cells, as on every roster change.
    Benchmark("layout: seat 9 hosts and place them") { benchmark in
        let grid = try! templates.template(600)
        let hosts = (0..<9).map { "host\($0)" }
        for _ in benchmark.scaledIterations {
            var seats = SeatMap(template: grid)
            try! seats.update(connected: hosts, owner: "host0")
            blackHole(grid.placements(seats, on: canvas))
        }
    }

    // Session: score updates applied to a running 1v1 battle (the hot path of a PK).
    Benchmark("session: 1,000 score updates", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var session = Session(owner: "alice", knownUsers: ["alice", "bob"], maxHosts: 9)
        _ = try! session.apply(.hostJoined(userId: "alice"))
        _ = try! session.apply(.hostJoined(userId: "bob"))
        _ = try! session.apply(.battleRequest(battleId: "pk", inviter: "alice", invitees: ["bob"],
                                              config: BattleConfig(duration: 3_600 * second, needResponse: false)))
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(try! session.apply(.score(battleId: "pk", userId: index % 2 == 0 ? "alice" : "bob", value: 5, op: .add)))
        }
    }

    // Overlay drawing on a change: a new score redraws the 1v1 bar.
    Benchmark("overlay: draw the 1v1 bar for a new score") { benchmark in
        let renderer = OverlayRenderer(canvas: canvas)
        let area = Rect(x: 0, y: 276, width: 720, height: 644)
        for index in benchmark.scaledIterations {
            blackHole(renderer.image(.scoreBar(area: area, split: 200 + index % 300, left: Int64(index), right: 1_000)))
        }
    }

    // Overlay blending per frame: a 1v1 battle's items (bar, timer, two names) into I420.
    Benchmark("overlay: blend a 1v1 battle's overlays into a 720x1280 frame") { benchmark in
        let renderer = OverlayRenderer(canvas: canvas)
        let cells = [Rect(x: 0, y: 276, width: 360, height: 644), Rect(x: 360, y: 276, width: 360, height: 644)]
        let items: [OverlayItem] = [
            .scoreBar(area: Rect(x: 0, y: 276, width: 720, height: 644), split: 400, left: 925, right: 740),
            .timer(area: Rect(x: 0, y: 276, width: 720, height: 644), top: 304, text: "0:09"),
            .nickname(cell: cells[0], name: "Alice", micOff: false), .nickname(cell: cells[1], name: "Bob", micOff: true),
        ]
        let overlays = items.map { PlanarOverlay(renderer.image($0), matrix: .bt601) }
        var y = [UInt8](repeating: 80, count: 720 * 1280), u = [UInt8](repeating: 128, count: 360 * 640), v = u
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            y.withUnsafeMutableBufferPointer { y in
                u.withUnsafeMutableBufferPointer { u in
                    v.withUnsafeMutableBufferPointer { v in
                        let frame = I420Planes(width: 720, height: 1280, y: y.baseAddress!, u: u.baseAddress!, v: v.baseAddress!,
                                               yStride: 720, uStride: 360, vStride: 360)
                        for overlay in overlays { overlay.blend(into: frame) }
                    }
                }
            }
        }
    }
}
