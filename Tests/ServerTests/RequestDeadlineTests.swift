import CreditCore
import Foundation
import Testing

@testable import Server

/// A request is answered within its deadline even when its work never ends (as a query lost by
/// the driver in a failover does); the work is cancelled; quick work is not disturbed.
@Suite struct RequestDeadlineTests {
    @Test func workThatNeverEndsIsAnsweredAtTheDeadlineAndCancelled() async throws {
        let cancelled = Locked(false)
        let began = ContinuousClock.now
        await #expect(throws: RequestDeadline.Expired.self) {
            try await RequestDeadline.run(.milliseconds(200)) { () async throws -> Int in
                // Ignores cancellation for a while, as a stuck query does, then notes it.
                try? await Task.sleep(for: .seconds(3_600))
                cancelled.withLock { $0 = Task.isCancelled }
                return 1
            }
        }
        let took = ContinuousClock.now - began
        #expect(took < .seconds(5), "\(took)")
        // Its sleep was cancelled: the work ends soon after.
        for _ in 0..<100 where !cancelled.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(cancelled.withLock { $0 })
    }

    @Test func quickWorkAndItsErrorsPassThrough() async throws {
        #expect(try await RequestDeadline.run(.seconds(5)) { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await RequestDeadline.run(.seconds(5)) { () async throws -> Int in throw Refused() } }
    }
}
