/// A picture of a template's cells as SVG: one panel per number of connected hosts (1 to the
/// template's maximum), each the canvas at `scale`, every cell outlined and numbered by slot
/// (later slots drawn above earlier ones, as in the output). Made from the same geometry the
/// mixer uses, so the README's pictures cannot drift from it.
public enum LayoutDiagram {
    public static func svg(_ template: LayoutTemplate, scale: Double = 0.125) throws -> String {
        let width = Double(template.canvas.width) * scale, height = Double(template.canvas.height) * scale
        let gap = 16.0, top = 34.0, bottom = 22.0
        let title = "\(template.id) · \(escaped(template.name)) · \(template.canvas.width)x\(template.canvas.height), \(template.seating.rawValue) seating"
        let total = max(Double(template.maxHosts) * (width + gap) + gap, Double(title.count) * 8 + 2 * gap)
        var parts = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(format(total))" height="\##(format(top + height + bottom))" font-family="DejaVu Sans, sans-serif">"##,
            ##"<rect width="100%" height="100%" fill="#ffffff"/>"##,
            ##"<text x="\##(format(gap))" y="20" font-size="14" fill="#202020">\##(title)</text>"##,
        ]
        for count in 1...template.maxHosts {
            var seats = SeatMap(template: template)
            try seats.update(connected: (0..<count).map { "host\($0)" }, owner: "host0")
            let left = gap + Double(count - 1) * (width + gap)
            parts.append(##"<rect x="\##(format(left))" y="\##(format(top))" width="\##(format(width))" height="\##(format(height))" fill="#2b2f3a"/>"##)
            for placement in template.placements(seats, on: template.canvas).sorted(by: { $0.zOrder < $1.zOrder }) {
                let rect = placement.rect
                let (x, y) = (left + Double(rect.x) * scale, top + Double(rect.y) * scale)
                let (w, h) = (Double(rect.width) * scale, Double(rect.height) * scale)
                parts.append(##"<rect x="\##(format(x))" y="\##(format(y))" width="\##(format(w))" height="\##(format(h))" fill="\##(colours[placement.slot % colours.count])" stroke="#ffffff" stroke-width="1"/>"##)
                parts.append(##"<text x="\##(format(x + w / 2))" y="\##(format(y + h / 2 + 5))" font-size="13" text-anchor="middle" fill="#ffffff">\##(placement.slot)</text>"##)
            }
            parts.append(##"<text x="\##(format(left + width / 2))" y="\##(format(top + height + 16))" font-size="12" text-anchor="middle" fill="#505050">\##(count) host\##(count == 1 ? "" : "s")</text>"##)
        }
        return (parts + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    private static let colours = ["#1c66e5", "#f15065", "#2e9e5b", "#d98a1c", "#8a4fd1", "#1c9ea8", "#c2417a", "#6b7a1c", "#4a5ad9"]

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
