import Foundation

/// All layout templates, by id, read from a directory of JSON files.
public struct TemplateLibrary: Sendable {
    public let templates: [Int: LayoutTemplate]

    /// Reads every `*.json` file in `directory`.
    public init(directory: URL) throws(LayoutError) {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw .unreadableTemplate(file: directory.path, reason: error.localizedDescription)
        }
        var templates: [Int: LayoutTemplate] = [:]
        for file in files {
            let template: LayoutTemplate
            do {
                template = try JSONDecoder().decode(LayoutTemplate.self, from: Data(contentsOf: file))
            } catch {
                throw .unreadableTemplate(file: file.path, reason: "\(error)")
            }
            guard templates[template.id] == nil else { throw .duplicateTemplate(template.id) }
            try template.validate(on: template.canvas)
            templates[template.id] = template
        }
        guard !templates.isEmpty else { throw .templatesNotFound(searched: [directory.path]) }
        self.templates = templates
    }

    /// The templates shipped in `assets/templates`, found through `ARENA_ASSETS`, next to the
    /// installed executable (`../share/arena/templates`), or in this source checkout.
    public static func bundled() throws(LayoutError) -> TemplateLibrary {
        let candidates = templateDirectories()
        for directory in candidates where FileManager.default.fileExists(atPath: directory.path) {
            return try TemplateLibrary(directory: directory)
        }
        throw .templatesNotFound(searched: candidates.map(\.path))
    }

    /// A template by id.
    public func template(_ id: Int) throws(LayoutError) -> LayoutTemplate {
        guard let template = templates[id] else { throw .unknownTemplate(id, known: templates.keys.sorted()) }
        return template
    }

    private static func templateDirectories() -> [URL] {
        assetFolders().map { $0.appendingPathComponent("templates") }
    }

    /// Where Arena's assets may be, in order: `ARENA_ASSETS`, next to the installed executable
    /// (`../share/arena`), this source checkout's `assets`.
    public static func assetFolders() -> [URL] {
        var folders: [URL] = []
        if let assets = ProcessInfo.processInfo.environment["ARENA_ASSETS"] { folders.append(URL(fileURLWithPath: assets)) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        folders.append(executable.deletingLastPathComponent().appendingPathComponent("../share/arena").standardized)
        let checkout = URL(fileURLWithPath: #filePath)  // Sources/ArenaLayout/TemplateLibrary.swift
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        folders.append(checkout.appendingPathComponent("assets"))
        return folders
    }
}
