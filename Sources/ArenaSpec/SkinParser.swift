import Foundation

/// Reads skins from JSON, naming the field at fault (`overlays.skin.battleUser[0].children[1].size`).
public enum SkinParser {
    /// Slots with at most this many elements, trees at most this deep, skins at most this many
    /// elements in all: a skin is resolved for every host on every frame.
    static let maximumElements = 64
    static let maximumDepth = 6
    static let maximumNodes = 256
    /// Lengths, offsets and sizes in design units (a 720-wide canvas: 1.92 px each), and shares.
    static let maximumUnits = 1000.0
    static let maximumShare = 200.0
    static let maximumTextUnits = 200.0
    static let templateFields: Set<String> = ["name", "userId", "score", "rank", "timeLeft", "leftScore", "rightScore", "result", "hosts"]
    static let icons: Set<String> = ["clock", "micOff", "spark", "person", "versus", "ring", "wave"]

    /// A skin file's bytes (`source` names it in errors).
    public static func skin(json data: Data, source: String) throws(SpecError) -> Skin {
        var fields = try JSONFields.decode(data, source: source)
        let skin = try skin(&fields)
        try fields.finish()
        return skin
    }

    /// A skin written as `value`, at `path`.
    public static func skin(_ value: JSONValue, path: String) throws(SpecError) -> Skin {
        var fields = try JSONFields(value, path: path)
        let skin = try skin(&fields)
        try fields.finish()
        return skin
    }

