import CreditCore
import Curl
import Feeds
import Foundation
import PostgresNIO
import Simulator
import Store
import Testing
import TestSupport

/// The city-wide SQL aggregation of feature inputs and the per-enterprise reduction of
/// histories are two roads to the same numbers: checked on every enterprise of a simulated
/// city ingested with faults (withdrawals, re-deliveries, stale and superseded versions).
@Suite struct AggregationTests {
    @Test func theSQLAggregationEqualsTheHistoryReductionForEveryEnterprise() async throws {
        try await SimHarness.with(enterprises: 150, seed: 11, faults: 0.1) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                let reports = await try sim.ingestor(db.app, curl: curl).runOnce()
                #expect(reports.allSatisfy { $0.outcome == .caughtUp })
                let superseded: Int = try await db.owner.scalar("SELECT count(*)::int FROM record_version WHERE superseded_at IS NOT NULL")
                #expect(superseded > 0, "the fault run stores versions that later ones replace")
                // As of the city's last day, and as of a day a year and a half earlier (other windows).
                for day in [SimHarness.asOf, SimHarness.asOf.addingMonths(-18).addingMonths(0)] {
                    let aggregated = try await db.app.withConnection { c in
                        try await FeatureAggregation.all(c, logger: db.app.logger, day: day)
                    }
                    let usccs = aggregated.keys.sorted()
                    #expect(usccs.count >= 140)
                    let histories = try await db.app.withConnection { c in
                        try await ProfileStore.histories(c, usccs: usccs, upTo: nil, logger: db.app.logger)
                    }
                    var differing: [String] = []
                    for u in usccs {
                        let h = histories[u]!
                        #expect(h.unreadable.isEmpty)
                        let (reduced, _) = Features.inputs(h, asOf: day)
                        if reduced != aggregated[u]!.inputs || h.recordCount != aggregated[u]!.records { differing.append(u) }
                    }
                    #expect(differing.isEmpty, "\(differing.count) enterprises differ as of \(day), e.g. \(differing.first.map { u in "\(u): \(Features.inputs(histories[u]!, asOf: day).0) vs \(aggregated[u]!.inputs)" } ?? "")")
                    // And the features themselves, which is what a profile holds.
                    for u in usccs.prefix(20) {
                        #expect(Features.compute(aggregated[u]!.inputs, asOf: day).values == Features.compute(histories[u]!, asOf: day).values)
                    }
                }
            }
        }
    }

    @Test func aFullRescoreWritesWhatTheQueueWouldHave() async throws {
        try await SimHarness.with(enterprises: 60, seed: 12) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                _ = await try sim.ingestor(db.app, curl: curl).runOnce()
                let text = TestCards.card()
                let card = try TestCards.decode(text)
                _ = try await Scorecards.publish(db.app, card: card, file: Data(text.utf8), activate: true)
                // Through the queue, one batch at a time.
                let cache = ScorecardCache()
                while try await ProfileStore.workQueue(db.app, batch: 25, cache: cache, day: SimHarness.asOf) > 0 {}
                let viaQueue: [[String]] = try await snapshot(db)
                // All at once from the aggregation.
                let (written, _) = try await ProfileStore.rescoreAll(db.app, card: card, day: SimHarness.asOf)
                #expect(written == viaQueue.count)
                #expect(try await snapshot(db) == viaQueue)
                #expect(try await ProfileStore.queueLength(db.app).queued == 0)
            }
        }
    }

    /// Every profile's uscc, score, grade, features and reasons as text.
    func snapshot(_ db: TestDatabase) async throws -> [[String]] {
        try await db.app.withConnection { c in
            try await c.query(
                "SELECT uscc, coalesce(score::text, ''), coalesce(grade, ''), features::text, reasons::text, records::text FROM profile ORDER BY uscc",
                logger: db.app.logger
            ).collect().map { row in
                let (a, b, g, f, r, n) = try row.decode((String, String, String, String, String, String).self)
                return [a, b, g, f, r, n]
            }
        }
    }
}
