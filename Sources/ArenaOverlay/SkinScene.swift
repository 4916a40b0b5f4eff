import ArenaLayout
import ArenaSession
import ArenaSpec

/// One top-level skin element as one frame shows it: its conditions applied, its texts filled
/// in, its colours looked up. Equal items draw identical images, so images are cached by item.
public struct OverlayItem: Hashable, Sendable {
    /// The element's name in the skin, if it has one.
    public let name: String?
    /// The resolved element: no conditions left, literal texts and colours.
    let element: SkinElement
    /// The box it is placed in: its host's cell, the battle area or the canvas.
    public let frame: Rect
    /// The host whose slot drew it (whose avatar an image element shows); nil for the battle container and decorations.
    public let user: String?
    /// A bar's left share, 0...1.
    let split: Double

    /// Every text the item draws, in drawing order (for tests and logs).
    public var texts: [String] {
        func collect(_ element: SkinElement) -> [String] {
            (element.text.isEmpty ? [] : [element.text]) + element.texts + element.children.flatMap(collect)
        }
        return collect(element)
    }
}

extension OverlayState {
    /// The items to draw, bottom first: each host's background (without a picture), each
    /// host's foreground, each host's battle widget while a battle shows, then the battle container.
    public func items(skin: Skin) -> [OverlayItem] {
        var items: [OverlayItem] = []
        let font = skin.font ?? "DejaVu Sans"
        func add(_ elements: [SkinElement]?, host: Host?) {
            let context = SkinContext(state: self, host: host)
            for element in elements ?? [] {
                guard let resolved = context.resolve(element, palette: skin.palette, font: font) else { continue }
                let frame: Rect?
                switch element.frame ?? (host == nil ? .battleArea : .cell) {
                case .cell: frame = host?.cell
                case .battleArea: frame = context.battleArea
                case .canvas: frame = Rect(x: 0, y: 0, width: canvas.width, height: canvas.height)
                }
                guard let frame else { continue }
                let split = element.kind == .bar ? (battle?.leftShare ?? 0.5) : 0
                items.append(OverlayItem(name: element.name, element: resolved, frame: frame,
                                         user: host?.userId, split: (split * 10_000).rounded() / 10_000))
            }
        }
        for host in hosts where host.showsAvatar { add(skin.coHostBackground, host: host) }
        for host in hosts { add(skin.coHostForeground, host: host) }
        if battle != nil {
            for host in hosts { add(skin.battleUser, host: host) }
            add(skin.battleContainer, host: nil)
        }
        add(decorationElements(), host: nil)
        return items
    }

    /// The watermarks and captions as skin elements on the canvas (pixels made design units,
    /// both axes in width units, so that they round back to the same pixels).
    private func decorationElements() -> [SkinElement] {
        let unit = DesignUnits(canvas: canvas).w
        func placed(_ kind: SkinElement.Kind, _ anchor: SkinAnchor, _ x: Int, _ y: Int) -> SkinElement {
            var element = SkinElement(kind: kind)
            element.frame = .canvas
            element.anchor = anchor
            element.uniform = true
            (element.offsetX, element.offsetY) = (Double(x) / unit, Double(y) / unit)
            return element
        }
        let marks = decorations.watermarks.map { mark in
            var image = placed(.image, mark.anchor, mark.offsetX, mark.offsetY)
            image.name = "watermark"
            image.source = mark.image
            image.width = mark.width.map { .units(Double($0) / unit) }
            image.height = mark.height.map { .units(Double($0) / unit) }
            image.opacity = mark.opacity
            return image
        }
        let captions = decorations.captions.map { caption in
            var text = SkinElement(kind: .text)
            text.text = SkinTemplate.literal(caption.text)
            text.size = .units(caption.size / unit)
            text.colour = .argb(caption.colour)
            text.bold = caption.bold
            text.font = caption.font
            var box = placed(.box, caption.anchor, caption.offsetX, caption.offsetY)
            box.name = "caption"
            box.fill = caption.fill.map { .argb($0) }
            box.radius = caption.fill == nil ? 0 : 999
            box.padding = caption.fill == nil ? [0, 0, 0, 0] : [caption.size / 2 / unit, caption.size / 6 / unit, caption.size / 2 / unit, caption.size / 6 / unit]
            box.maxWidth = .percent(1, plus: 0)
            box.children = [text]
            return box
        }
        return marks + captions
    }
}

/// What conditions and templates see: the state, and the host whose slot is drawn (none for
/// the battle container).
struct SkinContext {
    let state: OverlayState
    let host: OverlayState.Host?
    /// The battling hosts on screen, in slot order.
    let battling: [OverlayState.Host]

