import Foundation

/// A co-host layout template, loaded from `assets/templates/*.json`.
///
/// Cell coordinates are in multiples of the canvas width W, as in the client SDK's layout
/// tables; a height may be `"full"` (to the bottom of the canvas). Edges are rounded to the
/// nearest even pixel so that 4:2:0 chroma planes line up and neighbouring cells share
/// their edge exactly.
public struct LayoutTemplate: Decodable, Sendable {
    /// How hosts keep their places when others join or leave.
    public enum Seating: String, Decodable, Sendable {
        /// Slots are the hosts in order (owner first, then join order); a leave closes the gap.
        case reflow
        /// A host keeps its seat until it leaves; empty seats stay empty.
        case fixed
    }

    /// A length in canvas widths, or the rest of the canvas height.
    public enum Extent: Decodable, Sendable, Equatable {
        case widths(Double)
        case full

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Double.self) {
                self = .widths(value)
            } else if try container.decode(String.self) == "full" {
                self = .full
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a number or \"full\"")
            }
        }
    }

    /// How a picture fills its cell.
    public enum Fit: String, Decodable, Sendable, CaseIterable {
        /// Fills the cell, centre-cropped (the phones' fill mode).
        case cover
        /// Whole inside the cell, centred, the rest black.
        case contain
    }

    /// One cell in template units (canvas widths), or in pixels when `pixels` is set.
    public struct Cell: Decodable, Sendable {
        public let x: Double
        public let y: Double
        public let w: Double
        public let h: Extent
        /// Stacking order (higher above); default: the slot's number plus one.
        public let z: Int?
        /// Default: cover.
        public let fit: Fit?
        /// The numbers are pixels, not canvas widths.
        public let pixels: Bool?

        /// A cell at (`x`, `y`), `w` wide and `h` high.
        public init(x: Double, y: Double, w: Double, h: Extent, z: Int? = nil, fit: Fit? = nil, pixels: Bool? = nil) {
            self.x = x
            self.y = y
            self.w = w
            self.h = h
            self.z = z
            self.fit = fit
            self.pixels = pixels
        }
    }

    public let id: Int
    public let name: String
    /// The canvas the template is designed for, used when a mix names none.
    public let canvas: Size
    public let seating: Seating
    public let maxHosts: Int
    /// Cells per host count (index 0 = one host), for templates whose cells change with the count.
    public let cellsByHostCount: [[Cell]]?
    /// Cells per slot, for templates whose cells do not depend on the count.
    public let seats: [Cell]?
    /// Seats without video (a voice room): nothing is painted in them but the skin.
    public let audioOnly: Bool

    private enum CodingKeys: String, CodingKey {
        case id, name, canvas, seating, maxHosts, cellsByHostCount, seats, audioOnly
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int.self, forKey: .id)
        name = try container.decode(String.self, forKey: .name)
        canvas = try container.decode(Size.self, forKey: .canvas)
        seating = try container.decode(Seating.self, forKey: .seating)
        maxHosts = try container.decode(Int.self, forKey: .maxHosts)
        cellsByHostCount = try container.decodeIfPresent([[Cell]].self, forKey: .cellsByHostCount)
        seats = try container.decodeIfPresent([Cell].self, forKey: .seats)
        audioOnly = try container.decodeIfPresent(Bool.self, forKey: .audioOnly) ?? false
    }

    /// A layout given cell by cell (a spec's or a change's `layout`): one seat per cell.
    public init(customCells: [Cell], canvas: Size, seating: Seating) {
        id = 0
        name = "custom layout"
        self.canvas = canvas
        self.seating = seating
        maxHosts = customCells.count
        cellsByHostCount = nil
        seats = customCells
        audioOnly = false
    }

    /// The cells, in slot order, for `count` hosts (or for every seat of a fixed template).
    public func cells(forHostCount count: Int) -> [Cell] {
        if let cellsByHostCount {
            return cellsByHostCount[max(0, min(count, cellsByHostCount.count) - 1)]
        }
        let seats = seats ?? []
        return seating == .fixed ? seats : Array(seats.prefix(count))
    }

    /// The pixel rectangle of `cell` on a canvas of `size`.
    public static func rect(_ cell: Cell, on size: Size) -> Rect {
        let unit = cell.pixels == true ? 1 : Double(size.width)
        let x0 = evenRound(cell.x * unit)
        let y0 = evenRound(cell.y * unit)
        let x1 = evenRound((cell.x + cell.w) * unit)
        let y1: Int
        switch cell.h {
        case .widths(let height): y1 = evenRound((cell.y + height) * unit)
        case .full: y1 = size.height
        }
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Checks the template's own consistency and that every cell lies on `size`.
    public func validate(on size: Size) throws(LayoutError) {
        if let cellsByHostCount {
            guard cellsByHostCount.count == maxHosts else {
                throw .invalidTemplate(id, "cellsByHostCount has \(cellsByHostCount.count) entries for maxHosts \(maxHosts)")
            }
            for (index, cells) in cellsByHostCount.enumerated() where cells.count != index + 1 {
                throw .invalidTemplate(id, "cellsByHostCount[\(index)] has \(cells.count) cells, expected \(index + 1)")
            }
        } else if (seats?.count ?? 0) < maxHosts {
            throw .invalidTemplate(id, "needs cellsByHostCount, or seats for all \(maxHosts) hosts")
        }
        for count in 1...maxHosts {
            for (slot, cell) in cells(forHostCount: count).enumerated() {
                let rect = Self.rect(cell, on: size)
                guard rect.x >= 0, rect.y >= 0, rect.width > 0, rect.height > 0,
                      rect.maxX <= size.width, rect.maxY <= size.height else {
                    throw .doesNotFit(template: id, canvas: size, hostCount: count, slot: slot, rect: rect)
                }
            }
        }
    }

    private static func evenRound(_ value: Double) -> Int {
        Int((value / 2).rounded()) * 2
    }
}

/// Why a template or a placement is not usable.
public enum LayoutError: Error, Equatable, CustomStringConvertible {
    case invalidTemplate(Int, String)
    case unreadableTemplate(file: String, reason: String)
    case duplicateTemplate(Int)
    case unknownTemplate(Int, known: [Int])
    case doesNotFit(template: Int, canvas: Size, hostCount: Int, slot: Int, rect: Rect)
    case tooManyHosts(template: Int, maxHosts: Int, requested: Int)
    case templatesNotFound(searched: [String])

    public var description: String {
        switch self {
        case .invalidTemplate(let id, let reason):
            return "layout template \(id) is invalid: \(reason)"
        case .unreadableTemplate(let file, let reason):
            return "cannot read layout template \(file): \(reason)"
        case .duplicateTemplate(let id):
            return "two layout template files define id \(id)"
        case .unknownTemplate(let id, let known):
            return "unknown layout template \(id); known templates: \(known.map(String.init).joined(separator: ", "))"
        case .doesNotFit(let template, let canvas, let count, let slot, let rect):
            return "layout template \(template) does not fit a \(canvas) canvas: with \(count) hosts, slot \(slot) would be \(rect)"
        case .tooManyHosts(let template, let maxHosts, let requested):
            return "layout template \(template) seats at most \(maxHosts) hosts, but \(requested) are needed"
        case .templatesNotFound(let searched):
            return "layout templates not found (looked in \(searched.joined(separator: ", "))); set ARENA_ASSETS to the assets/ directory"
        }
    }
}
