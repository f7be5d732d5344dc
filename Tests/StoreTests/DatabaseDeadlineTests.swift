import CreditCore
import Foundation
import PostgresNIO
import Store
import TestSupport
import Testing

/// Work that never ends on a leased connection — as a statement in flight on a connection the
/// database dropped in a crash never ends (the outside probe, issue 16) — loses the connection
/// at the lease's deadline: the caller gets `DatabaseUnavailable`, and the pool goes on.
@Suite struct DatabaseDeadlineTests {
    @Test func workThatNeverEndsLosesItsConnectionAtTheLeaseDeadline() async throws {
        try await TestDatabase.with { db in
            // A statement time-out of 100 ms makes the lease's deadline 10.2 s.
            var settings = DatabaseSettings(url: db.appURL, poolSize: 2, statementTimeoutMilliseconds: 100)
            settings.acquireTimeoutMilliseconds = 1_000
            #expect(settings.leaseTimeoutMilliseconds == 10_200)
            let pool = Database(settings: settings, logger: TestEnvironment.logger)
            try await pool.withRunning { pool in
                await #expect(throws: DatabaseUnavailable.self) {
                    try await pool.withConnection { c in
                        // The server itself will not end it: only the lease's deadline can.
                        try await c.query("SET statement_timeout = 0", logger: pool.logger)
                        try await c.query("SELECT pg_sleep(600)", logger: pool.logger)
                    }
                }
                let one: Int = try await pool.withConnection { c in
                    try await c.query("SELECT 1", logger: pool.logger).collect()[0].decode(Int.self)
                }
                #expect(one == 1)
            }
        }
    }

    /// A call that never returns, not even when cancelled (as a query PostgresNIO lost), counts
    /// as stuck once it has held its connection past the lease's deadline and `stuckGrace`; half
    /// the pool stuck makes the instance unready.
    @Test func aCallThatNeverReturnsCountsAsStuckPastItsDeadline() async throws {
        try await TestDatabase.with { db in
            var settings = DatabaseSettings(url: db.appURL, poolSize: 2, statementTimeoutMilliseconds: 100)
            settings.acquireTimeoutMilliseconds = 1_000
            let pool = Database(settings: settings, logger: TestEnvironment.logger)
            try await pool.withRunning { pool in
                let gate = Locked<CheckedContinuation<Void, Never>?>(nil)
                let lent = Locked(false)
                let call = Task {
                    try await pool.withConnection { _ in
                        lent.withLock { $0 = true }
                        await withCheckedContinuation { c in gate.withLock { $0 = c } }
                    }
                }
                try await eventually("the call holds its connection") { gate.withLock { $0 != nil } && lent.withLock { $0 } }
                let past = Duration.milliseconds(pool.settings.leaseTimeoutMilliseconds) + Database.stuckGrace
                #expect(pool.stuckCalls() == 0)
                #expect(pool.stuckCalls(at: .now + past - .seconds(2)) == 0)
                #expect(pool.stuckCalls(at: .now + past + .seconds(1)) == 1)
                #expect(Database.tooManyStuck(1, poolSize: 2))
                #expect(!Database.tooManyStuck(1, poolSize: 16))
                #expect(Database.tooManyStuck(8, poolSize: 16))
                #expect(!Database.tooManyStuck(0, poolSize: 1))
                gate.withLock { $0?.resume() }
                try await call.value
                #expect(pool.stuckCalls(at: .now + past + .seconds(1)) == 0)
            }
        }
    }
}
