import ArenaFrame
import ArenaLayout
import ArenaSession
import Testing

/// Frame plans from sessions, layouts and input freshness: no GStreamer, milliseconds.
@Suite struct FramePlanTests {
    private let canvas = Size(width: 720, height: 1280)
    private let second: UInt64 = 1_000_000_000

    private func layout(_ session: Session) throws -> FrameLayout {
        let template = try TemplateLibrary.bundled().template(600)
        return try LayoutSchedule(sessions: SessionSchedule(initial: session), template: template, canvas: canvas).layout(at: 0)
    }

    private func session(_ users: [String]) throws -> Session {
        var session = Session(owner: users[0], knownUsers: Set(users), maxHosts: 9)
        for user in users { _ = try session.apply(.hostJoined(userId: user)) }
        return session
    }

    private func plan(_ session: Session, at time: UInt64, staleAfter: UInt64? = 500_000_000,
                      _ freshness: [String: InputFreshness]) throws -> FramePlan {
        FramePlanner(canvas: canvas, staleAfter: staleAfter).plan(
            at: time, layout: try layout(session), session: session, names: ["a": "Alice"], freshness: freshness,
            scoreChanges: { _ in (nil, nil) })
    }

    @Test func freshInputsShowVideoAndStaleOnesThePlaceholder() throws {
        let hosts = try session(["a", "b"])
        let frame = try plan(hosts, at: 10 * second, [
            "a": InputFreshness(hasFrame: true, latestFrame: 10 * second - 40_000_000),
            "b": InputFreshness(hasFrame: true, latestFrame: 9 * second),
        ])
        #expect(frame.cells.map(\.userId) == ["a", "b"])
        #expect(frame.cell(of: "a")?.showsVideo == true)
        #expect(frame.cell(of: "b")?.showsVideo == false)
        #expect(frame.overlay.hosts.map(\.showsAvatar) == [false, true])
        #expect(frame.overlay.hosts.map(\.name) == ["Alice", "b"])
        // The cells are the template's, side by side in the top half.
        let a = try #require(frame.cell(of: "a")), b = try #require(frame.cell(of: "b"))
        #expect(a.rect.y == b.rect.y && a.rect.x < b.rect.x && a.rect.width == b.rect.width)
    }

    @Test func aRenderNeverCallsAnInputStale() throws {
        let frame = try plan(try session(["a", "b"]), at: 60 * second, staleAfter: nil, [
            "a": InputFreshness(hasFrame: true, latestFrame: 0), "b": InputFreshness(hasFrame: false, latestFrame: nil),
        ])
        #expect(frame.cells.map(\.showsVideo) == [true, true])
        // Without a staged frame the placeholder (under the video) shows, and so does the avatar.
        #expect(frame.overlay.hosts.map(\.showsAvatar) == [false, true])
    }

    @Test func cameraOffHidesTheVideoAndMicOffMutes() throws {
        var hosts = try session(["a", "b"])
        _ = try hosts.apply(.cameraOff(userId: "b"))
        _ = try hosts.apply(.micOff(userId: "a"))
        let fresh = InputFreshness(hasFrame: true, latestFrame: second)
        let frame = try plan(hosts, at: second, ["a": fresh, "b": fresh])
        #expect(frame.cell(of: "b")?.showsVideo == false)
        #expect(frame.overlay.hosts.first { $0.userId == "b" }?.showsAvatar == true)
        #expect(FramePlanner.isMuted("a", in: try layout(hosts)))
        #expect(!FramePlanner.isMuted("b", in: try layout(hosts)))
        #expect(FramePlanner.isMuted("carol", in: try layout(hosts)))
    }
}
