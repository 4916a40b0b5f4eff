import ArenaLayout
import ArenaSession
import ArenaSpec
import GStreamerKit

/// Why a mix cannot run, in one sentence that names the field, file or stream at fault.
public enum MixError: Error, CustomStringConvertible {
    case spec(SpecError)
    case layout(LayoutError)
    case timeline(TimelineError)
    /// A host's input that cannot be used; `field` is its place in the spec (`hosts[1].input`).
    case input(field: String, uri: String, reason: String)
    case output(path: String, reason: String)
    case pipeline(GStreamerError)
    /// A change to a live mix that has ended (or is ending).
    case ended

    public var description: String {
        switch self {
        case .spec(let error): return error.description
        case .layout(let error): return error.description
        case .timeline(let error): return error.description
        case .input(let field, let uri, let reason): return "\(field) (\(uri)): \(reason)"
        case .output(let path, let reason): return "output \(path): \(reason)"
        case .pipeline(let error): return "mix failed: \(error)"
        case .ended: return "the mix has ended"
        }
    }
}
