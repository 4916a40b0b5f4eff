/// What `call` returned or threw, to look at after the fact (`#expect(throws:)` takes no async work).
public func outcome<T>(_ call: () async throws -> T) async -> Result<T, any Error> {
    do {
        return .success(try await call())
    } catch {
        return .failure(error)
    }
}
