import ArenaLayout
import ArenaOverlay
import ArenaSpec
import Foundation
import Testing

/// A skin or decoration is data from outside: whatever its sizes say, an item costs no more
/// than the canvas, and what it extends is followed all the way.
@Suite struct SkinBoundsTests {
    private func skin(_ json: String) throws -> Skin {
        var theme = OverlayTheme()
        theme.skin = .inline(try SkinParser.skin(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), path: "overlays.skin"))
        return try SkinLibrary.resolve(theme)
    }

    @Test func theLargestSizesASkinMayGiveDrawNoMoreThanTheCanvas() throws {
        let huge = try skin(##"""
            {"coHostForeground": [
              {"type": "box", "anchor": "centre", "width": "200%+1000", "height": 1000, "uniform": true, "fill": "#80FF0000", "opacity": 0.5,
               "children": [{"type": "box", "width": "200%+1000", "height": "200%", "children": [
                 {"type": "text", "text": "WWWWWWWWWWWWWWWWWWWW", "size": 200}, {"type": "icon", "icon": "ring", "size": "200%"}]}]},
              {"type": "text", "anchor": "bottomRight", "offset": [-1000, -1000], "text": "{name}{name}{name}", "size": 200}
            ]}
            """##)
        let state = OverlayState(canvas: canvas, hosts: [host("alice", twoCells[0], name: String(repeating: "W", count: 128)), host("bob", twoCells[1])],
                                 battle: nil)
        let renderer = OverlayRenderer(canvas: canvas, skin: huge)
        let items = state.items(skin: huge)
        #expect(items.count == 4)
        for item in items {
            let image = renderer.image(item)
            #expect(image.width <= canvas.width && image.height <= canvas.height && image.x >= 0 && image.y >= 0,
                    "\(image.width) x \(image.height) at \(image.x), \(image.y)")
            #expect(image.pixels.count == image.width * image.height)
        }
    }

    @Test func aWatermarkWithAHugeSideIsCutToTheCanvas() throws {
        var fields = try JSONFields.decode(Data(#"{"watermarks": [{"image": "line", "height": 8192}]}"#.utf8), source: "decorations")
        let decorations = try Decorations.parse(&fields, images: ["line"])
        let line = OverlayImage(x: 0, y: 0, width: 4096, height: 1, pixels: Array(repeating: 0xFFFF_FFFF, count: 4096))
        let renderer = OverlayRenderer(canvas: canvas, skin: defaultSkin, images: ["line": line])
        let item = try #require(OverlayState(canvas: canvas, hosts: [], battle: nil, decorations: decorations).items(skin: defaultSkin).first)
        let image = renderer.image(item)
        #expect(image.width == canvas.width && image.height == canvas.height, "\(image.width) x \(image.height)")
    }

    @Test func extendsIsFollowedThroughEveryLevel() throws {
        let extending = try skin(##"{"extends": "sdk-example", "palette": {"capsule": "#FF000000"}}"##)
        #expect(extending.battleContainer?.contains { $0.name == "scoreBar" } == true, "the default's bar, through sdk-example")
        #expect(extending.battleUser?.first?.name == "score", "sdk-example's own slot")
        #expect(extending.palette["capsule"] == ARGB(0xFF00_0000) && extending.palette["left"] == ARGB(0xFF1C_66E5))
        #expect(extending.font == "DejaVu Sans")
    }
}
