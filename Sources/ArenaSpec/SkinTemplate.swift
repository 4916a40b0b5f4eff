/// A skin text's template, read one way by the check and by the drawing: `{field}` is a value,
/// `{{` and `}}` are braces, anything else is itself.
public enum SkinTemplate {
    public enum Piece: Equatable, Sendable {
        case literal(String)
        case field(String)
    }

    /// The pieces of `template`; nil when a `{` is not closed.
    public static func pieces(_ template: String) -> [Piece]? {
        var pieces: [Piece] = [], literal = ""
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index], next = template.index(after: index)
            if character == "{" || character == "}", next < template.endIndex, template[next] == character {
                literal.append(character)
                index = template.index(after: next)
            } else if character == "{" {
                guard let close = template[next...].firstIndex(of: "}") else { return nil }
                if !literal.isEmpty { pieces.append(.literal(literal)) }
                literal = ""
                pieces.append(.field(String(template[next..<close])))
                index = template.index(after: close)
            } else {
                literal.append(character)
                index = next
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        return pieces
    }

    /// `template` with each field's value from `value` (a template that does not parse is shown as written).
    public static func fill(_ template: String, _ value: (String) -> String) -> String {
        guard let pieces = pieces(template) else { return template }
        return pieces.map { piece in
            switch piece {
            case .literal(let text): return text
            case .field(let name): return value(name)
            }
        }.joined()
    }

    /// `text` as a template that shows itself: braces doubled.
    public static func literal(_ text: String) -> String {
        text.replacingOccurrences(of: "{", with: "{{").replacingOccurrences(of: "}", with: "}}")
    }
}
