import CreditCore
import Curl
import Feeds
import Foundation
import PostgresNIO
import Simulator
import Store
import TestSupport
import Testing

/// Ingestion from the simulator over real HTTP into a real PostgreSQL, checked against the
/// simulator's own truth.
@Suite struct IngestTests {
    @Test func aFullIngestHoldsExactlyTheTruthAndASecondRunStoresNothing() async throws {
        try await SimHarness.with(enterprises: 120, seed: 5) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                let ingestor = try sim.ingestor(db.app, curl: curl)
                let first = await ingestor.runOnce()
                #expect(first.allSatisfy { $0.outcome == .caughtUp }, "\(first)")
                let holding = try await held(db.app)
                #expect(holding == truth(sim))
                for r in first {
                    #expect(r.live == holding[r.dataset]?.live, "\(r.dataset)")
                    #expect(r.received == sim.index.total(Dataset(rawValue: r.dataset)!))
                    #expect(r.stored + r.stale + r.quarantined == r.received)
                }
                let versions: Int = try await db.owner.scalar("SELECT count(*)::int FROM record_version")

                let second = await ingestor.runOnce()
                #expect(second.allSatisfy { $0.outcome == .caughtUp && $0.received == 0 && $0.stored == 0 })
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM record_version") == versions)
                #expect(try await held(db.app) == truth(sim))

                // No resident ID number in plaintext anywhere in the database.
                let ids = (0..<sim.city.enterpriseCount).map { sim.city.enterprise($0).legalRepID }
                let dump: String = try await db.owner.scalar(
                    """
                    SELECT string_agg(t, E'\\n') FROM (
                        SELECT data::text AS t FROM record_version
                        UNION ALL SELECT raw FROM quarantine) x
                    """
                )
                #expect(!ids.contains { dump.contains($0) })
                // The masked form and a working ciphertext are there.
                let enc: String = try await db.owner.scalar(
                    "SELECT data->>'legal_rep_id_enc' FROM current_record WHERE dataset = 'enterprise_registry' AND record_id = '\(sim.city.enterprise(0).uscc)'"
                )
                let protector = try PersonalDataProtector(base64: SimHarness.dataKey)
                #expect(try protector.decrypt(enc) == sim.city.enterprise(0).legalRepID)
            }
        }
    }

    @Test func withFaultsTheResultIsStillExactlyTheTruth() async throws {
        try await SimHarness.with(enterprises: 120, seed: 6, faults: 0.1) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                let reports = try await sim.ingestor(db.app, curl: curl).runOnce()
                #expect(reports.allSatisfy { $0.outcome == .caughtUp }, "\(reports)")
                let holding = try await held(db.app)
                #expect(holding == truth(sim))
                // The live counter moved page by page agrees with the records themselves.
                for r in reports { #expect(r.live == holding[r.dataset]?.live, "\(r.dataset)") }
                #expect(reports.reduce(0) { $0 + $1.withdrawn } > 0)
                #expect(reports.reduce(0) { $0 + $1.quarantined } > 0)
                // Quarantined items are kept with a reason, once each.
                let duplicates: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM (SELECT raw FROM quarantine GROUP BY dataset, raw HAVING count(*) > 1) x"
                )
                #expect(duplicates == 0)
            }
        }
    }

    @Test func anExpiredCursorRestartsTheDatasetHarmlessly() async throws {
        try await SimHarness.with(enterprises: 40, seed: 8) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                let ingestor = try sim.ingestor(db.app, curl: curl)
                _ = await ingestor.runOnce()
                sim.clock.withLock { $0 = 8 * 86_400 }  // a week and a day later: every saved cursor has expired
                let again = await ingestor.runOnce()
                #expect(again.allSatisfy { $0.outcome == .caughtUp })
                for r in again { #expect(r.received == sim.index.total(Dataset(rawValue: r.dataset)!) && r.stored == 0) }
                #expect(try await held(db.app) == truth(sim))
            }
        }
    }

    @Test func authenticationAndUnknownDatasetErrorsStopWithoutLooping() async throws {
        try await SimHarness.with(enterprises: 20, seed: 9) { sim in
            try await TestDatabase.with { db in
                var file = sim.providers
                for i in file.providers.indices where file.providers[i].name == "tax" { file.providers[i].appSecret = "wrong" }
                for i in file.providers.indices where file.providers[i].name == "hrss" { file.providers[i].baseURL = sim.base + "/nowhere" }
                let curl = CurlClient()
                defer { curl.shutdown() }
                let reports = try await sim.ingestor(db.app, file: file, curl: curl).runOnce()
                let by = Dictionary(uniqueKeysWithValues: reports.map { ($0.dataset, $0) })
                #expect(by["tax_filing"]?.outcome == .stopped)
                #expect(by["tax_filing"]?.reason?.contains("bad_signature") == true)
                #expect(by["tax_credit_rating"]?.outcome == .stopped)
                #expect(by["social_insurance"]?.outcome == .stopped)
                #expect(by["social_insurance"]?.reason?.contains("404") == true)
                #expect(by["utility_bill"]?.outcome == .caughtUp)
                let status: String = try await db.owner.scalar("SELECT status FROM feed_state WHERE dataset = 'tax_filing'")
                #expect(status == "stopped")
            }
        }
    }
}

