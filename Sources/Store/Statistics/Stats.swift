import CreditCore
import Foundation
import Logging
import PostgresNIO

/// Statistics for regulators (C9): summary tables rebuilt on a schedule, and the aggregates
/// read from them. Every figure counts enterprises without naming one; cells of fewer than
/// `Suppression.threshold` enterprises are hidden (see `StatTable`).
public enum Stats {
    /// The generation of the summary tables: when they were last rebuilt, or last failed to be
    /// (what a cache of their figures is valid for).
    public static func generation(_ c: PostgresConnection, logger: Logger) async throws -> Date? {
        try await c.query("SELECT max(greatest(refreshed_at, failed_at)) FROM stat_refresh", logger: logger).collect().first?.decode(
            Date?.self
        )
    }

    /// Whether the summary tables are current: when every table was last rebuilt successfully,
    /// and whether a later rebuild failed or none has succeeded for too long.
    public struct Freshness: Sendable, Equatable {
        /// The oldest of the tables' last successful rebuilds (nil: never rebuilt).
        public let lastGood: Date?
        /// The latest failed rebuild still unmended by a success (nil: none).
        public let failedAt: Date?
        /// Tables whose latest rebuild failed.
        public let failing: [String]
        /// No successful rebuild for longer than `lateAfterSeconds`.
        public let late: Bool
        /// Whoever reads the figures should be told they are not current.
        public var stale: Bool { !failing.isEmpty || late }

        public init(lastGood: Date?, failedAt: Date?, failing: [String], late: Bool) {
            self.lastGood = lastGood
            self.failedAt = failedAt
            self.failing = failing
            self.late = late
        }
    }

    /// A rebuild is late after this many missed periods.
    public static let latePeriods = 3

    public static func freshness(
        _ c: PostgresConnection,
        logger: Logger,
        intervalSeconds: Int,
        now: Date = Date()
    ) async throws -> Freshness {
        var oldest: Date? = nil
        var failedAt: Date? = nil
        var failing: [String] = []
        var tables = 0
        for try await (name, refreshed, failed) in try await c.query(
            "SELECT name, refreshed_at, failed_at FROM stat_refresh ORDER BY name",
            logger: logger
        ).decode((String, Date?, Date?).self) {
            tables += 1
            if let refreshed {
                oldest = oldest.map { min($0, refreshed) } ?? refreshed
            } else {
                oldest = .distantPast
            }
            if let failed, failed > (refreshed ?? .distantPast) {
                failing.append(name)
                failedAt = failedAt.map { max($0, failed) } ?? failed
            }
        }
        let lastGood = oldest == .distantPast ? nil : oldest
        let limit = TimeInterval(intervalSeconds * latePeriods)
        let late = tables > 0 && (lastGood.map { now.timeIntervalSince($0) > limit } ?? true)
        return Freshness(lastGood: lastGood, failedAt: failedAt, failing: failing, late: late)
    }

    /// Periodic datasets count towards completeness when a business has a record for one of
    /// this many latest months.
    public static let completenessMonths = 3
    /// A record is timely when it arrives at most this many hours after the provider's time.
    public static let timelyHours = 48
    /// Timeliness looks at records whose provider time is within this many days.
    public static let timelinessDays = 90
    public static let periodicDatasets = ["tax_filing", "social_insurance", "utility_bill"]
    /// The first half of the advisory-lock key each table's refresh holds.
    static let refreshLockKey: Int32 = 0x5374_6174  // "Stat"

    // MARK: Refresh

    /// One or more summary tables could not be rebuilt: each keeps its last figures, marked
    /// stale (`rebuild_failed_at`) until a rebuild succeeds.
    public struct RefreshFailed: Error, CustomStringConvertible {
        public let failures: [(table: String, why: String)]
        public var description: String { failures.map { "\($0.table): \($0.why)" }.joined(separator: "; ") }
    }

