import CreditCore
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A stored profile, as read back.
public struct StoredProfile: Sendable, Codable {
    public let uscc: String
    public let scorecardVersion: String
    public let score: Int?
    public let grade: String?
    public let thinFile: Bool
    public let knockouts: [String]
    public let reasons: [Scorecard.Reason]
    public let features: [String: FeatureValue]
    public let points: [String: Int]
    public let dataMonths: Int
    public let records: Int
    public let asOfDay: String
    public let dataAsOf: Date
    public let computedAt: Date

    enum CodingKeys: String, CodingKey {
        case uscc, score, grade, knockouts, reasons, features, points, records
        case scorecardVersion = "scorecard_version"
        case thinFile = "thin_file"
        case dataMonths = "data_months"
        case asOfDay = "as_of_day"
        case dataAsOf = "data_as_of"
        case computedAt = "computed_at"
    }
}

/// Profiles: histories read from the record versions (set-based, a batch of enterprises per
/// query), features and scores computed by CreditCore, written back in one statement.
public enum ProfileStore {
    /// Profiles by grade (`thin_file` for those without one).
    public static func gradeCounts(_ c: PostgresConnection, logger: Logger) async throws -> [String: Int] {
        var g: [String: Int] = [:]
        for try await (grade, n) in try await c.query(
            "SELECT coalesce(grade, 'thin_file'), count(*)::int FROM profile GROUP BY 1",
            logger: logger
        ).decode((String, Int).self) { g[grade] = n }
        return g
    }

    /// Enterprises per recompute transaction.
    public static let defaultBatch = 200
    public static let maxBatch = 2_000
    /// Ingested pages turned into queue rows per step.
    public static let pagesPerStep = 500

    /// The current records of these enterprises (the version valid at `upTo`, or now:
    /// received by then and not yet superseded; upserts), typed.
    public static func histories(
        _ c: PostgresConnection,
        usccs: [String],
        upTo: Date?,
        logger: Logger
    ) async throws -> [String: History] {
        var out: [String: History] = [:]
        for u in usccs { out[u] = History(uscc: u) }
        let rows = try await c.query(
            """
            SELECT dataset, record_id, uscc, op, data::text
            FROM record_version
            WHERE uscc = ANY(\(usccs)::text[]) AND received_at <= coalesce(\(upTo)::timestamptz, 'infinity')
              AND (superseded_at IS NULL OR superseded_at > coalesce(\(upTo)::timestamptz, 'infinity')) AND NOT suppressed
            """,
            logger: logger
        )
        for try await (ds, id, uscc, op, data) in rows.decode((String, String, String, String, String?).self) {
            guard op == "upsert", let dataset = Dataset(rawValue: ds), let data else { continue }
            guard let value = try? JSONParser.parse(Array(data.utf8)) else {
                out[uscc]?.unreadable.append(RecordRef(dataset, id))
                continue
            }
            out[uscc]?.add(dataset, recordId: id, data: value)
        }
        // The service's own facts the features use: approved repairs and commitments made, as known then.
        let repairs = try await c.query(
            """
            SELECT uscc, record_id, repaired_on::text FROM repair_application
            WHERE uscc = ANY(\(usccs)::text[]) AND state = 'approved' AND resolved_at <= coalesce(\(upTo)::timestamptz, 'infinity')
            """,
            logger: logger
        ).collect()
        for row in repairs {
            let (uscc, record, day) = try row.decode((String, String, String).self)
            guard let d = Day(day), let i = out[uscc]?.penalties.firstIndex(where: { $0.id == record }) else { continue }
            out[uscc]?.penalties[i].repairedOn = d
        }
        let commitments = try await c.query(
            """
            SELECT uscc, id::text, kind, starts_on::text, ends_on::text FROM commitment
            WHERE uscc = ANY(\(usccs)::text[]) AND created_at <= coalesce(\(upTo)::timestamptz, 'infinity')
            ORDER BY starts_on, id
            """,
            logger: logger
        ).collect()
        for row in commitments {
            let (uscc, id, kind, starts, ends) = try row.decode((String, String, String, String, String).self)
            guard let k = Commitments.Kind(rawValue: kind), let s = Day(starts), let e = Day(ends) else { continue }
            out[uscc]?.commitments.append(History.CommitmentTerm(id: id, kind: k, startsOn: s, endsOn: e))
        }
        return out
    }