    init(state: OverlayState, host: OverlayState.Host?) {
        self.state = state
        self.host = host
        battling = state.battle.map { battle in state.hosts.filter { battle.participants.contains($0.userId) } } ?? []
    }

    /// The union of the battling hosts' cells, if any is on screen.
    var battleArea: Rect? {
        battling.map(\.cell).reduce(nil) { area, cell in
            guard let area else { return cell }
            let x = min(area.x, cell.x), y = min(area.y, cell.y)
            return Rect(x: x, y: y, width: max(area.maxX, cell.maxX) - x, height: max(area.maxY, cell.maxY) - y)
        }
    }

    /// `element` with its conditions applied (nil: not drawn), texts filled in, colours and font looked up.
    func resolve(_ element: SkinElement, palette: [String: ARGB], font: String) -> SkinElement? {
        guard element.when.allSatisfy(holds) else { return nil }
        var resolved = element
        resolved.when = []
        resolved.text = fill(element.text)
        resolved.texts = element.texts.map(fill)
        resolved.font = element.font ?? font
        func look(_ colour: SkinColour) -> SkinColour {
            guard case .named(let name) = colour else { return colour }
            return .argb(palette[name] ?? ARGB(0xFFFF_FFFF))
        }
        resolved.fill = element.fill.map(look)
        resolved.colour = look(element.colour)
        resolved.colours = element.colours.map(look)
        resolved.children = element.children.compactMap { resolve($0, palette: palette, font: font) }
        return resolved
    }

    func holds(_ condition: SkinCondition) -> Bool {
        let battle = state.battle
        let value: Bool
        switch condition.test {
        case .flag(let flag):
            switch flag {
            case .battle: value = battle != nil
            case .running: value = battle != nil && battle?.sinceEnd == nil
            case .ended: value = battle?.sinceEnd != nil
            case .justStarted: value = battle.map { $0.sinceEnd == nil && $0.sinceStart < 1_000_000_000 } ?? false
            case .showingResult: value = battle.map { $0.outcome != nil && ($0.sinceEnd ?? .max) < Session.resultPeriod } ?? false
            case .win: value = battle?.outcome == .win
            case .lose: value = battle?.outcome == .lose
            case .draw: value = battle?.outcome == .draw
            case .timeUp: value = battle?.remaining == 0
            case .oneVersusOne: value = state.hosts.count == 2 && battling.count == 2
            case .inBattle: value = host.map { battle?.participants.contains($0.userId) == true } ?? false
            case .connecting: value = host.map { battle?.sinceEnd == nil && battle?.participants.contains($0.userId) == false } ?? false
            case .noVideo: value = host?.showsAvatar ?? false
            case .micOff: value = host?.micOff ?? false
            case .winner: value = battle?.sinceEnd != nil && rank == 1
            case .speaking: value = host?.speaking ?? false
            case .voiceRoom: value = state.voiceRoom
            }
        case .compare(let number, let comparison, let right):
            let left: Int? = switch number {
            case .hosts: state.hosts.count
            case .rank: rank
            }
            value = left.map { comparison.holds($0, right) } ?? false
        }
        return value != condition.negated
    }

    private var rank: Int? { host.flatMap { state.battle?.ranks[$0.userId] } }

    private func score(_ host: OverlayState.Host?) -> String {
        host.map { String(state.battle?.scores[$0.userId] ?? 0) } ?? "0"
    }

    /// `template` with its `{field}`s filled in and `{{`, `}}` made single braces.
    func fill(_ template: String) -> String {
        SkinTemplate.fill(template, value(of:))
    }

    private func value(of field: String) -> String {
        switch field {
        case "name": return host?.name ?? ""
        case "userId": return host?.userId ?? ""
        case "score": return score(host)
        case "rank": return rank.map(String.init) ?? ""
        case "timeLeft":
            let seconds = Int(((state.battle?.remaining ?? 0) + 999_999_999) / 1_000_000_000)
            return "\(seconds / 60):" + (seconds % 60 < 10 ? "0" : "") + String(seconds % 60)
        case "leftScore": return score(battling.first)
        case "rightScore": return score(battling.dropFirst().first)
        case "result":
            switch state.battle?.outcome {
            case .win?: return "WIN"
            case .lose?: return "LOSE"
            case .draw?: return "DRAW"
            case nil: return ""
            }
        case "hosts": return String(state.hosts.count)
        default: return ""
        }
    }
}
