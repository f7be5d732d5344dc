import CreditCore
import Curl
import Feeds
import Foundation
import PostgresNIO
import Simulator
import Store
import TestSupport
import Testing

/// The city-wide SQL aggregation of feature inputs and the per-enterprise reduction of
/// histories are two roads to the same numbers: checked on every enterprise of a simulated
/// city ingested with faults (withdrawals, re-deliveries, stale and superseded versions).
@Suite struct AggregationTests {
    @Test func theSQLAggregationEqualsTheHistoryReductionForEveryEnterprise() async throws {
        try await SimHarness.with(enterprises: 150, seed: 11, faults: 0.1) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                let reports = try await sim.ingestor(db.app, curl: curl).runOnce()
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
                    #expect(
                        differing.isEmpty,
                        "\(differing.count) enterprises differ as of \(day), e.g. \(differing.first.map { u in "\(u): \(Features.inputs(histories[u]!, asOf: day).0) vs \(aggregated[u]!.inputs)" } ?? "")"
                    )
                    // And the features themselves, which is what a profile holds.
                    for u in usccs.prefix(20) {
                        #expect(
                            Features.compute(aggregated[u]!.inputs, asOf: day).values == Features.compute(histories[u]!, asOf: day).values
                        )
                    }
                }
            }
        }
    }

    /// The service's own facts agree too: approved repairs under a card's penalty policy, and
    /// commitments kept and broken (stored state evaluated on the day, against the pure evaluation).
    @Test func repairsAndCommitmentsAgreeUnderAPenaltyPolicy() async throws {
        try await SimHarness.with(enterprises: 120, seed: 13) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                _ = try await sim.ingestor(db.app, curl: curl).runOnce()
                // Every penalty of the city's first 40 penalised enterprises repaired a year before the as-of day.
                let repairedDay = SimHarness.asOf.addingMonths(-12)
                try await db.owner.execute(
                    """
                    INSERT INTO organisations (kind, name, uscc)
                    SELECT DISTINCT 'enterprise', 'E ' || uscc, uscc FROM record_version WHERE dataset = 'enterprise_registry'
                    """
                )
                try await db.owner.execute(
                    """
                    INSERT INTO repair_application (uscc, enterprise_org_id, record_id, corrections, evidence, due_on, state,
                                                    resolved_at, repaired_on)
                    SELECT v.uscc, o.id, v.record_id, ARRAY['fine_paid'], 'paid', '\(repairedDay)', 'approved', now(), '\(repairedDay)'
                    FROM record_version v JOIN organisations o ON o.uscc = v.uscc
                    WHERE v.dataset = 'administrative_penalty' AND v.superseded_at IS NULL AND v.op = 'upsert'
                      AND v.uscc IN (SELECT DISTINCT uscc FROM record_version WHERE dataset = 'administrative_penalty' ORDER BY uscc LIMIT 40)
                    """
                )
                // Commitments of every kind over the last two years: some kept, some broken, some running.
                try await db.owner.execute(
                    """
                    INSERT INTO commitment (uscc, enterprise_org_id, kind, starts_on, ends_on)
                    SELECT o.uscc, o.id, k, '\(SimHarness.asOf)'::date - (n::int * 90), '\(SimHarness.asOf)'::date - (n::int * 90) + 180
                    FROM organisations o,
                         unnest(ARRAY['tax_on_time', 'no_social_insurance_arrears', 'utilities_on_time', 'no_contract_breach',
                                      'no_new_penalty']) WITH ORDINALITY AS kinds(k, n)
                    WHERE o.kind = 'enterprise'
                    """
                )
                let repaired: Int = try await db.owner.scalar("SELECT count(*)::int FROM repair_application")
                #expect(repaired > 0)
                let policies = [
                    PenaltyPolicy(repairedCountsMonths: 0, unpublishedCountsMonths: nil),
                    PenaltyPolicy(repairedCountsMonths: 6, unpublishedCountsMonths: 3), PenaltyPolicy.fullWindow,
                ]
                for (day, policy) in [
                    (SimHarness.asOf, policies[0]), (SimHarness.asOf, policies[1]),
                    (SimHarness.asOf.addingMonths(-6), policies[2]), (SimHarness.asOf.addingMonths(-6), policies[0]),
                ] {
                    try await CommitmentStore.evaluateRunning(db.app, today: day)
                    try await db.owner.execute("UPDATE commitment SET state = 'in_progress', broken_by = NULL")
                    try await CommitmentStore.evaluateRunning(db.app, today: day)
                    let aggregated = try await db.app.withConnection { c in
                        try await FeatureAggregation.all(c, logger: db.app.logger, day: day, policy: policy)
                    }
                    let usccs = aggregated.keys.sorted()
                    let histories = try await db.app.withConnection { c in
                        try await ProfileStore.histories(c, usccs: usccs, upTo: nil, logger: db.app.logger)
                    }
                    var differing: [String] = []
                    var kept = 0
                    var broken = 0
                    var uncounted = 0
                    for u in usccs {
                        let (reduced, _) = Features.inputs(histories[u]!, asOf: day, policy: policy)
                        if reduced != aggregated[u]!.inputs { differing.append(u) }
                        kept += reduced.commitmentsKept36
                        broken += reduced.commitmentsBroken36
                        let all = Features.inputs(histories[u]!, asOf: day, policy: .fullWindow).0
                        uncounted += all.seriousPenalties36 + all.otherPenalties36 - reduced.seriousPenalties36 - reduced.otherPenalties36
                    }
                    #expect(
                        differing.isEmpty,
                        "\(differing.count) differ as of \(day) under \(policy), e.g. \(differing.first.map { u in "\(Features.inputs(histories[u]!, asOf: day, policy: policy).0) vs \(aggregated[u]!.inputs)" } ?? "")"
                    )
                    #expect(kept > 0 && broken > 0, "the fixture has commitments kept (\(kept)) and broken (\(broken))")
                    if policy != .fullWindow { #expect(uncounted > 0, "the policy leaves some repaired penalties out") }
                }
            }
        }
    }

    @Test func aFullRescoreWritesWhatTheQueueWouldHave() async throws {
        try await SimHarness.with(enterprises: 60, seed: 12) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                _ = try await sim.ingestor(db.app, curl: curl).runOnce()
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
