import CreditCore
import Foundation
import PostgresNIO
import Store
import TestSupport
import Testing

/// Profiles from stored record versions, kept current through the queue, against a real
/// PostgreSQL.
@Suite struct ProfileTests {
    static let a = "91350100M000100Y43"
    static let b = "91320602MA1NTX016C"
    static let day = Day("2026-06-15")!

    /// Social-insurance months ending 2026-05, `arrears` of them (the latest) in arrears.
    func insurance(_ uscc: String, months: Int, arrears: Int = 0, version: Int64 = 1) -> [StageRow] {
        (0..<months).map { i in
            let p = MonthIndex(period: "2026-05")!.adding(-i)
            let late = i < arrears
            return StageRow(
                recordId: "si-\(uscc)-\(p)",
                version: version,
                op: .upsert,
                uscc: uscc,
                updatedAt: "2026-06-01T00:00:00+08:00",
                data: """
                    {"period":"\(p)","insured_headcount":12,"contribution_due_fen":100,"contribution_paid_fen":\(late ? 0 : 100),"in_arrears":\(late)}
                    """
            )
        }
    }

    func store(_ db: Database, _ dataset: Dataset, _ rows: [StageRow]) async throws {
        let cursor = try await IngestStore.position(db, dataset: dataset)
        _ = try await IngestStore.storePage(
            db,
            dataset: dataset,
            cursorBefore: cursor,
            cursorAfter: UUID().uuidString,
            hasMore: true,
            rows: rows,
            quarantine: [],
            received: rows.count
        )
    }

    func publish(_ db: Database, _ text: String, activate: Bool = true) async throws -> (new: Bool, queued: Int) {
        let card = try TestCards.decode(text)
        return try await Scorecards.publish(db, card: card, file: Data(text.utf8), activate: activate)
    }

    /// Works the pages and the queue until both are empty.
    func drain(_ db: Database, cache: ScorecardCache = ScorecardCache()) async throws {
        while try await ProfileStore.takePages(db) > 0 {}
        while try await ProfileStore.workQueue(db, batch: 50, cache: cache, day: Self.day) > 0 {}
    }

    func profile(_ db: Database, _ uscc: String) async throws -> StoredProfile? {
        try await db.withConnection { c in try await ProfileStore.profile(c, uscc: uscc, logger: db.logger) }
    }

    @Test func profilesFollowNewRecordsThroughTheQueue() async throws {
        try await TestDatabase.with { db in
            _ = try await publish(db.app, TestCards.card())
            try await store(db.app, .socialInsurance, insurance(Self.a, months: 24) + insurance(Self.b, months: 6))
            try await drain(db.app)
            let first = try #require(try await profile(db.app, Self.a))
            // No arrears 80; tax and grade missing 30 + 10; no penalty 40: 600 + 160.
            #expect(first.score == 760 && first.grade == "B" && !first.thinFile && first.scorecardVersion == "test-1")
            #expect(first.features["social_insurance_arrears_12m"] == .number(0))
            #expect(first.records == 24 && first.dataMonths == 24 && first.asOfDay == "2026-06-15")
            // Six months of data: a thin file, no score.
            let thin = try #require(try await profile(db.app, Self.b))
            #expect(thin.thinFile && thin.score == nil && thin.grade == nil)

            // New versions: the last four months in arrears. The profile follows.
            try await store(db.app, .socialInsurance, insurance(Self.a, months: 4, arrears: 4, version: 2))
            #expect(try await ProfileStore.queueLength(db.app).pages == 1)
            try await drain(db.app)
            let second = try #require(try await profile(db.app, Self.a))
            #expect(second.features["social_insurance_arrears_12m"] == .number(4))
            #expect(second.score == 680 && second.grade == "B")
            #expect(second.reasons.first?.code == "R10_SI_ARREARS")
            #expect(second.computedAt >= first.computedAt)
            // b was not touched by that page: not recomputed.
            #expect(try await profile(db.app, Self.b)?.computedAt == thin.computedAt)

            // Every record withdrawn: the profile goes.
            let deletes = insurance(Self.b, months: 6, version: 9).map {
                StageRow(recordId: $0.recordId, version: 9, op: .delete, uscc: $0.uscc, updatedAt: $0.updatedAt, data: nil)
            }
            try await store(db.app, .socialInsurance, deletes)
            try await drain(db.app)
            #expect(try await profile(db.app, Self.b) == nil)
        }
    }

    @Test func oneActiveVersionAndEveryProfileSaysWhichMadeIt() async throws {
        try await TestDatabase.with { db in
            try await store(db.app, .socialInsurance, insurance(Self.a, months: 13) + insurance(Self.b, months: 13))
            // Nothing is computed without an active card; pages wait.
            try await drain(db.app)
            #expect(try await profile(db.app, Self.a) == nil)

            let v1 = try await publish(db.app, TestCards.card())
            #expect(v1.new && v1.queued == 2)
            try await drain(db.app)
            #expect(try await profile(db.app, Self.a)?.scorecardVersion == "test-1")
            // The same file again changes nothing; the same version with other content is refused.
            let again = try await publish(db.app, TestCards.card())
            #expect(!again.new && again.queued == 0)
            await #expect(throws: Scorecards.PublishError.self) { _ = try await publish(db.app, TestCards.card(base: 1)) }

            // A second version, stored but not active: nothing moves.
            _ = try await publish(db.app, TestCards.card(version: "test-2", base: 400), activate: false)
            #expect(try await ProfileStore.queueLength(db.app).queued == 0)
            // Activated: everyone is rescored with it.
            let v2 = try await publish(db.app, TestCards.card(version: "test-2", base: 400))
            #expect(!v2.new && v2.queued == 2)
            try await drain(db.app)
            let p = try #require(try await profile(db.app, Self.b))
            #expect(p.scorecardVersion == "test-2" && p.score == 560)
            let list = try await Scorecards.list(db.app)
            #expect(list.map(\.version) == ["test-1", "test-2"] && list.map(\.active) == [false, true])
            // The card active at a past moment is still known (reports as of then).
            let at = try await db.app.withConnection { c in
                try await Scorecards.active(c, at: list[1].publishedAt.addingTimeInterval(-0.000001), logger: db.app.logger)
            }
            #expect(at?.version == "test-1")
        }
    }

    @Test func aCrashedBatchIsPutBack() async throws {
        try await TestDatabase.with { db in
            _ = try await publish(db.app, TestCards.card())
            try await store(db.app, .socialInsurance, insurance(Self.a, months: 13))
            while try await ProfileStore.takePages(db.app) > 0 {}
            // Claim the queue row in a transaction that then fails: the row comes back.
            await #expect(throws: (any Error).self) {
                try await db.app.withTransaction { c in
                    _ = try await c.query("DELETE FROM profile_queue RETURNING uscc", logger: db.app.logger).collect()
                    _ = try await c.query("SELECT 1/0", logger: db.app.logger).collect()
                }
            }
            #expect(try await ProfileStore.queueLength(db.app).queued == 1)
            try await drain(db.app)
            #expect(try await profile(db.app, Self.a) != nil)
        }
    }
}
