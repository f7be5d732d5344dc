import CreditCore
import Foundation
import Store
import Testing

@testable import Server

/// A request is answered within its deadline even when its work never ends (as a query lost by
/// the driver in a failover does); the work is cancelled; quick work is not disturbed.
@Suite struct RequestDeadlineTests {
    @Test func workThatDoesNotEndIsAnsweredAtTheDeadlineAndCancelled() async throws {
        // The work waits on something only the test releases, ignoring cancellation (as a query
        // the driver lost does); it notes whether it was cancelled and when it ended.
        let gate = Locked<CheckedContinuation<Void, Never>?>(nil)
        let state = Locked((started: false, ended: false, cancelled: false))
        await #expect(throws: Deadline.Expired.self) {
            try await Deadline.run(.milliseconds(200)) { () async throws -> Int in
                await withCheckedContinuation { c in
                    gate.withLock { $0 = c }
                    state.withLock { $0.started = true }
                }
                state.withLock {
                    $0.cancelled = Task.isCancelled
                    $0.ended = true
                }
                return 1
            }
        }
        // Answered while the work still waits; the work was cancelled, and ends once released.
        #expect(!state.withLock { $0.ended })
        while !state.withLock({ $0.started }) { try await Task.sleep(for: .milliseconds(10)) }
        gate.withLock { $0 }?.resume()
        while !state.withLock({ $0.ended }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(state.withLock { $0.cancelled })
    }

    @Test func quickWorkAndItsErrorsPassThrough() async throws {
        #expect(try await Deadline.run(.seconds(5)) { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await Deadline.run(.seconds(5)) { () async throws -> Int in throw Refused() } }
    }
}
