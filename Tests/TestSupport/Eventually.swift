import Foundation

/// Waits for background work (a service loop) to reach a state: checks `condition` every
/// 100 ms and fails with `what` after `limit`. The limit is a liveness bound, not a timing
/// assertion: it only ends a test that would otherwise hang.
public func eventually(_ what: String, limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: limit)
    while clock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw TestSetupError("still waiting after \(limit): \(what)")
}
