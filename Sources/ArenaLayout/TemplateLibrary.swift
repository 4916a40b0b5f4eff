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

    /// Where Arena's assets may be, in order: `ARENA_ASSETS`; next to the running executable
    /// (`../share/arena`, as `make install` lays it out); the source checkout it was built in
    /// (a folder above it with `Package.swift` and `assets`).
    public static func assetFolders() -> [URL] {
        var folders: [URL] = []
        if let assets = ProcessInfo.processInfo.environment["ARENA_ASSETS"] { folders.append(URL(fileURLWithPath: assets)) }
        // The running program itself: argv[0] has no folder when the shell found it on PATH.
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let folder = URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent()
        folders.append(folder.appendingPathComponent("../share/arena").standardized)
        var above = folder
        for _ in 0..<6 {
            let assets = above.appendingPathComponent("assets")
            if FileManager.default.fileExists(atPath: above.appendingPathComponent("Package.swift").path),
               FileManager.default.fileExists(atPath: assets.path) {
                folders.append(assets)
                break
            }
            above.deleteLastPathComponent()
        }
        return folders
    }
}
