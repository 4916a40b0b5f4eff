@testable import ArenaServer
import Testing

/// The per-host seconds a live mix reports (broken pictures, input delays): as metrics, one
/// sample per host in user-id order, a user id unable to end its label or add a line.
struct PerHostFieldsTests {
    @Test func perHostSamplesAreOrderedAndEscaped() {
        let lines = ServiceMetrics.perHost("room", ["bob": 0.3, "a\"}\nx 1": 0.0667])
        #expect(lines.map(\.0) == [#"{mix="room",host="a\"}\nx 1"}"#, #"{mix="room",host="bob"}"#])
        #expect(lines.map(\.1) == ["0.067", "0.300"])
    }
}
