/// An event that changes who is on screen.
public enum SessionEvent: Equatable, Sendable {
    case hostJoined(userId: String)
    case hostLeft(userId: String)
    case cameraOn(userId: String)
    case cameraOff(userId: String)

    public var userId: String {
        switch self {
        case .hostJoined(let user), .hostLeft(let user), .cameraOn(let user), .cameraOff(let user): return user
        }
    }
}

/// Why an event was refused; the state is unchanged.
public enum SessionError: Error, Equatable, CustomStringConvertible {
    case unknownUser(String)
    case alreadyConnected(String)
    case notConnected(String)
    case full(maxHosts: Int, userId: String)

    public var description: String {
        switch self {
        case .unknownUser(let user): return "unknown user '\(user)' (not one of the mix's hosts)"
        case .alreadyConnected(let user): return "'\(user)' is already connected"
        case .notConnected(let user): return "'\(user)' is not connected"
        case .full(let maxHosts, let user): return "cannot connect '\(user)': the layout seats at most \(maxHosts) hosts"
        }
    }
}

/// The co-host roster: who is connected, in slot order, and whose camera is off.
public struct CoHostState: Equatable, Sendable {
    /// The mix's own host; always slot 0 while connected.
    public let owner: String
    public let knownUsers: Set<String>
    public let maxHosts: Int
    /// Connected hosts: the owner first, then the others in join order.
    public private(set) var connected: [String] = []
    public private(set) var cameraOff: Set<String> = []

    public init(owner: String, knownUsers: Set<String>, maxHosts: Int) {
        self.owner = owner
        self.knownUsers = knownUsers.union([owner])
        self.maxHosts = maxHosts
    }

    /// Applies `event`, or throws and leaves the state as it was.
    public mutating func apply(_ event: SessionEvent) throws(SessionError) {
        let user = event.userId
        guard knownUsers.contains(user) else { throw .unknownUser(user) }
        switch event {
        case .hostJoined:
            guard !connected.contains(user) else { throw .alreadyConnected(user) }
            guard connected.count < maxHosts else { throw .full(maxHosts: maxHosts, userId: user) }
            if user == owner { connected.insert(user, at: 0) } else { connected.append(user) }
        case .hostLeft:
            guard let index = connected.firstIndex(of: user) else { throw .notConnected(user) }
            connected.remove(at: index)
        case .cameraOn:
            cameraOff.remove(user)
        case .cameraOff:
            cameraOff.insert(user)
        }
    }
}
