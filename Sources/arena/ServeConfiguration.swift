import Configuration
import Foundation
import SystemPackage

/// `arena serve`'s settings besides its command line, read through swift-configuration: the
/// environment (`ARENA_MAX_MIXES=4`: ARENA_ and the option's name) over a JSON config file
/// (`--config FILE`, `{"maxMixes": 4}`: the option's name in camelCase). A command-line option
/// wins over both. A value that is there but of the wrong kind is an error naming where it was.
struct ServeConfiguration {
    private let reader: ConfigReader
    private let file: String?
    /// The keys the file sets.
    private let fileKeys: Set<String>

    /// Reads the environment, and `file` if given: a JSON object whose keys are all options' (`known`).
    init(file: String?, known: Set<String>) throws {
        self.file = file
        var providers: [any ConfigProvider] = [EnvironmentVariablesProvider().prefixKeys(with: "arena")]
        var keys: Set<String> = []
        if let file {
            guard let data = FileManager.default.contents(atPath: file),
                  let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw ConfigurationError(message: "--config \(file) cannot be read as a JSON object")
            }
            keys = Set(object.keys)
            if let unknown = keys.subtracting(known).sorted().first {
                throw ConfigurationError(message: "--config \(file): '\(unknown)' is not a setting (known: \(known.sorted().joined(separator: ", ")))")
            }
            let loaded = Loaded<FileProvider<JSONSnapshot>>()
            let done = DispatchSemaphore(value: 0)
            Task {
                do {
                    loaded.set(.success(try await FileProvider<JSONSnapshot>(filePath: FilePath(file))))
                } catch {
                    loaded.set(.failure(error))
                }
                done.signal()
            }
            done.wait()
            providers.append(try loaded.get())
        }
        fileKeys = keys
        reader = ConfigReader(providers: providers)
    }

    func string(_ key: String) throws -> String? { try read(key) { try reader.requiredString(forKey: ConfigKey(key)) } }
    func int(_ key: String) throws -> Int? { try read(key) { try reader.requiredInt(forKey: ConfigKey(key)) } }
    func bool(_ key: String) throws -> Bool? { try read(key) { try reader.requiredBool(forKey: ConfigKey(key)) } }
    /// A list: a JSON array in the file, comma-separated in the environment.
    func strings(_ key: String) throws -> [String]? { try read(key) { try reader.requiredStringArray(forKey: ConfigKey(key)) } }

    /// The environment variable that sets `key`: `maxMixes` -> `ARENA_MAX_MIXES`.
    static func variable(_ key: String) -> String {
        "ARENA_" + key.reduce(into: "") { name, character in name += character.isUppercase ? "_\(character)" : character.uppercased() }
    }

    private func read<T>(_ key: String, _ lookup: () throws -> T) throws -> T? {
        guard ProcessInfo.processInfo.environment[Self.variable(key)] != nil || fileKeys.contains(key) else { return nil }
        do {
            return try lookup()
        } catch {
            let places = [Self.variable(key)] + (file.map { ["'\(key)' in \($0)"] } ?? [])
            throw ConfigurationError(message: "\(places.joined(separator: " or ")) is not a valid value for --\(Self.option(key))")
        }
    }

    /// The command-line option of `key`: `maxMixes` -> `max-mixes`.
    static func option(_ key: String) -> String {
        key.reduce(into: "") { name, character in name += character.isUppercase ? "-\(character.lowercased())" : String(character) }
    }
}

struct ConfigurationError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A value handed from a task to the thread that waits for it.
private final class Loaded<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<Value, Error>?

    func set(_ result: Result<Value, Error>) { lock.withLock { self.result = result } }
    func get() throws -> Value { try lock.withLock { result! }.get() }
}
