import ArenaLayout
import ArenaMixer
import ArenaSpec
import Foundation

/// A checked `PATCH /v1/mixes/{id}` body: `{template? or layout?, decorations?, outputs?,
/// addHosts?}`. Checked against the mix's spec alone, so that any instance can check a change
/// to a mix another one runs.
struct MixPatch {
    let addHosts: [MixSpec.Host]
    /// A template, or cells given one by one.
    let template: LayoutTemplate?
    let decorations: Decorations?
    let outputs: [OutputTarget]?

    /// `confine` checks that the outputs and avatars stay in the data folder.
    init(_ body: Data, spec: MixSpec, templates: TemplateLibrary, dataFolder: URL,
         confine: (_ outputs: [OutputTarget], _ hosts: [MixSpec.Host]) throws -> Void) throws {
        var fields = try JSONFields.decode(body, source: "body")
        if fields.contains("hosts") {
            throw APIError(.badRequest, "hosts cannot be replaced while a mix runs: add hosts with addHosts; a host leaves by a hostLeft event")
        }
        addHosts = try fields.array("addHosts")?.enumerated().map { index, item throws in
            try MixSpec.host(item, path: "addHosts[\(index)]", relativeTo: dataFolder)
        } ?? []
        let templateId = try fields.integer("template", in: 0...99_999)
        outputs = try fields.array("outputs").map { items throws in
            try MixSpec.outputTargets(items, audio: spec.output.audio.codec, relativeTo: dataFolder)
        }
        decorations = try fields.object("decorations").map { object throws in
            var object = object
            let decorations = try Decorations.parse(&object, images: Set(spec.images.keys))
            try object.finish()
            return decorations
        }
        let canvas: Size
        do {
            canvas = try spec.canvasSize ?? spec.customLayout?.canvas ?? templates.template(spec.templateId).canvas
        } catch {
            throw APIError(.unprocessableContent, "the mix's template \(spec.templateId): \(error)")
        }
        var custom: LayoutTemplate?
        if var layout = try fields.object("layout") {
            guard templateId == nil else { throw APIError(.badRequest, "layout is given with template; give one of them") }
            custom = try CustomLayout.parse(&layout, canvas: canvas)
            try layout.finish()
        }
        try fields.finish()
        if let outputs, outputs.isEmpty { throw APIError(.badRequest, "outputs must list at least one output") }
        try confine(outputs ?? [], addHosts)
        guard let templateId else {
            template = custom
            return
        }
        do {
            let found = try templates.template(templateId)
            try found.validate(on: canvas)
            template = found
        } catch {
            throw APIError(.unprocessableContent, "template is \(templateId): \(error)")
        }
    }

    /// Applies the change: hosts first (the likeliest to be refused), in order; then the
    /// layout, the decorations, then outputs. `applied` tells, after a refusal, whether a part applied before it.
    func apply(to mix: RunningMix, applied: inout Bool) throws(MixError) {
        for host in addHosts {
            try mix.addHost(host)
            applied = true
        }
        if let template {
            try mix.switchTemplate(to: template)
            applied = true
        }
        if let decorations {
            try mix.setDecorations(decorations)
            applied = true
        }
        if let outputs { try mix.setOutputs(outputs) }
    }

    /// Applies the change to `entry`'s mix, on the service's blocking threads (an output
    /// finalised on the way waits for its file), its outputs' files taken first (409 if another
    /// mix here writes one) and settled after: whether any part applied, and the refusal, if any.
    func apply(to mix: RunningMix, of entry: MixEntry, files: OutputFiles) async throws -> (applied: Bool, error: MixError?) {
        if let outputs { try files.add(outputs, for: entry) }
        defer { if outputs != nil { files.settle(entry, to: mix.outputs) } }
        do {
            return try await offload {
                var applied = false
                do throws(MixError) {
                    try apply(to: mix, applied: &applied)
                    return (applied, nil)
                } catch {
                    return (applied, error)
                }
            }
        } catch {
            return (false, .ended)  // the service's blocking threads have stopped: it is shutting down
        }
    }
}