/// Version rules, straight against SQL.
@Suite struct VersionTests {
    func row(_ v: Int64, _ op: ValidItem.Op = .upsert, amount: Int = 1) -> StageRow {
        StageRow(
            recordId: "r1",
            version: v,
            op: op,
            uscc: "91320602MA1NTX016C",
            updatedAt: "2025-07-15T10:00:00+08:00",
            data: op == .delete ? nil : "{\"amount_fen\":\(amount)}"
        )
    }

    func store(_ db: Database, _ rows: [StageRow], cursor: inout String?) async throws -> PageCounts {
        let next = "c\(Int.random(in: 0...1_000_000))"
        defer { cursor = next }
        return try await IngestStore.storePage(
            db,
            dataset: .taxFiling,
            cursorBefore: cursor,
            cursorAfter: next,
            hasMore: true,
            rows: rows,
            quarantine: [],
            received: rows.count
        )
    }

    func current(_ db: Database) async throws -> (Int64, String, Int?) {
        try await db.withConnection { c in
            let rows = try await c.query(
                "SELECT version, op, (data->>'amount_fen')::int FROM current_record WHERE record_id = 'r1'",
                logger: db.logger
            ).collect()
            return try rows[0].decode((Int64, String, Int?).self)
        }
    }

    @Test func highestVersionWinsDeleteWithdrawsAndAHigherUpsertRestores() async throws {
        try await TestDatabase.with { db in
            _ = try await IngestStore.position(db.app, dataset: .taxFiling)
            var cursor: String?
            var c = try await store(db.app, [row(2, amount: 20)], cursor: &cursor)
            #expect(c.stored == 1)
            c = try await store(db.app, [row(1, amount: 10)], cursor: &cursor)  // stale
            #expect(c.stored == 0 && c.stale == 1)
            #expect(try await current(db.app) == (2, "upsert", 20))
            c = try await store(db.app, [row(2, amount: 20), row(2, amount: 20)], cursor: &cursor)  // repeated
            #expect(c.stored == 0 && c.stale == 2)
            c = try await store(db.app, [row(3, .delete)], cursor: &cursor)
            #expect(c.withdrawn == 1)
            #expect(try await current(db.app) == (3, "delete", nil))
            #expect(try await db.owner.scalar("SELECT live::int FROM feed_state WHERE dataset = 'tax_filing'") == 0)
            c = try await store(db.app, [row(2, amount: 20)], cursor: &cursor)  // an older upsert does not resurrect it
            #expect(try await current(db.app) == (3, "delete", nil))
            c = try await store(db.app, [row(5, amount: 50), row(4, amount: 40)], cursor: &cursor)  // restored; both versions kept
            #expect(c.stored == 2)
            #expect(try await current(db.app) == (5, "upsert", 50))
            let versions: [Int64] = try await db.app.withConnection { conn in
                try await conn.query("SELECT version FROM record_version WHERE record_id = 'r1' ORDER BY version", logger: db.app.logger)
                    .collect().map { try $0.decode(Int64.self) }
            }
            #expect(versions == [2, 3, 4, 5])
            // Exactly one version is current; each other one was superseded when a higher one arrived.
            let unsuperseded: Int = try await db.owner.scalar(
                "SELECT count(*)::int FROM record_version WHERE record_id = 'r1' AND superseded_at IS NULL"
            )
            #expect(unsuperseded == 1)
            let ordered: Bool = try await db.owner.scalar(
                "SELECT bool_and(superseded_at >= received_at) FROM record_version WHERE record_id = 'r1' AND superseded_at IS NOT NULL"
            )
            #expect(ordered)
            let live: Int = try await db.owner.scalar("SELECT live::int FROM feed_state WHERE dataset = 'tax_filing'")
            #expect(live == 1)
        }
    }