    /// A bundled skin's name: letters, digits and dashes (it names a file).
    public static func bundledName(_ name: String, field: String) throws(SpecError) -> String {
        guard !name.isEmpty, name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw SpecError(field: field, "is \"\(Redaction.value(name))\"; a bundled skin's name has letters, digits and dashes")
        }
        return name
    }

    /// `#RRGGBB` or `#AARRGGBB`.
    public static func colour(_ hex: String, field: String) throws(SpecError) -> ARGB {
        guard let colour = ARGB(hex: hex) else {
            throw SpecError(field: field, "is \"\(Redaction.value(hex))\"; it must be \"#RRGGBB\" or \"#AARRGGBB\"")
        }
        return colour
    }

    private static func skin(_ fields: inout JSONFields) throws(SpecError) -> Skin {
        var skin = Skin()
        skin.extends = try fields.string("extends").map { name throws(SpecError) in try bundledName(name, field: fields.name("extends")) }
        skin.font = try fields.string("font")
        if var palette = try fields.object("palette") {
            for key in palette.keys {
                guard let hex = try palette.string(key) else { continue }
                skin.palette[key] = try colour(hex, field: palette.name(key))
            }
        }
        let slots: [(String, WritableKeyPath<Skin, [SkinElement]?>, SkinFrame)] = [
            ("coHostBackground", \.coHostBackground, .cell), ("coHostForeground", \.coHostForeground, .cell),
            ("battleUser", \.battleUser, .cell), ("battleContainer", \.battleContainer, .battleArea),
        ]
        for (key, path, frame) in slots {
            guard let items = try fields.array(key) else { continue }
            guard items.count <= maximumElements else { throw SpecError(field: fields.name(key), "has \(items.count) elements; at most \(maximumElements)") }
            skin[keyPath: path] = try items.enumerated().map { index, item throws(SpecError) in
                try element(item, path: "\(fields.name(key))[\(index)]", depth: 1, topLevelFrame: frame)
            }
        }
        func count(_ element: SkinElement) -> Int { 1 + element.children.map(count).reduce(0, +) }
        let nodes = [skin.coHostBackground, skin.coHostForeground, skin.battleUser, skin.battleContainer].map { ($0 ?? []).map(count).reduce(0, +) }.reduce(0, +)
        guard nodes <= maximumNodes else { throw SpecError(field: fields.path.isEmpty ? "skin" : fields.path, "has \(nodes) elements; a skin has at most \(maximumNodes)") }
        return skin
    }

    private static func element(_ value: JSONValue, path: String, depth: Int, topLevelFrame: SkinFrame?) throws(SpecError) -> SkinElement {
        var fields = try JSONFields(value, path: path)
        guard let type = try fields.choice("type", SkinElement.Kind.allCases.map(\.rawValue)) else {
            throw SpecError(field: fields.name("type"), "is required")
        }
        var element = SkinElement(kind: SkinElement.Kind(rawValue: type)!)
        element.name = try fields.string("name")
        element.when = try conditions(&fields)
        if let frame = try fields.choice("in", SkinFrame.allCases.map(\.rawValue)) {
            guard let topLevelFrame else { throw SpecError(field: fields.name("in"), "is for top-level elements; children sit in their box") }
            guard frame != SkinFrame.cell.rawValue || topLevelFrame == .cell else {
                throw SpecError(field: fields.name("in"), "is \"cell\"; the battle container has no cell (use \"battleArea\" or \"canvas\")")
            }
            element.frame = SkinFrame(rawValue: frame)
        }
        if topLevelFrame == nil, let placed = ["anchor", "offset", "opacity"].first(where: fields.contains) {
            throw SpecError(field: fields.name(placed), "is for top-level elements; children sit in a row in their box")
        }
        element.anchor = try fields.choice("anchor", SkinAnchor.allCases.map(\.rawValue)).flatMap(SkinAnchor.init) ?? .topLeft
        if let offset = try numbers(&fields, "offset", count: [2], in: -maximumUnits...maximumUnits) { (element.offsetX, element.offsetY) = (offset[0], offset[1]) }
        element.width = try length(&fields, "width")
        element.height = try length(&fields, "height")
        element.maxWidth = try length(&fields, "maxWidth")
        element.uniform = try fields.bool("uniform") ?? false
        element.opacity = try fields.number("opacity", in: 0...1) ?? 1
        element.fill = try colourField(&fields, "fill")
        element.radius = try fields.number("radius", in: 0...maximumUnits) ?? 0
        if let corners = try fields.strings("corners") {
            let names = ["topLeft", "topRight", "bottomRight", "bottomLeft"]
            for (index, corner) in corners.enumerated() where !names.contains(corner) {
                throw SpecError(field: "\(fields.name("corners"))[\(index)]", "is \"\(Redaction.value(corner))\"; it must be one of \(names.joined(separator: ", "))")
            }
            element.corners = names.map(corners.contains)
        }
        element.circle = try fields.bool("circle") ?? false
        if let padding = try numbers(&fields, "padding", count: [2, 4], in: 0...maximumUnits) {
            element.padding = padding.count == 4 ? padding : [padding[0], padding[1], padding[0], padding[1]]
        }
        element.gap = try fields.number("gap", in: 0...maximumUnits) ?? 0
        element.text = try fields.string("text").map { text throws(SpecError) in try template(text, field: fields.name("text")) } ?? ""
        element.font = try fields.string("font")
        element.size = try length(&fields, "size") ?? .units(12)
        if case .units(let units) = element.size, units > maximumTextUnits {
            throw SpecError(field: fields.name("size"), "is \(units); it must be from 0 to \(Int(maximumTextUnits)) design units")
        }
        element.bold = try fields.choice("weight", ["regular", "bold"]) == "bold"
        element.colour = try colourField(&fields, "colour") ?? .named("text")
        element.icon = try fields.string("icon") ?? ""
        element.source = try fields.string("source") ?? ""
        element.colours = try (fields.strings("colours") ?? []).enumerated().map { index, text throws(SpecError) in
            try colourValue(text, field: "\(fields.name("colours"))[\(index)]")
        }
        element.texts = try (fields.strings("texts") ?? []).enumerated().map { index, text throws(SpecError) in
            try template(text, field: "\(fields.name("texts"))[\(index)]")
        }
        element.inset = try fields.number("inset", in: 0...maximumUnits) ?? 0
        element.divider = try fields.string("divider")
        element.dividerSize = try fields.number("dividerSize", in: 0...maximumUnits) ?? 0
        if let children = try fields.array("children") {
            guard element.kind == .box else { throw SpecError(field: fields.name("children"), "is for boxes only") }
            guard depth < maximumDepth else { throw SpecError(field: fields.name("children"), "nests too deep; at most \(maximumDepth) levels") }
            guard children.count <= maximumElements else { throw SpecError(field: fields.name("children"), "has \(children.count) elements; at most \(maximumElements)") }
            element.children = try children.enumerated().map { index, child throws(SpecError) in
                try self.element(child, path: "\(fields.name("children"))[\(index)]", depth: depth + 1, topLevelFrame: nil)
            }
        }
        try check(element, &fields)
        try fields.finish()
        return element
    }

    /// What each kind needs.
    private static func check(_ element: SkinElement, _ fields: inout JSONFields) throws(SpecError) {
        switch element.kind {
        case .icon:
            try icon(element.icon, field: fields.name("icon"))
            guard element.icon != "versus" || element.colours.count == 2 else {
                throw SpecError(field: fields.name("colours"), "must give the left and the right colour of the versus icon")
            }
        case .bar:
            guard element.colours.count == 2 else { throw SpecError(field: fields.name("colours"), "must give the left and the right colour") }
            guard element.texts.count <= 2 else { throw SpecError(field: fields.name("texts"), "has the left and the right text at most") }
            if let divider = element.divider { try icon(divider, field: fields.name("divider")) }
        case .image:
            guard !element.source.isEmpty else { throw SpecError(field: fields.name("source"), "is required: \"avatar\", or one of the mix's images") }
        case .text:
            guard !element.text.isEmpty else { throw SpecError(field: fields.name("text"), "is required") }
        case .box:
            break
        }
    }

    private static func icon(_ name: String, field: String) throws(SpecError) {
        guard icons.contains(name) else { throw SpecError(field: field, "is \"\(Redaction.value(name))\"; the icons are \(icons.sorted().joined(separator: ", "))") }
    }

    private static func conditions(_ fields: inout JSONFields) throws(SpecError) -> [SkinCondition] {
        let texts: [String]
        switch fields.raw("when") {
        case nil: return []
        case .string(let text)?: texts = [text]
        case .array?: texts = try fields.strings("when") ?? []
        case let value?: throw SpecError(field: fields.name("when"), "must be a condition or a list of them, not \(value.typeName)")
        }
        return try texts.map { text throws(SpecError) in try condition(text, field: fields.name("when")) }
    }

    /// `flag`, `!flag`, or `hosts>=3`, `rank==1` (numbers compared to a whole number).
    static func condition(_ text: String, field: String) throws(SpecError) -> SkinCondition {
        let negated = text.hasPrefix("!")
        let body = negated ? String(text.dropFirst()) : text
        if let flag = SkinCondition.Flag(rawValue: body) { return SkinCondition(.flag(flag), negated: negated) }
        for comparison in SkinCondition.Comparison.allCases.sorted(by: { $0.rawValue.count > $1.rawValue.count }) {
            guard let range = body.range(of: comparison.rawValue) else { continue }
            guard let number = SkinCondition.Number(rawValue: String(body[..<range.lowerBound])),
                  let value = Int(body[range.upperBound...]), (0...99).contains(value) else { break }
            return SkinCondition(.compare(number, comparison, value), negated: negated)
        }
        let known = SkinCondition.Flag.allCases.map(\.rawValue).joined(separator: ", ")
        throw SpecError(field: field, "has \"\(Redaction.value(text))\"; a condition is one of \(known), maybe after \"!\", or hosts or rank compared to a number (\"hosts>=3\")")
    }

    /// A text template: only known `{field}`s, at most 200 characters (Unicode scalars: a
    /// character can hold any number of combining marks).
    static func template(_ text: String, field: String) throws(SpecError) -> String {
        guard text.unicodeScalars.count <= 200 else { throw SpecError(field: field, "is \(text.unicodeScalars.count) characters long; at most 200") }
        guard let pieces = SkinTemplate.pieces(text) else { throw SpecError(field: field, "opens a { it does not close") }
        for case .field(let name) in pieces where !templateFields.contains(name) {
            throw SpecError(field: field, "has {\(Redaction.value(name))}; the fields are \(templateFields.sorted().map { "{\($0)}" }.joined(separator: ", "))")
        }
        return text
    }

    /// A number of design units, or `"P%"`, `"P%+U"`, `"P%-U"`.
    private static func length(_ fields: inout JSONFields, _ key: String) throws(SpecError) -> SkinLength? {
        switch fields.raw(key) {
        case nil: return nil
        case .number(let units)?:
            guard (0...maximumUnits).contains(units) else { throw SpecError(field: fields.name(key), "is \(units); it must be from 0 to \(Int(maximumUnits)) design units") }
            return .units(units)
        case .string(let text)?:
            let parts = text.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false)
            let unsigned = parts.count == 2 ? parts[1].dropFirst() : ""
            if parts.count == 2, let percent = Double(parts[0]), (0...maximumShare).contains(percent),
               unsigned.first?.isNumber ?? parts[1].isEmpty,
               let plus = parts[1].isEmpty ? 0 : Double(parts[1].hasPrefix("+") ? unsigned : parts[1]), abs(plus) <= maximumUnits,
               parts[1].isEmpty || parts[1].hasPrefix("+") || parts[1].hasPrefix("-") {
                return .percent(percent / 100, plus: plus)
            }
            throw SpecError(field: fields.name(key), "is \"\(Redaction.value(text))\"; it must be design units or a share like \"100%-20\"")
        case let value?:
            throw SpecError(field: fields.name(key), "must be a number or a share like \"100%-20\", not \(value.typeName)")
        }
    }

    private static func numbers(_ fields: inout JSONFields, _ key: String, count: [Int], in range: ClosedRange<Double>) throws(SpecError) -> [Double]? {
        guard let items = try fields.array(key) else { return nil }
        guard count.contains(items.count) else {
            throw SpecError(field: fields.name(key), "must hold \(count.map(String.init).joined(separator: " or ")) numbers")
        }
        return try items.enumerated().map { index, item throws(SpecError) in
            guard case .number(let number) = item, range.contains(number) else {
                throw SpecError(field: "\(fields.name(key))[\(index)]", "must be a number from \(Int(range.lowerBound)) to \(Int(range.upperBound))")
            }
            return number
        }
    }

    private static func colourField(_ fields: inout JSONFields, _ key: String) throws(SpecError) -> SkinColour? {
        try fields.string(key).map { text throws(SpecError) in try colourValue(text, field: fields.name(key)) }
    }

    /// `#...` is a colour; anything else names a palette entry.
    private static func colourValue(_ text: String, field: String) throws(SpecError) -> SkinColour {
        text.hasPrefix("#") ? .argb(try colour(text, field: field)) : .named(text)
    }
}