    /// Rebuilds every summary table, each in its own transaction; returns the milliseconds each
    /// took. A table that fails does not stop the others: its failure is recorded (when, and the
    /// database's message without row contents) and `RefreshFailed` names every failed table.
    @discardableResult
    public static func refresh(_ db: Database, today: Day = Day.todayInChina()) async throws -> [(String, Int)] {
        var took: [(String, Int)] = []
        var failures: [(table: String, why: String)] = []
        func timed(_ name: String, _ body: (PostgresConnection) async throws -> Void) async throws {
            let clock = ContinuousClock()
            let start = clock.now
            do {
                try await db.withTransaction { c in
                    // One refresh of a table at a time (several servers, or a manual refresh).
                    try await c.query("SELECT pg_advisory_xact_lock(\(refreshLockKey), hashtext(\(name)))", logger: db.logger)
                    try await body(c)
                    let ms = Int(
                        (clock.now - start).components.seconds * 1000 + (clock.now - start).components.attoseconds / 1_000_000_000_000_000
                    )
                    try await c.query(
                        """
                        INSERT INTO stat_refresh (name, refreshed_at, took_ms) VALUES (\(name), now(), \(ms))
                        ON CONFLICT (name) DO UPDATE SET refreshed_at = now(), took_ms = excluded.took_ms
                        """,
                        logger: db.logger
                    )
                    took.append((name, ms))
                }
            } catch  where isShutdown(error) {
                throw error
            } catch {
                let why = describeDatabaseError(error)
                failures.append((name, why))
                _ = try? await db.withConnection { c in
                    try await c.query(
                        """
                        INSERT INTO stat_refresh (name, failed_at, failure) VALUES (\(name), now(), \(why))
                        ON CONFLICT (name) DO UPDATE SET failed_at = now(), failure = excluded.failure
                        """,
                        logger: db.logger
                    )
                }
            }
        }
        try await timed("demands") { c in try await refreshDemands(c, logger: db.logger, today: today) }
        try await timed("banks") { c in try await refreshBanks(c, logger: db.logger, today: today) }
        try await timed("quality") { c in try await refreshQuality(c, logger: db.logger, today: today) }
        try await timed("model") { c in try await refreshModel(c, logger: db.logger, today: today) }
        if !failures.isEmpty { throw RefreshFailed(failures: failures) }
        return took
    }

    /// A bank's part (alias `o`) answered late: its decision clock runs from its take-up to its
    /// answer, or to the day the part lapsed, or to today while it is still deciding.
    static func decisionLate(_ o: String, _ today: Day) -> String {
        """
        (coalesce((\(o).decided_at AT TIME ZONE 'Asia/Shanghai')::date, (\(o).lapsed_at AT TIME ZONE 'Asia/Shanghai')::date,
                  CASE WHEN \(o).state = 'taken_up' THEN '\(today.description)'::date END) > \(o).decision_due_on)
        """
    }