    /// One computed profile, ready to store.
    struct Computed {
        let uscc: String
        let features: FeatureSet
        let outcome: Scorecard.Outcome
        let records: Int
    }

    /// The stored JSON of a profile's parts, written by hand (Foundation's encoder costs more
    /// than the scoring at city scale). Keys in a fixed order; `FeatureValue` as number, string
    /// or null.
    static func json(_ v: FeatureValue) -> String {
        switch v {
        case .number(let n): return String(n)
        case .missing: return "null"
        case .category(let c):
            var out = ""
            JSONValue.writeString(c, into: &out)
            return out
        }
    }

    static func featuresJSON(_ f: FeatureSet) -> String {
        var out = "{"
        for (i, feature) in Feature.allCases.enumerated() {
            if i > 0 { out += "," }
            out += "\"" + feature.rawValue + "\":" + json(f[feature])
        }
        return out + "}"
    }

    static func pointsJSON(_ o: Scorecard.Outcome) -> String {
        var out = "{"
        var first = true
        for feature in Feature.allCases {
            guard let p = o.points[feature] else { continue }
            if !first { out += "," }
            first = false
            out += "\"" + feature.rawValue + "\":" + String(p)
        }
        return out + "}"
    }

    static func reasonsJSON(_ o: Scorecard.Outcome) -> String {
        var out = "["
        for (i, r) in o.reasons.enumerated() {
            if i > 0 { out += "," }
            out += "{\"code\":"
            JSONValue.writeString(r.code, into: &out)
            out += ",\"en\":"
            JSONValue.writeString(r.en, into: &out)
            out += ",\"feature\":\"" + r.feature.rawValue + "\",\"max_points\":" + String(r.maxPoints)
            out += ",\"points\":" + String(r.points) + ",\"value\":" + json(r.value) + ",\"zh\":"
            JSONValue.writeString(r.zh, into: &out)
            out += "}"
        }
        return out + "]"
    }

    /// Stores computed profiles: one statement for the lot. A profile already computed from
    /// newer data (a later `data_as_of`) is left as it is.
    static func write(
        _ c: PostgresConnection,
        _ profiles: [Computed],
        card: Scorecard,
        asOfDay: Day,
        dataAsOf: Date,
        logger: Logger
    ) async throws {
        guard !profiles.isEmpty else { return }
        try await MonitoringEvents.emit(c, profiles, logger: logger)
        // -1 and "" for no score and no grade.
        var usccs: [String] = []
        var scores: [Int] = []
        var grades: [String] = []
        var thin: [Bool] = []
        var knockouts: [String] = []
        var reasons: [String] = []
        var features: [String] = []
        var points: [String] = []
        var months: [Int] = []
        var records: [Int] = []
        for p in profiles {
            usccs.append(p.uscc)
            scores.append(p.outcome.score ?? -1)
            grades.append(p.outcome.grade ?? "")
            thin.append(p.outcome.thinFile)
            knockouts.append("{" + p.outcome.knockouts.joined(separator: ",") + "}")
            reasons.append(reasonsJSON(p.outcome))
            features.append(featuresJSON(p.features))
            points.append(pointsJSON(p.outcome))
            months.append(p.features.dataMonths)
            records.append(p.records)
        }
        try await c.query(
            """
            INSERT INTO profile (uscc, scorecard_version, score, grade, thin_file, knockouts, reasons, features, points,
                                 data_months, records, as_of_day, data_as_of, computed_at)
            SELECT u, \(card.version), nullif(s, -1), nullif(g, ''), t, k::text[], r::jsonb, f::jsonb, p::jsonb, m, n,
                   \(asOfDay.description)::date, \(dataAsOf), now()
            FROM unnest(\(usccs)::text[], \(scores)::int[], \(grades)::text[], \(thin)::bool[], \(knockouts)::text[],
                        \(reasons)::text[], \(features)::text[], \(points)::text[], \(months)::int[], \(records)::int[])
                 AS x(u, s, g, t, k, r, f, p, m, n)
            ON CONFLICT (uscc) DO UPDATE SET scorecard_version = EXCLUDED.scorecard_version, score = EXCLUDED.score,
                grade = EXCLUDED.grade, thin_file = EXCLUDED.thin_file, knockouts = EXCLUDED.knockouts,
                reasons = EXCLUDED.reasons, features = EXCLUDED.features, points = EXCLUDED.points,
                data_months = EXCLUDED.data_months, records = EXCLUDED.records, as_of_day = EXCLUDED.as_of_day,
                data_as_of = EXCLUDED.data_as_of, computed_at = EXCLUDED.computed_at
            WHERE profile.data_as_of <= EXCLUDED.data_as_of
            """,
            logger: logger
        )
    }