    /// Two workers on the same city at once: they share the datasets through the leases, none
    /// fails, and together they hold exactly the truth, every version once.
    @Test func twoWorkersAtOnceShareTheDatasetsAndHoldExactlyTheTruth() async throws {
        try await SimHarness.with(enterprises: 120, seed: 8) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                let a = try sim.ingestor(db.app, curl: curl)
                let b = try sim.ingestor(db.app, curl: curl)
                #expect(a.worker != b.worker)
                async let ra = a.runOnce()
                async let rb = b.runOnce()
                let (reportsA, reportsB) = await (ra, rb)
                let all = reportsA + reportsB
                #expect(all.allSatisfy { $0.outcome == .caughtUp || $0.outcome == .skipped }, "\(all)")
                for d in Dataset.allCases {
                    #expect(all.contains { $0.dataset == d.rawValue && $0.outcome == .caughtUp }, "\(d) caught up by one of them")
                }
                #expect(all.filter { $0.outcome == .skipped }.allSatisfy { $0.reason?.contains("is pulling it") == true })
                #expect(try await held(db.app) == truth(sim))
                // Every version stored once: what the two stored adds up to what the table holds.
                let versions: Int = try await db.owner.scalar("SELECT count(*)::int FROM record_version")
                #expect(all.reduce(0) { $0 + $1.stored } == versions)
                // Every lease given back.
                let leased: Int = try await db.owner.scalar("SELECT count(*)::int FROM feed_state WHERE leased_by IS NOT NULL")
                #expect(leased == 0)
            }
        }
    }

    /// A dataset's lease: held by one worker, refused to another, renewed by its holder; when it
    /// runs out another takes the dataset over and the late worker's page is refused whole.
    @Test func aLeaseIsTakenOverOnlyWhenItRunsOutAndTheLateWorkerStoresNothing() async throws {
        try await TestDatabase.with { db in
            #expect(try await IngestStore.claim(db.app, dataset: .taxFiling, worker: "a", seconds: 60) == nil)
            #expect(try await IngestStore.claim(db.app, dataset: .taxFiling, worker: "a", seconds: 60) == nil)  // its own: renewed
            #expect(try await IngestStore.claim(db.app, dataset: .taxFiling, worker: "b", seconds: 60)?.worker == "a")
            #expect(try await IngestStore.renew(db.app, dataset: .taxFiling, worker: "a", seconds: 60))
            #expect(try await !IngestStore.renew(db.app, dataset: .taxFiling, worker: "b", seconds: 60))
            var cursor: String?
            func page(_ worker: String, _ v: Int64) async throws -> PageCounts {
                let next = "c\(v)"
                let counts = try await IngestStore.storePage(
                    db.app,
                    dataset: .taxFiling,
                    cursorBefore: cursor,
                    cursorAfter: next,
                    hasMore: true,
                    rows: [row(v)],
                    quarantine: [],
                    received: 1,
                    worker: worker
                )
                cursor = next
                return counts
            }
            #expect(try await page("a", 1).stored == 1)
            await #expect(throws: IngestError.self) { _ = try await page("b", 2) }  // not b's lease
            // a stalls past its lease; b takes the dataset over.
            try await db.owner.execute("UPDATE feed_state SET lease_until = now() - interval '1 second' WHERE dataset = 'tax_filing'")
            await #expect(throws: IngestError.self) { _ = try await page("a", 3) }  // ran out, even before anyone took it
            #expect(try await IngestStore.claim(db.app, dataset: .taxFiling, worker: "b", seconds: 60) == nil)
            #expect(try await !IngestStore.renew(db.app, dataset: .taxFiling, worker: "a", seconds: 60))
            await #expect(throws: IngestError.self) { _ = try await page("a", 4) }
            #expect(try await page("b", 5).stored == 1)
            #expect(try await current(db.app) == (5, "upsert", 1))
            #expect(try await db.owner.scalar("SELECT count(*)::int FROM record_version") == 2)  // versions 1 and 5 only
            // a's release leaves b's lease alone; b's gives it back.
            try await IngestStore.release(db.app, dataset: .taxFiling, worker: "a")
            #expect(try await IngestStore.claim(db.app, dataset: .taxFiling, worker: "c", seconds: 60)?.worker == "b")
            try await IngestStore.release(db.app, dataset: .taxFiling, worker: "b")
            #expect(try await IngestStore.claim(db.app, dataset: .taxFiling, worker: "c", seconds: 60) == nil)
        }
    }

    /// A killed `xyd ingest` restarted on the same host takes its datasets back at once: its
    /// old leases name a process that no longer exists. Leases of live processes and of other
    /// hosts are waited out.
    @Test func aDeadWorkerOfThisHostIsRecognised() async throws {
        let host = ProcessInfo.processInfo.hostName
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        #expect(Ingestor.isDeadLocalWorker("\(host):\(ended.processIdentifier):7"))
        #expect(!Ingestor.isDeadLocalWorker("\(host):\(getppid()):7"))  // alive
        #expect(!Ingestor.isDeadLocalWorker("\(host):\(ProcessInfo.processInfo.processIdentifier):7"))  // this process
        #expect(!Ingestor.isDeadLocalWorker("elsewhere-\(host):\(ended.processIdentifier):7"))  // another host
        #expect(!Ingestor.isDeadLocalWorker("garbage"))
    }

    /// Versions overtaken within their own page are written superseded, at the moment the
    /// page's top version was received; a later page supersedes the top the same way.
    @Test func versionsOvertakenInTheirPageAreStoredSuperseded() async throws {
        try await TestDatabase.with { db in
            _ = try await IngestStore.position(db.app, dataset: .taxFiling)
            var cursor: String?
            _ = try await store(db.app, [row(2, amount: 2), row(1, amount: 1), row(3, amount: 3)], cursor: &cursor)
            let first: String = try await db.owner.scalar(
                """
                SELECT string_agg(version || ':' || CASE WHEN superseded_at IS NULL THEN 'current'
                                                        WHEN superseded_at = (SELECT received_at FROM record_version WHERE version = 3) THEN 'at 3'
                                                        ELSE 'other' END, ',' ORDER BY version)
                FROM record_version WHERE record_id = 'r1'
                """
            )
            #expect(first == "1:at 3,2:at 3,3:current")
            _ = try await store(db.app, [row(4, amount: 4)], cursor: &cursor)
            let second: String = try await db.owner.scalar(
                """
                SELECT string_agg(version || ':' || CASE WHEN superseded_at IS NULL THEN 'current'
                                                        WHEN superseded_at = (SELECT received_at FROM record_version WHERE version = 4) THEN 'at 4'
                                                        WHEN superseded_at = (SELECT received_at FROM record_version WHERE version = 3) THEN 'at 3'
                                                        ELSE 'other' END, ',' ORDER BY version)
                FROM record_version WHERE record_id = 'r1'
                """
            )
            #expect(second == "1:at 3,2:at 3,3:at 4,4:current")
            #expect(try await current(db.app) == (4, "upsert", 4))
        }
    }

    @Test func aPageStoredByAnotherWorkerFirstIsRefusedWhole() async throws {
        try await TestDatabase.with { db in
            _ = try await IngestStore.position(db.app, dataset: .taxFiling)
            var cursor: String?
            _ = try await store(db.app, [row(1)], cursor: &cursor)
            await #expect(throws: IngestError.self) {
                try await IngestStore.storePage(
                    db.app,
                    dataset: .taxFiling,
                    cursorBefore: nil,
                    cursorAfter: "x",
                    hasMore: false,
                    rows: [row(9)],
                    quarantine: [],
                    received: 1
                )
            }
            #expect(try await current(db.app) == (1, "upsert", 1))
        }
    }

    /// A page's store that never answers (here the table locked; in the fault run a COPY on a
    /// connection that died): the pull fails within its bound, says why, gives its lease back,
    /// and the next pull resumes and catches up (issue 16, finding 2).
    @Test func aStoreThatNeverAnswersFailsThePullAndGivesTheLeaseBack() async throws {
        try await SimHarness.with(enterprises: 20, seed: 26) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                let ingestor = try sim.ingestor(db.app, curl: curl) { $0.storeTimeoutSeconds = 1 }
                let stuck = try await db.owner.withConnection { c in
                    try await c.query("BEGIN", logger: db.owner.logger)
                    try await c.query("LOCK TABLE record_version IN SHARE MODE", logger: db.owner.logger)
                    let report = await ingestor.runDataset(.utilityBill)
                    let lease: String? = try await db.app.scalar("SELECT leased_by FROM feed_state WHERE dataset = 'utility_bill'")
                    try await c.query("ROLLBACK", logger: db.owner.logger)
                    return (report, lease)
                }
                #expect(stuck.0.outcome == .failing)
                #expect(stuck.0.reason?.contains("did not finish within") == true, "\(stuck.0.reason ?? "-")")
                #expect(stuck.1 == nil, "the lease was given back")
                let status: String = try await db.owner.scalar("SELECT status FROM feed_state WHERE dataset = 'utility_bill'")
                #expect(status == "failing")
                // The next pulls resume from the stored cursor and catch up. (The abandoned store may
                // still commit its page once the table is free; then the cursor's compare-and-set
                // refuses the pull that raced it, and the one after goes on from there.)
                try await eventually("a later pull caught up") {
                    await ingestor.runDataset(.utilityBill).outcome == .caughtUp
                }
                let held = try await held(db.app)
                #expect(held[Dataset.utilityBill.rawValue] == truth(sim)[Dataset.utilityBill.rawValue])
            }
        }
    }
}
