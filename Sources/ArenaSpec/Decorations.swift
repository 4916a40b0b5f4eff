/// What the canvas shows besides the hosts and the skin: a background picture (cover-fit,
/// under the cells), watermarks (logos) and captions (a room's title), over everything.
/// Positions and sizes are canvas pixels. They can change while a mix runs (PATCH).
public struct Decorations: Hashable, Sendable {
    /// An image name (of the mix's `images`).
    public var background: String?
    public var watermarks: [Watermark] = []
    public var captions: [Caption] = []

    /// None.
    public init() {}

    /// A picture over everything.
    public struct Watermark: Hashable, Sendable {
        /// One of the mix's images.
        public var image: String
        public var anchor: SkinAnchor
        public var offsetX: Int
        public var offsetY: Int
        /// Pixels; the image's own size when neither is given, its aspect ratio when one is.
        public var width: Int?
        public var height: Int?
        public var opacity: Double
    }

    /// A line of text over everything.
    public struct Caption: Hashable, Sendable {
        /// Shown as written (never read as a template).
        public var text: String
        public var anchor: SkinAnchor
        public var offsetX: Int
        public var offsetY: Int
        /// Text height in pixels.
        public var size: Double
        public var colour: ARGB
        public var bold: Bool
        /// A capsule behind the text.
        public var fill: ARGB?
        public var font: String?
    }

    /// Images a mix may show at most, and watermarks and captions at once.
    public static let maximumImages = 16
    public static let maximumItems = 8

    /// The `decorations` object at `fields`; image names must be among `images`.
    public static func parse(_ fields: inout JSONFields, images: Set<String>) throws(SpecError) -> Decorations {
        var decorations = Decorations()
        if let background = try fields.string("background") {
            decorations.background = try imageName(background, field: fields.name("background"), images: images)
        }
        let watermarks = try fields.array("watermarks") ?? []
        let captions = try fields.array("captions") ?? []
        for (key, count) in [("watermarks", watermarks.count), ("captions", captions.count)] where count > maximumItems {
            throw SpecError(field: fields.name(key), "lists \(count); at most \(maximumItems)")
        }
        decorations.watermarks = try watermarks.enumerated().map { index, item throws(SpecError) in
            var mark = try JSONFields(item, path: "\(fields.name("watermarks"))[\(index)]")
            let image = try imageName(try mark.requiredString("image"), field: mark.name("image"), images: images)
            let (anchor, x, y) = try place(&mark)
            let watermark = Watermark(image: image, anchor: anchor, offsetX: x, offsetY: y, width: try mark.integer("width", in: 1...8192),
                                      height: try mark.integer("height", in: 1...8192), opacity: try mark.number("opacity", in: 0...1) ?? 1)
            try mark.finish()
            return watermark
        }
        decorations.captions = try captions.enumerated().map { index, item throws(SpecError) in
            var caption = try JSONFields(item, path: "\(fields.name("captions"))[\(index)]")
            let text = try caption.requiredString("text")
            guard text.count <= 200 else { throw SpecError(field: caption.name("text"), "is \(text.count) characters long; at most 200") }
            let (anchor, x, y) = try place(&caption)
            let colour = try caption.string("colour").map { hex throws(SpecError) in try SkinParser.colour(hex, field: caption.name("colour")) }
            let fill = try caption.string("fill").map { hex throws(SpecError) in try SkinParser.colour(hex, field: caption.name("fill")) }
            let parsed = Caption(text: text, anchor: anchor, offsetX: x, offsetY: y, size: try caption.number("size", in: 4...400) ?? 24,
                                 colour: colour ?? ARGB(0xFFFF_FFFF), bold: try caption.choice("weight", ["regular", "bold"]) == "bold",
                                 fill: fill, font: try caption.string("font"))
            try caption.finish()
            return parsed
        }
        return decorations
    }

    /// The `images` object: names to files (inside the spec's folder) or http(s) URLs.
    public static func images(_ fields: inout JSONFields) throws(SpecError) -> [String: String] {
        guard fields.keys.count <= maximumImages else { throw SpecError(field: fields.path, "names \(fields.keys.count) images; at most \(maximumImages)") }
        var images: [String: String] = [:]
        for name in fields.keys {
            guard name.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
                throw SpecError(field: fields.name(name), "is not a usable image name: letters, digits, - and _")
            }
            guard name != "avatar" else { throw SpecError(field: fields.name(name), "is the host's own picture's name; choose another") }
            images[name] = try fields.requiredString(name)
        }
        return images
    }

    private static func imageName(_ name: String, field: String, images: Set<String>) throws(SpecError) -> String {
        guard images.contains(name) else {
            throw SpecError(field: field, "is \"\(Redaction.value(name))\", not one of the mix's images (\(images.sorted().joined(separator: ", ")))")
        }
        return name
    }

    private static func place(_ fields: inout JSONFields) throws(SpecError) -> (SkinAnchor, Int, Int) {
        let anchor = try fields.choice("anchor", SkinAnchor.allCases.map(\.rawValue)).flatMap(SkinAnchor.init) ?? .topLeft
        guard let offset = try fields.array("offset") else { return (anchor, 0, 0) }
        let values = offset.compactMap { value -> Int? in
            guard case .number(let number) = value, number.rounded() == number, abs(number) <= 8192 else { return nil }
            return Int(number)
        }
        guard values.count == 2, offset.count == 2 else { throw SpecError(field: fields.name("offset"), "must hold 2 whole numbers of pixels (at most 8192)") }
        return (anchor, values[0], values[1])
    }
}