    /// Recomputes and stores the profiles of these enterprises as of now (the transaction's
    /// start; windows end on that day in China, or on `day` when given). An enterprise with no
    /// current record loses its profile. Returns how many profiles were written.
    @discardableResult
    public static func recompute(
        _ c: PostgresConnection,
        usccs: [String],
        card: Scorecard,
        day: Day? = nil,
        logger: Logger
    ) async throws -> Int {
        guard !usccs.isEmpty else { return 0 }
        let now = try await c.query("SELECT now()", logger: logger).collect()[0].decode(Date.self)
        let asOfDay = day ?? Day.inChina(now)
        let histories = try await histories(c, usccs: usccs, upTo: nil, logger: logger)
        var computed: [Computed] = []
        var gone: [String] = []
        for u in usccs {
            guard let h = histories[u], h.recordCount > 0 else {
                gone.append(u)
                continue
            }
            let f = Features.compute(h, asOf: asOfDay, policy: card.policy)
            computed.append(Computed(uscc: u, features: f, outcome: card.score(f), records: h.recordCount))
        }
        if !gone.isEmpty {
            try await c.query("DELETE FROM profile WHERE uscc = ANY(\(gone)::text[])", logger: logger)
        }
        try await write(c, computed, card: card, asOfDay: asOfDay, dataAsOf: now, logger: logger)
        // Commitments follow the same records, in the same transaction.
        try await CommitmentStore.evaluate(c, logger: logger, usccs: usccs, today: asOfDay, histories: histories)
        return computed.count
    }

    public struct RescoreProgress: Sendable {
        public enum Phase: Sendable {
            case aggregating(Dataset)
            case writing(done: Int, total: Int)
        }
        public let phase: Phase
    }

    /// Profiles written per statement by the full rescore.
    public static let rescoreWriteBatch = 2_000
    /// Connections writing profiles at once in the full rescore.
    public static let rescoreWriters = 2
    /// Memory per aggregation of the full rescore: enough to hash a city's enterprises
    /// instead of sorting the records on disk.
    public static let rescoreWorkMem = "256MB"

