import CreditCore
import Foundation
import Store
import TestSupport
import Testing

/// Where the read-only routes read: the bounded-staleness window, and a "replica" that is not one.
@Suite struct ReadsTests {
    @Test func theTargetIsTheNewestLeaderPositionAtLeastMaxLagOld() {
        var w = Reads.LagWindow(maxLag: .milliseconds(1_000))
        let t0 = ContinuousClock.now
        // Just started: no sample is a second old yet, so the oldest (stricter) is the target.
        #expect(w.record(at: t0, lsn: 100) == 100)
        #expect(w.record(at: t0 + .milliseconds(250), lsn: 200) == 100)
        #expect(w.record(at: t0 + .milliseconds(500), lsn: 300) == 100)
        // At 1.25 s the newest sample at least 1 s old is the one of 0.25 s.
        #expect(w.record(at: t0 + .milliseconds(1_250), lsn: 400) == 200)
        #expect(w.record(at: t0 + .milliseconds(1_500), lsn: 500) == 300)
        // The leader idle: the position stays, and so does the target once a second has passed.
        #expect(w.record(at: t0 + .milliseconds(3_000), lsn: 500) == 500)
    }

    @Test func aReplicaThatIsNotInRecoveryOrDoesNotAnswerIsNeverRead() async throws {
        try await TestDatabase.with { db in
            // The "replica" here is the same primary: not in recovery, so never fresh.
            let reads = Reads(primary: db.app, replica: db.owner, maxLagMilliseconds: 100)
            for _ in 0..<3 { await reads.check() }
            #expect(!reads.replicaFresh && reads.freshReplica == nil)
            // Without a replica, reads are the primary's and no check changes that.
            let alone = Reads(primary: db.app, replica: nil)
            await alone.check()
            #expect(alone.freshReplica == nil && !alone.replicaFresh)
        }
    }
}

/// A background job whose turn never ends (a query the driver lost) goes on: the turn is
/// abandoned at its limit and the next one runs.
@Suite struct PeriodicTurnLimitTests {
    @Test func aTurnThatNeverEndsIsAbandonedAndTheJobGoesOn() async throws {
        let gate = Locked<CheckedContinuation<Void, Never>?>(nil)
        let turns = Locked(0)
        let job = PeriodicService(
            "test job",
            logger: TestEnvironment.logger,
            interval: .milliseconds(10),
            startAfter: nil,
            work: {
                let n = turns.withLock { t -> Int in
                    t += 1
                    return t
                }
                if n == 1 { await withCheckedContinuation { c in gate.withLock { $0 = c } } }
                return .idle
            },
            turnLimit: .milliseconds(100)
        )
        let running = Task { try await job.run() }
        while turns.withLock({ $0 }) < 3 { try await Task.sleep(for: .milliseconds(20)) }
        running.cancel()
        gate.withLock { $0 }?.resume()
        #expect(turns.withLock { $0 } >= 3)
    }
}
