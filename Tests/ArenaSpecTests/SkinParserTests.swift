import ArenaSpec
import Foundation
import Testing

/// Skins are data from a spec or an API call: every field is checked and a bad one is named.
@Suite struct SkinParserTests {
    private func refusal(_ json: String) -> String? {
        do {
            let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
            _ = try SkinParser.skin(value, path: "overlays.skin")
            return nil
        } catch {
            return "\(error)"
        }
    }

    private func element(_ json: String, slot: String = "battleUser") -> String {
        ##"{"\##(slot)": [\##(json)]}"##
    }

    @Test func aSkinReadsBackAsWritten() throws {
        let json = element(##"""
            {"type": "box", "name": "score", "when": ["inBattle", "!micOff", "rank<=3"], "anchor": "bottomRight", "offset": [5, 5],
             "padding": [8, 4], "radius": 12, "fill": "#66000000", "maxWidth": "100%-20",
             "children": [{"type": "text", "text": "{score} pts {{x}}", "size": "72%", "weight": "bold", "colour": "accent"}]}
            """##)
        let whole = ##"{"extends": "default", "palette": {"accent": "#FF8800"}, "##.appending(String(json.dropFirst()))
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(whole.utf8))
        let skin = try SkinParser.skin(value, path: "overlays.skin")
        let box = try #require(skin.battleUser?.first)
        #expect(skin.extends == "default" && skin.palette["accent"] == ARGB(0xFFFF_8800) && skin.palette["text"] == nil)
        #expect(box.kind == .box && box.name == "score" && box.anchor == .bottomRight && box.offsetX == 5 && box.offsetY == 5)
        #expect(box.when == [SkinCondition(.flag(.inBattle)), SkinCondition(.flag(.micOff), negated: true),
                             SkinCondition(.compare(.rank, .atMost, 3))])
        #expect(box.padding == [8, 4, 8, 4] && box.radius == 12 && box.fill == .argb(ARGB(0x6600_0000)))
        #expect(box.maxWidth == .percent(1, plus: -20))
        let text = try #require(box.children.first)
        #expect(text.text == "{score} pts {{x}}" && text.size == .percent(0.72, plus: 0) && text.bold && text.colour == .named("accent"))
        #expect(skin.coHostForeground == nil, "a slot not given is inherited from what the skin extends")
    }

    @Test(arguments: [
        (##"{"type": "txt"}"##, ##"overlays.skin.battleUser[0].type is "txt"; it must be one of"##),
        (##"{"type": "text"}"##, "overlays.skin.battleUser[0].text is required"),
        (##"{"type": "text", "text": "{nmae}"}"##, "overlays.skin.battleUser[0].text has {nmae}; the fields are"),
        (##"{"type": "text", "text": "{score"}"##, "overlays.skin.battleUser[0].text opens a { it does not close"),
        (##"{"type": "text", "text": "x", "when": "rank1"}"##, ##"overlays.skin.battleUser[0].when has "rank1"; a condition is one of"##),
        (##"{"type": "text", "text": "x", "when": "rank==x"}"##, ##"overlays.skin.battleUser[0].when has "rank==x""##),
        (##"{"type": "text", "text": "x", "when": 3}"##, "overlays.skin.battleUser[0].when must be a condition or a list of them"),
        (##"{"type": "icon", "icon": "rocket"}"##, ##"overlays.skin.battleUser[0].icon is "rocket"; the icons are"##),
        (##"{"type": "icon", "icon": "versus"}"##, "overlays.skin.battleUser[0].colours must give the left and the right colour"),
        (##"{"type": "bar", "colours": ["left"]}"##, "overlays.skin.battleUser[0].colours must give the left and the right colour"),
        (##"{"type": "image"}"##, "overlays.skin.battleUser[0].source is required"),
        (##"{"type": "text", "text": "x", "size": "50%%"}"##, ##"overlays.skin.battleUser[0].size is "50%%"; it must be design units"##),
        (##"{"type": "text", "text": "x", "size": -3}"##, "overlays.skin.battleUser[0].size is -3.0; it must be from 0 to 1000"),
        (##"{"type": "box", "fill": "#12345"}"##, ##"overlays.skin.battleUser[0].fill is "#12345"; it must be "#RRGGBB" or "#AARRGGBB""##),
        (##"{"type": "box", "offset": [1]}"##, "overlays.skin.battleUser[0].offset must hold 2 numbers"),
        (##"{"type": "box", "corners": ["top"]}"##, ##"overlays.skin.battleUser[0].corners[0] is "top""##),
        (##"{"type": "box", "colour2": "#FFFFFF"}"##, "overlays.skin.battleUser[0].colour2 is not a known field"),
        (##"{"type": "text", "text": "x", "children": []}"##, "overlays.skin.battleUser[0].children is for boxes only"),
        (##"{"type": "box", "children": [{"type": "box", "in": "canvas"}]}"##, "overlays.skin.battleUser[0].children[0].in is for top-level elements"),
        (##"{"type": "text", "text": "\##(String(repeating: "x", count: 201))"}"##, "overlays.skin.battleUser[0].text is 201 characters long; at most 200"),
        (##"{"type": "text", "text": "e\##(String(repeating: "\u{301}", count: 300))"}"##, "overlays.skin.battleUser[0].text is 301 characters long; at most 200"),
        (##"{"type": "text", "text": "x", "size": 201}"##, "overlays.skin.battleUser[0].size is 201.0; it must be from 0 to 200"),
        (##"{"type": "box", "width": "201%"}"##, ##"overlays.skin.battleUser[0].width is "201%""##),
        (##"{"type": "box", "width": "100%+-20"}"##, ##"overlays.skin.battleUser[0].width is "100%+-20""##),
        (##"{"type": "text", "text": "{na}}me}"}"##, "overlays.skin.battleUser[0].text has {na}"),
        (##"{"type": "box", "children": [{"type": "text", "text": "x", "offset": [1, 1]}]}"##, "overlays.skin.battleUser[0].children[0].offset is for top-level elements"),
    ])
    func aBadElementIsRefusedNamingItsField(json: String, message: String) {
        let refused = refusal(element(json))
        #expect(refused?.hasPrefix(message) == true, "\(refused ?? "accepted")")
    }

    @Test func theBattleContainerHasNoCellAndSkinsAreBounded() {
        #expect(refusal(element(##"{"type": "text", "text": "x", "in": "cell"}"##, slot: "battleContainer"))?
            .hasPrefix(##"overlays.skin.battleContainer[0].in is "cell"; the battle container has no cell"##) == true)
        let many = "[" + Array(repeating: ##"{"type": "text", "text": "x"}"##, count: 65).joined(separator: ",") + "]"
        #expect(refusal(##"{"coHostForeground": \##(many)}"##) == "overlays.skin.coHostForeground has 65 elements; at most 64")
        let wide = "[" + Array(repeating: ##"{"type": "box", "children": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}]}"##, count: 60).joined(separator: ",") + "]"
        #expect(refusal(##"{"coHostForeground": \##(wide), "battleUser": \##(wide)}"##) == "overlays.skin has 360 elements; a skin has at most 256")
        var nested = ##"{"type": "text", "text": "x"}"##
        for _ in 0..<6 { nested = ##"{"type": "box", "children": [\##(nested)]}"## }
        #expect(refusal(element(nested))?.contains("nests too deep; at most 6 levels") == true)
        #expect(refusal(##"{"extends": "../../etc/passwd"}"##)?.hasPrefix(##"overlays.skin.extends is "../../etc/passwd"; a bundled skin's name has letters"##) == true)
    }

    @Test func theSpecTakesASkinByNameOrWrittenOut() throws {
        func overlays(_ json: String) throws -> OverlayTheme {
            let spec = ##"{"hosts": [{"userId": "a", "input": "/a.mp4"}], "overlays": \##(json)}"##
            return try MixSpec.parse(Data(spec.utf8), source: "spec", baseDirectory: URL(fileURLWithPath: "/data")).overlays
        }
        #expect(try overlays("{}").skin == .bundled("default"))
        #expect(try overlays(##"{"skin": "sdk-example", "leftColour": "#102030", "scoreBar": false}"##)
                == { var theme = OverlayTheme(); theme.skin = .bundled("sdk-example"); theme.palette = ["left": ARGB(0xFF10_2030)]; theme.hidden = ["scoreBar"]; return theme }())
        guard case .inline(let skin) = try overlays(##"{"skin": {"extends": "default", "palette": {"left": "#000000"}}}"##).skin else {
            Issue.record("an inline skin")
            return
        }
        #expect(skin.extends == "default" && skin.palette["left"] == ARGB(0xFF00_0000))
        #expect(throws: SpecError(field: "overlays.skin", ##"is "a/b"; a bundled skin's name has letters, digits and dashes"##)) {
            _ = try overlays(##"{"skin": "a/b"}"##)
        }
    }
}