    public struct RescoreError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Recomputes every profile with the active card from one snapshot of the records: the
    /// features' inputs aggregated per dataset in SQL (one pass over each partition), scored
    /// here, written in batches. Ingested pages and queued enterprises the snapshot covers are
    /// settled; later ones stay for the profile service. Returns the profiles written and the
    /// snapshot's moment.
    public static func rescoreAll(
        _ db: Database,
        card: Scorecard,
        day: Day? = nil,
        progress: @escaping @Sendable (RescoreProgress) -> Void = { _ in }
    ) async throws -> (profiles: Int, dataAsOf: Date) {
        let logger = db.logger
        // Running commitments judged on the day first: the aggregation counts their stored state.
        try await CommitmentStore.evaluateRunning(db, today: day ?? Day.todayInChina())
        // Two transactions on one snapshot (exported by the first), each aggregating half of
        // the datasets: the two cores work side by side.
        let (rows, now) = try await db.withTransaction { c in
            try await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            try await c.query("SET LOCAL work_mem = '\(unescaped: rescoreWorkMem)'", logger: logger)
            let now = try await c.query("SELECT now()", logger: logger).collect()[0].decode(Date.self)
            let snapshot = try await c.query("SELECT pg_export_snapshot()", logger: logger).collect()[0].decode(String.self)
            guard !snapshot.isEmpty, snapshot.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                throw RescoreError(description: "unexpected snapshot id \(snapshot)")
            }
            let asOfDay = day ?? Day.inChina(now)
            async let other = db.withTransaction { c2 in
                try await c2.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
                try await c2.query("SET TRANSACTION SNAPSHOT '\(unescaped: snapshot)'", logger: logger)
                try await c2.query("SET LOCAL work_mem = '\(unescaped: rescoreWorkMem)'", logger: logger)
                return try await FeatureAggregation.some(
                    FeatureAggregation.halves[0],
                    c2,
                    logger: logger,
                    day: asOfDay,
                    policy: card.policy
                ) {
                    progress(RescoreProgress(phase: .aggregating($0)))
                }
            }
            try await c.query("UPDATE ingest_batch SET profiled_at = now() WHERE profiled_at IS NULL", logger: logger)
            try await c.query("DELETE FROM profile_queue", logger: logger)
            let mine = try await FeatureAggregation.some(FeatureAggregation.halves[1], c, logger: logger, day: asOfDay, policy: card.policy)
            {
                progress(RescoreProgress(phase: .aggregating($0)))
            }
            return (FeatureAggregation.merge(mine, try await other), now)
        }
        let asOfDay = day ?? Day.inChina(now)
        let usccs = rows.keys.sorted()
        // Scored here, written by two connections side by side.
        let batches = stride(from: 0, to: usccs.count, by: rescoreWriteBatch).map { usccs[$0..<min($0 + rescoreWriteBatch, usccs.count)] }
        let next = Locked(0)
        let written = Locked(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<rescoreWriters {
                group.addTask {
                    while true {
                        let k = next.withLock { n -> Int in
                            defer { n += 1 }
                            return n
                        }
                        guard k < batches.count else { return }
                        let batch = batches[k].map { u -> Computed in
                            let row = rows[u]!
                            let f = Features.compute(row.inputs, asOf: asOfDay)
                            return Computed(uscc: u, features: f, outcome: card.score(f), records: row.records)
                        }
                        try await db.withConnection { c in
                            try await write(c, batch, card: card, asOfDay: asOfDay, dataAsOf: now, logger: logger)
                        }
                        let done = written.withLock {
                            $0 += batch.count
                            return $0
                        }
                        progress(RescoreProgress(phase: .writing(done: done, total: usccs.count)))
                    }
                }
            }
            try await group.waitForAll()
        }
        // Profiles of enterprises with no current record any more.
        try await db.withConnection { c in
            try await c.query("DELETE FROM profile WHERE data_as_of <= \(now) AND NOT (uscc = ANY(\(usccs)::text[]))", logger: logger)
        }
        return (written.withLock { $0 }, now)
    }

    /// Queues every enterprise that has records or a profile. The ingested pages seen so far
    /// are covered by that and marked profiled first (a later statement sees at least as much).
    @discardableResult
    public static func enqueueAll(_ c: PostgresConnection, logger: Logger) async throws -> Int {
        try await c.query("UPDATE ingest_batch SET profiled_at = now() WHERE profiled_at IS NULL", logger: logger)
        return try await c.query(
            """
            INSERT INTO profile_queue (uscc)
            SELECT uscc FROM (SELECT DISTINCT uscc FROM record_version UNION SELECT uscc FROM profile) x ORDER BY 1
            ON CONFLICT DO NOTHING RETURNING 1
            """,
            logger: logger
        ).collect().count
    }

    /// Turns ingested pages not yet profiled into queue rows. Returns the pages taken.
    @discardableResult
    public static func takePages(_ db: Database) async throws -> Int {
        try await db.withTransaction { c in
            let rows = try await c.query(
                """
                WITH pages AS (
                    UPDATE ingest_batch SET profiled_at = now()
                    WHERE id IN (SELECT id FROM ingest_batch WHERE profiled_at IS NULL ORDER BY id
                                 LIMIT \(pagesPerStep) FOR UPDATE SKIP LOCKED)
                    RETURNING usccs),
                queued AS (
                    INSERT INTO profile_queue (uscc)
                    SELECT DISTINCT u FROM pages, unnest(pages.usccs) AS u ORDER BY 1
                    ON CONFLICT DO NOTHING)
                SELECT count(*)::int FROM pages
                """,
                logger: db.logger
            ).collect()
            return try rows[0].decode(Int.self)
        }
    }

    /// Takes up to `batch` queued enterprises and recomputes their profiles with the active
    /// card, in one transaction (a crash puts them back). Returns how many were taken; 0 when
    /// the queue is empty or no card is active.
    public static func workQueue(_ db: Database, batch: Int, cache: ScorecardCache, day: Day? = nil) async throws -> Int {
        precondition(batch > 0 && batch <= maxBatch)
        return try await db.withTransaction { c in
            let logger = db.logger
            guard let card = try await cache.active(c, logger: logger) else { return 0 }
            let claimed = try await c.query(
                """
                DELETE FROM profile_queue WHERE uscc IN (
                    SELECT uscc FROM profile_queue ORDER BY enqueued_at, uscc LIMIT \(batch) FOR UPDATE SKIP LOCKED)
                RETURNING uscc
                """,
                logger: logger
            ).collect().map { try $0.decode(String.self) }
            guard !claimed.isEmpty else { return 0 }
            try await recompute(c, usccs: claimed.sorted(), card: card, day: day, logger: logger)
            return claimed.count
        }
    }

    public static func queueLength(_ db: Database) async throws -> (queued: Int, pages: Int) {
        try await db.withConnection { c in
            try await c.query(
                """
                SELECT (SELECT count(*)::int FROM profile_queue),
                       (SELECT count(*)::int FROM ingest_batch WHERE profiled_at IS NULL)
                """,
                logger: db.logger
            ).collect()[0].decode((Int, Int).self)
        }
    }

    public static func profile(_ c: PostgresConnection, uscc: String, logger: Logger) async throws -> StoredProfile? {
        try await profiles(c, usccs: [uscc], logger: logger)[uscc]
    }

    /// The stored profiles of these businesses (those that have one), in one statement.
    public static func profiles(_ c: PostgresConnection, usccs: [String], logger: Logger) async throws -> [String: StoredProfile] {
        guard !usccs.isEmpty else { return [:] }
        let rows = try await c.query(
            """
            SELECT uscc, scorecard_version, score, grade, thin_file, knockouts, reasons::text, features::text, points::text,
                   data_months, records, as_of_day::text, data_as_of, computed_at
            FROM profile WHERE uscc = ANY(\(usccs)::text[])
            """,
            logger: logger
        ).collect()
        let d = JSONDecoder()
        var out: [String: StoredProfile] = [:]
        for row in rows {
            let (u, v, score, grade, thin, knock, reasons, features, points, months, records, day, dataAsOf, computed) = try row.decode(
                (String, String, Int?, String?, Bool, [String], String, String, String, Int, Int, String, Date, Date).self
            )
            out[u] = StoredProfile(
                uscc: u,
                scorecardVersion: v,
                score: score,
                grade: grade,
                thinFile: thin,
                knockouts: knock,
                reasons: try d.decode([Scorecard.Reason].self, from: Data(reasons.utf8)),
                features: try d.decode([String: FeatureValue].self, from: Data(features.utf8)),
                points: try d.decode([String: Int].self, from: Data(points.utf8)),
                dataMonths: months,
                records: records,
                asOfDay: day,
                dataAsOf: dataAsOf,
                computedAt: computed
            )
        }
        return out
    }
}