    static func refreshDemands(_ c: PostgresConnection, logger: Logger, today: Day) async throws {
        try await c.query("DELETE FROM stat_demand", logger: logger)
        try await c.query(
            """
            INSERT INTO stat_demand
            SELECT d.id, d.uscc, to_char(d.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'),
                   coalesce(d.district_code, 'unknown'), coalesce(left(d.industry_code, 1), 'unknown'),
                   coalesce(d.size_class, 'unknown'), coalesce(d.entity_type, 'unknown'),
                   coalesce(d.entity_type IN ('farmer_cooperative', 'family_farm'), false), d.first_loan,
                   d.taken_up_by, o.name, coalesce(p.kind, CASE WHEN d.collateral_offered THEN 'secured' ELSE 'credit' END),
                   d.state, d.amount_fen,
                   EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = d.id), d.state IN ('granted', 'disbursed'),
                   d.state = 'declined', d.state = 'disbursed',
                   CASE WHEN d.state IN ('granted', 'disbursed') THEN coalesce(d.granted_amount_fen, 0) ELSE 0 END,
                   CASE WHEN d.state = 'disbursed' THEN coalesce(d.disbursed_amount_fen, 0) ELSE 0 END,
                   -- From posting to the first take-up, and from it to the first bank's answer (an offer or a decline).
                   round((extract(epoch FROM f.first_taken - d.created_at) / 3600)::numeric, 2),
                   round((extract(epoch FROM f.first_answer - f.first_taken) / 3600)::numeric, 2),
                   d.decline_reason,
                   coalesce((f.first_taken AT TIME ZONE 'Asia/Shanghai')::date,
                            CASE WHEN d.state = 'open' THEN \(today.description)::date
                                 ELSE (d.updated_at AT TIME ZONE 'Asia/Shanghai')::date END) > d.take_up_due_on,
                   -- Each bank's decision clock runs from its take-up until its answer; a part that lapsed
                   -- or a demand withdrawn stops it that day (late only if the bank was late by then).
                   -- Late when any bank was. Total over every state: never NULL.
                   coalesce((SELECT bool_or(\(unescaped: Self.decisionLate("o", today))) FROM demand_offer o WHERE o.demand_id = d.id), false),
                   d.grade_at_posting, d.score_at_posting, d.scorecard_version,
                   (SELECT bool_or(lo.status IN ('defaulted', 'overdue_90')) FROM loan_outcome lo WHERE lo.demand_id = d.id),
                   (SELECT count(*) FROM demand_offer o WHERE o.demand_id = d.id AND o.decided_at IS NOT NULL AND o.state <> 'declined'),
                   (SELECT count(*) FROM demand_offer o WHERE o.demand_id = d.id AND o.state = 'declined'),
                   coalesce(d.first_loan_no_prior AND d.first_loan_attested, false),
                   CASE WHEN d.state IN ('granted', 'disbursed') THEN d.granted_rate_bp END,
                   CASE WHEN d.state IN ('granted', 'disbursed') THEN d.repayment END
            FROM demand d
            LEFT JOIN organisations o ON o.id = d.taken_up_by
            LEFT JOIN product p ON p.id = d.granted_product_id
            LEFT JOIN LATERAL (SELECT min(x.taken_up_at) AS first_taken, min(x.decided_at) AS first_answer
                               FROM demand_offer x WHERE x.demand_id = d.id) f ON true
            """,
            logger: logger
        )
    }

    static func refreshBanks(_ c: PostgresConnection, logger: Logger, today: Day) async throws {
        try await c.query("DELETE FROM stat_bank", logger: logger)
        try await c.query(
            """
            INSERT INTO stat_bank
            SELECT o.id, o.name,
                   EXISTS (SELECT 1 FROM api_keys k WHERE k.org_id = o.id AND \(unescaped: Live.key("k"))),
                   EXISTS (SELECT 1 FROM product p WHERE p.bank_org_id = o.id AND p.status = 'published')
            FROM organisations o WHERE o.kind = 'bank'
            """,
            logger: logger
        )
        try await c.query("DELETE FROM stat_bank_demand", logger: logger)
        // A matched bank answers by taking up or passing; it is overdue when it had not by the
        // deadline while the demand was still waiting (the places filling up ends the wait). What it
        // did once it took the demand up is its own part (demand_offer).
        try await c.query(
            """
            INSERT INTO stat_bank_demand
            SELECT m.bank, d.id, s.month, s.district, s.industry, s.size,
                   o.id IS NOT NULL, ps.at IS NOT NULL,
                   coalesce(least((ps.at AT TIME ZONE 'Asia/Shanghai')::date, (o.taken_up_at AT TIME ZONE 'Asia/Shanghai')::date),
                            (full_at AT TIME ZONE 'Asia/Shanghai')::date,
                            CASE WHEN d.state IN ('open', 'taken_up') THEN \(today.description)::date
                                 ELSE (d.updated_at AT TIME ZONE 'Asia/Shanghai')::date END)
                       > d.take_up_due_on,
                   o.decided_at IS NOT NULL, coalesce(o.state = 'declined', false),
                   coalesce(\(unescaped: Self.decisionLate("o", today)), false),
                   round((extract(epoch FROM o.decided_at - o.taken_up_at) / 3600)::numeric, 2)
            FROM (SELECT DISTINCT bank_org_id AS bank, demand_id FROM authorisation WHERE demand_id IS NOT NULL
                  UNION SELECT bank_org_id, demand_id FROM demand_offer) m
            JOIN demand d ON d.id = m.demand_id
            JOIN stat_demand s ON s.demand_id = d.id
            LEFT JOIN demand_offer o ON o.demand_id = d.id AND o.bank_org_id = m.bank
            LEFT JOIN demand_pass ps ON ps.demand_id = d.id AND ps.bank_org_id = m.bank
            -- When the last place was taken (the wait ended for the banks left out).
            LEFT JOIN LATERAL (SELECT CASE WHEN count(*) >= d.max_banks THEN max(x.taken_up_at) END AS full_at
                               FROM demand_offer x WHERE x.demand_id = d.id) f ON true
            """,
            logger: logger
        )
    }

