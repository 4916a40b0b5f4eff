import ArenaLayout
import ArenaMixer
import ArenaSpec
import Foundation

/// A checked `PATCH /v1/mixes/{id}` body: `{template?, outputs?, addHosts?}`. Checked against
/// the mix's spec alone, so that any instance can check a change to a mix another one runs.
struct MixPatch {
    let addHosts: [MixSpec.Host]
    let template: LayoutTemplate?
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
        try fields.finish()
        if let outputs, outputs.isEmpty { throw APIError(.badRequest, "outputs must list at least one output") }
        try confine(outputs ?? [], addHosts)
        guard let templateId else {
            template = nil
            return
        }
        do {
            let found = try templates.template(templateId)
            try found.validate(on: try spec.canvasSize ?? templates.template(spec.templateId).canvas)
            template = found
        } catch {
            throw APIError(.unprocessableContent, "template is \(templateId): \(error)")
        }
    }

    /// Applies the change: hosts first (the likeliest to be refused), in order; then the
    /// template, then outputs. `applied` tells, after a refusal, whether a part applied before it.
    func apply(to mix: RunningMix, applied: inout Bool) throws(MixError) {
        for host in addHosts {
            try mix.addHost(host)
            applied = true
        }
        if let template {
            try mix.switchTemplate(to: template)
            applied = true
        }
        if let outputs { try mix.setOutputs(outputs) }
    }
}
