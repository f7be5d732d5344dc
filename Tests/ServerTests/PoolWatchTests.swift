import CreditCore
import Foundation
import Server
import Store
import TestSupport
import Testing

/// Half a pool held by calls the database never answered asks for one graceful restart, and no
/// more; fewer leave the process alone.
@Suite(.serialized) struct PoolWatchTests {
    @Test func halfAPoolOfStuckCallsAsksForOneRestart() async throws {
        #expect(PoolWatch.tooMany([(0, 16), (7, 16)]) == nil)
        #expect(PoolWatch.tooMany([(0, 16), (8, 16)]).map { [$0.stuck, $0.size] } == [8, 16])
        #expect(PoolWatch.tooMany([(1, 2)]).map { [$0.stuck, $0.size] } == [1, 2])

        PoolWatch.restartRequested.withLock { $0 = false }
        defer { PoolWatch.restartRequested.withLock { $0 = false } }
        let counts = Locked<[(stuck: Int, size: Int)]>([(3, 16)])
        let restarts = Locked(0)
        let watch = PoolWatch.service(
            pools: [],
            logger: TestEnvironment.logger,
            startAfter: nil,
            interval: .milliseconds(20),
            counts: { counts.withLock { $0 } },
            restart: { restarts.withLock { $0 += 1 } }
        )
        let running = Task { try await watch.run() }
        defer { running.cancel() }
        try await Task.sleep(for: .milliseconds(200))
        #expect(restarts.withLock { $0 } == 0)
        #expect(!PoolWatch.restartRequested.withLock { $0 })
        counts.withLock { $0 = [(3, 16), (8, 16)] }
        try await eventually("a restart is asked for") { restarts.withLock { $0 } == 1 }
        try await Task.sleep(for: .milliseconds(200))
        #expect(restarts.withLock { $0 } == 1)
        #expect(PoolWatch.restartRequested.withLock { $0 })
    }
}