    static func refreshQuality(_ c: PostgresConnection, logger: Logger, today: Day) async throws {
        try await c.query("DELETE FROM stat_quality", logger: logger)
        try await c.query(
            """
            INSERT INTO stat_quality
            SELECT f.dataset, f.provider, f.status, f.last_success_at, f.newest_item_at, f.received, f.stored, f.quarantined,
                   (SELECT count(*) FROM quarantine q WHERE q.dataset = f.dataset AND q.reason_code LIKE 'uscc%'),
                   coalesce((SELECT jsonb_object_agg(reason_code, n) FROM (SELECT reason_code, count(*) AS n FROM quarantine q
                             WHERE q.dataset = f.dataset GROUP BY reason_code) r), '{}'::jsonb),
                   NULL, NULL,
                   (SELECT count(*) FILTER (WHERE v.received_at <= v.updated_at + make_interval(hours => \(timelyHours)::int))
                    FROM record_version v WHERE v.dataset = f.dataset
                      AND v.updated_at > now() - make_interval(days => \(timelinessDays)::int)),
                   (SELECT count(*) FROM record_version v WHERE v.dataset = f.dataset
                      AND v.updated_at > now() - make_interval(days => \(timelinessDays)::int))
            FROM feed_state f
            """,
            logger: logger
        )
        // Objections per dataset, and the records held (the valid-objection rate's denominator).
        try await c.query(
            """
            UPDATE stat_quality q SET live = f.live,
                objections_open = (SELECT count(*) FROM objection o WHERE o.dataset = q.dataset AND o.state = 'open'),
                objections_overdue = (SELECT count(*) FROM objection o WHERE o.dataset = q.dataset AND o.state = 'open'
                                      AND o.due_on < \(today.description)::date),
                objections_upheld = (SELECT count(*) FROM objection o WHERE o.dataset = q.dataset AND o.state = 'upheld')
            FROM feed_state f WHERE f.dataset = q.dataset
            """,
            logger: logger
        )
        // Completeness of the periodic datasets: active businesses with a recent period.
        let since = MonthIndex(today).adding(-completenessMonths).description
        try await c.query(
            """
            WITH active AS (
                SELECT record_id AS uscc FROM current_record
                WHERE dataset = 'enterprise_registry' AND op = 'upsert' AND data->>'status' = 'active'
            ), recent AS (
                SELECT v.dataset, count(DISTINCT v.uscc) AS n FROM record_version v JOIN active a ON a.uscc = v.uscc
                WHERE v.dataset = ANY(\(periodicDatasets)::text[]) AND v.superseded_at IS NULL AND v.op = 'upsert'
                  AND v.data->>'period' >= \(since)
                GROUP BY v.dataset
            )
            UPDATE stat_quality q SET active_enterprises = (SELECT count(*) FROM active), recent_enterprises = coalesce(r.n, 0)
            FROM (SELECT unnest(\(periodicDatasets)::text[]) AS dataset) ds LEFT JOIN recent r ON r.dataset = ds.dataset
            WHERE q.dataset = ds.dataset
            """,
            logger: logger
        )
    }

