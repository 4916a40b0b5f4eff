import ArenaLayout

/// A `layout` object: the cells given one by one instead of a template id, as cloud mixers take
/// them. `{"units": "widths"|"pixels", "seating": "reflow"|"fixed", "cells": [{"x", "y",
/// "width", "height", "zOrder", "fit"}]}`; a cell per seat, in slot order (the owner's first).
public enum CustomLayout {
    /// A mix seats at most nine hosts.
    public static let maximumCells = 9

    /// The layout at `fields` as a template of its own (id 0); `canvas` is the mix's, for the default.
    public static func parse(_ fields: inout JSONFields, canvas: Size) throws(SpecError) -> LayoutTemplate {
        let pixels = try fields.choice("units", ["widths", "pixels"]) == "pixels"
        let seating = try fields.choice("seating", ["reflow", "fixed"]).flatMap(LayoutTemplate.Seating.init) ?? .reflow
        guard let items = try fields.array("cells"), !items.isEmpty else { throw SpecError(field: fields.name("cells"), "is required: list one cell per seat") }
        guard items.count <= maximumCells else {
            throw SpecError(field: fields.name("cells"), "lists \(items.count) cells; a mix seats at most \(maximumCells) hosts")
        }
        let limit = pixels ? 8192.0 : 4.0
        let cells = try items.enumerated().map { index, item throws(SpecError) -> LayoutTemplate.Cell in
            var cell = try JSONFields(item, path: "\(fields.name("cells"))[\(index)]")
            func required(_ key: String, _ range: ClosedRange<Double>) throws(SpecError) -> Double {
                guard let value = try cell.number(key, in: range) else { throw SpecError(field: cell.name(key), "is required") }
                return value
            }
            let x = try required("x", 0...limit), y = try required("y", 0...limit), width = try required("width", 0.0001...limit)
            let height: LayoutTemplate.Extent
            if !pixels, case .string("full")? = cell.raw("height") {
                height = .full
            } else {
                height = .widths(try required("height", 0.0001...limit))
            }
            let z = try cell.integer("zOrder", in: 0...100)
            let fit = try cell.choice("fit", LayoutTemplate.Fit.allCases.map(\.rawValue)).flatMap(LayoutTemplate.Fit.init)
            try cell.finish()
            return LayoutTemplate.Cell(x: x, y: y, w: width, h: height, z: z, fit: fit, pixels: pixels)
        }
        let template = LayoutTemplate(customCells: cells, canvas: canvas, seating: seating)
        do {
            try template.validate(on: canvas)
        } catch {
            if case .doesNotFit(_, _, _, let slot, let rect) = error {
                throw SpecError(field: "\(fields.name("cells"))[\(slot)]", "is \(rect), not inside the \(canvas) canvas")
            }
            throw SpecError(field: fields.name("cells"), "\(error)")
        }
        return template
    }
}
