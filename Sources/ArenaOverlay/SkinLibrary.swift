import ArenaLayout
import ArenaSpec
import Foundation

/// The bundled skins (`assets/skins/NAME.json`, found where the templates are) and the
/// resolution of a mix's skin choice into the skin it draws.
public enum SkinLibrary {
    /// The skin `theme` chooses, with what it `extends`, its switches, colours and font
    /// applied; every palette name an element uses must then be in the palette.
    public static func resolve(_ theme: OverlayTheme) throws(SpecError) -> Skin {
        var skin: Skin
        switch theme.skin {
        case .bundled(let name): skin = try bundled(name, field: "overlays.skin")
        case .inline(let inline): skin = inline
        }
        var seen: Set<String> = []
        while let base = skin.extends {
            guard seen.insert(base).inserted, seen.count <= 8 else { throw SpecError(field: "overlays.skin", "extends \"\(base)\" in a loop") }
            skin = skin.over(try bundled(base, field: "overlays.skin.extends"))
        }
        skin = skin.applying(theme)
        if let missing = unknownColours(skin).first {
            throw SpecError(field: "overlays.skin", "uses the colour \"\(Redaction.value(missing))\", which its palette does not name")
        }
        return skin
    }

    /// The bundled skin `name`, read from its file.
    public static func bundled(_ name: String, field: String) throws(SpecError) -> Skin {
        _ = try SkinParser.bundledName(name, field: field)
        let folders = TemplateLibrary.assetFolders().map { $0.appendingPathComponent("skins") }
        for folder in folders {
            let file = folder.appendingPathComponent("\(name).json")
            guard let data = FileManager.default.contents(atPath: file.path) else { continue }
            return try SkinParser.skin(json: data, source: file.path)
        }
        let known = folders.flatMap { (try? FileManager.default.contentsOfDirectory(atPath: $0.path)) ?? [] }
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
        throw SpecError(field: field, "is \"\(name)\", not a bundled skin (\(Set(known).sorted().joined(separator: ", ")))")
    }

    /// The image names `skin`'s image elements show (besides the hosts' avatars).
    public static func imageSources(_ skin: Skin) -> [String] {
        func sources(_ element: SkinElement) -> [String] {
            (element.kind == .image && element.source != "avatar" ? [element.source] : []) + element.children.flatMap(sources)
        }
        return [skin.coHostBackground, skin.coHostForeground, skin.battleUser, skin.battleContainer].flatMap { ($0 ?? []).flatMap(sources) }
    }

    /// Palette names used by `skin`'s elements that its palette lacks.
    static func unknownColours(_ skin: Skin) -> [String] {
        func names(_ element: SkinElement) -> [String] {
            let colours = [element.fill, element.colour].compactMap { $0 } + element.colours
            return colours.compactMap { colour in
                if case .named(let name) = colour, skin.palette[name] == nil, name != "text" { return name }
                return nil
            } + element.children.flatMap(names)
        }
        let slots = [skin.coHostBackground, skin.coHostForeground, skin.battleUser, skin.battleContainer]
        return slots.flatMap { ($0 ?? []).flatMap(names) }
    }
}