    static func refreshModel(_ c: PostgresConnection, logger: Logger, today: Day) async throws {
        let month = MonthIndex(today).description
        try await c.query("DELETE FROM stat_grade_month WHERE month = \(month)", logger: logger)
        try await c.query(
            """
            INSERT INTO stat_grade_month
            SELECT \(month), scorecard_version, coalesce(grade, 'none'), count(*)::int FROM profile GROUP BY 2, 3
            """,
            logger: logger
        )
        // Distributions over each live version's bins, for the city and by segment.
        // The cards first: one connection cannot run a query while it streams another's rows.
        var cards: [String: Scorecard] = [:]
        for version in try await c.query("SELECT DISTINCT scorecard_version FROM profile", logger: logger).collect().map({
            try $0.decode(String.self)
        }) {
            cards[version] = try await Scorecards.card(c, version: version, logger: logger)
        }
        var counts: [DistKey: Int] = [:]
        let rows = try await c.query(
            """
            SELECT p.scorecard_version, p.score, p.features::text, coalesce(r.data->>'district_code', 'unknown'),
                   coalesce(left(r.data->>'industry_code', 1), 'unknown'), coalesce(r.data->>'size_class', 'unknown')
            FROM profile p
            LEFT JOIN current_record r ON r.dataset = 'enterprise_registry' AND r.record_id = p.uscc AND r.op = 'upsert'
            """,
            logger: logger
        )
        for try await (version, score, features, district, industry, size) in rows.decode(
            (String, Int?, String, String, String, String).self
        ) {
            guard let card = cards[version] else { continue }
            let segments = [("all", "all"), ("district", district), ("industry", industry), ("size", size)]
            func add(_ characteristic: String, _ bin: Int) {
                for (kind, segment) in segments {
                    counts[
                        DistKey(version: version, characteristic: characteristic, segmentKind: kind, segment: segment, bin: bin),
                        default: 0
                    ] += 1
                }
            }
            // Scored profiles only: the population a card's development sample describes (thin
            // files are not scored, and the sample left them out).
            guard let score else { continue }
            add("score", ModelHealth.scoreBand(score))
            guard case .object(let values)? = try? JSONParser.parse(features) else { continue }
            for ch in card.characteristics {
                let v: FeatureValue =
                    switch values[ch.feature.rawValue] {
                    case .number(let n)?: Int64(n).map(FeatureValue.number) ?? .missing
                    case .string(let s)?: .category(s)
                    default: .missing
                    }
                if let bin = ch.binIndex(v) { add(ch.feature.rawValue, bin) }
            }
        }
        try await c.query("DELETE FROM stat_distribution WHERE kind = 'current'", logger: logger)
        let keys = Array(counts.keys)
        for start in stride(from: 0, to: keys.count, by: 5_000) {
            let part = keys[start..<min(keys.count, start + 5_000)]
            try await c.query(
                """
                INSERT INTO stat_distribution
                SELECT 'current', v, ch, sk, sg, b, n
                FROM unnest(\(part.map(\.version))::text[], \(part.map(\.characteristic))::text[], \(part.map(\.segmentKind))::text[],
                            \(part.map(\.segment))::text[], \(part.map(\.bin))::int[], \(part.map { counts[$0]! })::int[]) AS t(v, ch, sk, sg, b, n)
                """,
                logger: logger
            )
        }
        // A version seen for the first time: its distribution now is its stability baseline.
        try await c.query(
            """
            INSERT INTO stat_distribution
            SELECT 'reference', scorecard_version, characteristic, segment_kind, segment, bin, enterprises FROM stat_distribution s
            WHERE kind = 'current' AND NOT EXISTS (SELECT 1 FROM stat_distribution r WHERE r.kind = 'reference'
                                                   AND r.scorecard_version = s.scorecard_version)
            """,
            logger: logger
        )
    }

    struct DistKey: Hashable {
        let version: String
        let characteristic: String
        let segmentKind: String
        let segment: String
        let bin: Int
    }
}
