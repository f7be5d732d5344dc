import CreditCore
import Foundation
import Logging
import PostgresNIO

/// One table of statistics as regulators receive it (JSON or CSV): rows keyed by a dimension's
/// value, a total, and small cells hidden.
public struct StatTable: Sendable {
    /// `ratio`: a share (shown as a percentage); `rate`: a yearly interest rate as a fraction
    /// (0.0435 is 4.35%); `index`: a statistic such as PSI, AUC or KS.
    public enum Unit: String, Sendable { case count, fen, hours, ratio, rate, index, text, time }

    public struct Column: Sendable {
        public let name: String
        public let unit: Unit
        public init(_ name: String, _ unit: Unit) {
            self.name = name
            self.unit = unit
        }
    }

    public enum Value: Sendable, Equatable {
        case int(Int64)
        /// A decimal written exactly as given (ratios to 4 places, hours to 1).
        case decimal(String)
        case text(String)
        case null
        /// Hidden: the cell counts fewer than `Suppression.threshold` enterprises.
        case suppressed
    }

    public struct Row: Sendable {
        public let key: String
        public var values: [Value]
        /// Distinct enterprises behind the row: what suppression looks at (not shown).
        public let enterprises: Int
        public var suppressed: Bool
        public init(key: String, values: [Value], enterprises: Int, suppressed: Bool = false) {
            self.key = key
            self.values = values
            self.enterprises = enterprises
            self.suppressed = suppressed
        }
    }

    public let name: String
    public let by: String?
    public let columns: [Column]
    public var rows: [Row]
    public var total: Row?
    public var refreshedAt: Date?
    /// The latest rebuild failed (after `refreshedAt`): the figures are stale.
    public var rebuildFailedAt: Date?
    public var notes: [String]

    public init(name: String, by: String?, columns: [Column], rows: [Row], total: Row?, notes: [String] = []) {
        self.name = name
        self.by = by
        self.columns = columns
        self.rows = rows
        self.total = total
        self.notes = notes
    }

    /// Hides rows of fewer than the threshold of enterprises, and a complement where a shown
    /// total would reveal a single hidden row.
    public mutating func suppress() {
        let hide = Suppression.hidden(rows.map(\.enterprises), totalShown: total != nil)
        for i in rows.indices where hide[i] { Self.hideRow(&rows[i]) }
        if var t = total, Suppression.totalHidden(t.enterprises) {
            Self.hideRow(&t)
            total = t
        }
    }

    private static func hideRow(_ row: inout Row) {
        row.suppressed = true
        row.values = row.values.map { _ in .suppressed }
    }

    public static func ratio(_ numerator: Int64, _ denominator: Int64) -> Value {
        guard denominator > 0 else { return .null }
        // Four decimal places, rounded half up, in integers.
        let scaled = (numerator * 20_000 / denominator + 1) / 2
        return .decimal("\(scaled / 10_000).\(String(scaled % 10_000).leftPadded(4))")
    }

    /// `n` per 100,000 of `d`, to two decimal places (rounded half up), in integers.
    public static func perHundredThousand(_ n: Int64, _ d: Int64) -> Value {
        guard d > 0 else { return .null }
        let scaled = (n * 20_000_000 / d + 1) / 2  // hundredths
        return .decimal("\(scaled / 100).\(String(scaled % 100).leftPadded(2))")
    }

    public static func ratio(_ x: Double?, places: Int = 4) -> Value {
        guard let x, x.isFinite else { return .null }
        return .decimal(String(format: "%.\(places)f", x))
    }
}

/// Filters every regulator table accepts.
public struct StatFilter: Sendable, Equatable {
    public var from: String?
    public var to: String?
    public var district: String?
    public var industry: String?
    public var size: String?
    public var bank: UUID?
    public var productKind: String?
    public init() {}

    /// The filters set, as `name=value` pairs, for the audit log (which records what each read
    /// asked for: the trail of a differencing attempt).
    public var auditText: String {
        [
            ("from", from), ("to", to), ("district", district), ("industry", industry), ("size", size),
            ("bank", bank?.uuidString.lowercased()), ("product_kind", productKind),
        ]
        .compactMap { name, value in value.map { "\(name)=\($0)" } }.joined(separator: " ")
    }
}

/// What a table can be broken down by.
public enum StatDimension: String, Sendable, CaseIterable {
    case month, district, industry, size
    case entityType = "entity_type"
    case farmer
    case firstLoan = "first_loan"
    case bank
    case productKind = "product_kind"
    case grade

    var column: String {
        switch self {
        case .month: "month"
        case .district: "district"
        case .industry: "industry"
        case .size: "size"
        case .entityType: "entity_type"
        case .farmer: "CASE WHEN farmer THEN 'farmer' ELSE 'other' END"
        case .firstLoan: "CASE WHEN first_loan THEN 'first_loan' ELSE 'repeat' END"
        case .bank: "coalesce(bank_name, '(not taken up)')"
        case .productKind: "product_kind"
        case .grade: "coalesce(grade, 'none')"
        }
    }
}

extension Stats {
    /// A query over stat_demand-shaped rows: `head`, the filters as `WHERE`, then `tail`. The
    /// filters are binds $1…$7 (from, to, district, industry, size, bank, product kind), which
    /// `head` and `tail` may use too.
    static func filtered(
        _ head: String,
        _ tail: String,
        _ f: StatFilter,
        bankColumn: String = "bank",
        productKind: Bool = true
    ) -> PostgresQuery {
        var binds = PostgresBindings()
        binds.append(f.from)
        binds.append(f.to)
        binds.append(f.district)
        binds.append(f.industry)
        binds.append(f.size)
        binds.append(f.bank)
        binds.append(f.productKind)
        let conditions = """
             WHERE ($1::text IS NULL OR month >= $1::text) AND ($2::text IS NULL OR month <= $2::text)
               AND ($3::text IS NULL OR district = $3::text) AND ($4::text IS NULL OR industry = $4::text)
               AND ($5::text IS NULL OR size = $5::text) AND ($6::uuid IS NULL OR \(bankColumn) = $6::uuid)
            """ + (productKind ? " AND ($7::text IS NULL OR product_kind = $7::text) " : " AND ($7::text IS NULL OR true) ")
        return PostgresQuery(unsafeSQL: head + conditions + tail, binds: binds)
    }

    /// When the table's summary was last rebuilt, and whether a later rebuild failed (its figures
    /// are then stale: shown, and marked so).
    static func stamp(_ t: inout StatTable, _ c: PostgresConnection, logger: Logger, _ name: String) async throws {
        let row = try await c.query(
            "SELECT refreshed_at, failed_at FROM stat_refresh WHERE name = \(name)",
            logger: logger
        ).collect().first?.decode((Date?, Date?).self)
        t.refreshedAt = row?.0
        if let failed = row?.1, failed > (row?.0 ?? .distantPast) { t.rebuildFailedAt = failed }
    }

    static func run(_ c: PostgresConnection, logger: Logger, _ query: PostgresQuery) async throws -> [PostgresRow] {
        try await c.query(query, logger: logger).collect()
    }

    /// Rows by a dimension and their total in one pass (`GROUPING SETS`): `row` reads the
    /// measures from the row's third column on.
    static func grouped(
        _ c: PostgresConnection,
        logger: Logger,
        by: StatDimension,
        measures: String,
        filter: StatFilter,
        row: (String, PostgresRow, Int) throws -> StatTable.Row
    ) async throws -> ([StatTable.Row], StatTable.Row?) {
        let q = filtered(
            "SELECT \(by.column), GROUPING(\(by.column))::int, \(measures) FROM stat_demand",
            " GROUP BY GROUPING SETS ((\(by.column)), ()) ORDER BY 2, 1",
            filter
        )
        var rows: [StatTable.Row] = []
        var total: StatTable.Row?
        for r in try await run(c, logger: logger, q) {
            let cells = r.makeRandomAccess()
            if try cells[1].decode(Int.self) == 1 {
                total = try row("total", r, 2)
            } else {
                rows.append(try row(try cells[0].decode(String.self), r, 2))
            }
        }
        return (rows, total)
    }

    /// The funnel: posted → taken up → granted → disbursed, in count and amount, and the solve rate.
    public static func funnel(_ c: PostgresConnection, logger: Logger, by: StatDimension, filter: StatFilter) async throws -> StatTable {
        let measures = """
            count(DISTINCT enterprise)::int, count(*), coalesce(sum(amount_fen), 0)::bigint, count(*) FILTER (WHERE taken_up),
            count(*) FILTER (WHERE granted), coalesce(sum(granted_fen), 0)::bigint, count(*) FILTER (WHERE disbursed),
            coalesce(sum(disbursed_fen), 0)::bigint
            """
        func row(_ key: String, _ r: PostgresRow, offset: Int) throws -> StatTable.Row {
            let cells = r.makeRandomAccess()
            func i(_ k: Int) throws -> Int64 { try cells[offset + k].decode(Int64.self) }
            let enterprises = try cells[offset].decode(Int.self)
            // An amount goes with its count: where the count rounds to 0, so does the amount (a
            // rounded 0 beside ¥2,000,000 would both look wrong and say the count is 1 or 2).
            let granted = Rounding.count(try i(4))
            let disbursed = Rounding.count(try i(6))
            let posted = Rounding.count(try i(1))
            let postedFen = posted == 0 ? 0 : Rounding.fen(try i(2))
            let grantedFen = granted == 0 ? 0 : Rounding.fen(try i(5))
            let disbursedFen = disbursed == 0 ? 0 : Rounding.fen(try i(7))
            return StatTable.Row(
                key: key,
                values: [
                    .int(posted), .int(postedFen), .int(Rounding.count(try i(3))), .int(granted),
                    .int(grantedFen), .int(disbursed), .int(disbursedFen),
                    StatTable.ratio(disbursedFen, postedFen), .int(Rounding.count(enterprises)),
                ],
                enterprises: enterprises
            )
        }
        let (rows, total) = try await grouped(c, logger: logger, by: by, measures: measures, filter: filter, row: row)
        var t = StatTable(
            name: "funnel",
            by: by.rawValue,
            columns: [
                .init("posted", .count), .init("posted_fen", .fen), .init("taken_up", .count), .init("granted", .count),
                .init("granted_fen", .fen), .init("disbursed", .count), .init("disbursed_fen", .fen), .init("solve_rate", .ratio),
                .init("enterprises", .count),
            ],
            rows: rows,
            total: total,
            notes: ["solve_rate: disbursed amount over posted amount", Rounding.note]
        )
        try await stamp(&t, c, logger: logger, "demands")
        t.suppress()
        return t
    }

    /// Time from posting to take-up and from take-up to decision: median and 90th percentile, in hours.
    public static func timing(_ c: PostgresConnection, logger: Logger, by: StatDimension, filter: StatFilter) async throws -> StatTable {
        let measures = """
            count(DISTINCT enterprise)::int, count(hours_to_take_up),
            (percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_take_up))::numeric(12,1)::text,
            (percentile_cont(0.9) WITHIN GROUP (ORDER BY hours_to_take_up))::numeric(12,1)::text,
            count(hours_to_decision),
            (percentile_cont(0.5) WITHIN GROUP (ORDER BY hours_to_decision))::numeric(12,1)::text,
            (percentile_cont(0.9) WITHIN GROUP (ORDER BY hours_to_decision))::numeric(12,1)::text,
            count(*) FILTER (WHERE take_up_overdue), count(*) FILTER (WHERE decision_overdue)
            """
        func row(_ key: String, _ r: PostgresRow, offset: Int) throws -> StatTable.Row {
            let cells = r.makeRandomAccess()
            func d(_ k: Int) throws -> StatTable.Value { try cells[offset + k].decode(String?.self).map(StatTable.Value.decimal) ?? .null }
            func n(_ k: Int) throws -> StatTable.Value { .int(Rounding.count(try cells[offset + k].decode(Int64.self))) }
            // A median or percentile over few values names how many there are: given only over enough.
            func p(_ k: Int, over count: Int) throws -> StatTable.Value {
                try cells[offset + count].decode(Int64.self) >= Rounding.minimumValues ? d(k) : .null
            }
            return StatTable.Row(
                key: key,
                values: [
                    try n(1), try p(2, over: 1), try p(3, over: 1), try n(4), try p(5, over: 4), try p(6, over: 4), try n(7), try n(8),
                ],
                enterprises: try cells[offset].decode(Int.self)
            )
        }
        let (rows, total) = try await grouped(c, logger: logger, by: by, measures: measures, filter: filter, row: row)
        var t = StatTable(
            name: "timing",
            by: by.rawValue,
            columns: [
                .init("taken_up", .count), .init("take_up_hours_median", .hours), .init("take_up_hours_p90", .hours),
                .init("decided", .count), .init("decision_hours_median", .hours), .init("decision_hours_p90", .hours),
                .init("take_up_overdue", .count), .init("decision_overdue", .count),
            ],
            rows: rows,
            total: total,
            notes: [
                "hours from posting to take-up, and from take-up to grant or decline",
                "overdue: not taken up within 3 working days, or not decided within 10 working days of take-up", Rounding.note,
                Rounding.percentileNote,
            ]
        )
        try await stamp(&t, c, logger: logger, "demands")
        t.suppress()
        return t
    }

    /// Declined demands by reason.
    public static func declines(_ c: PostgresConnection, logger: Logger, filter: StatFilter) async throws -> StatTable {
        // By reason and in all (`GROUPING SETS`): a business declined for two reasons is one
        // business of the total, not two.
        let q = filtered(
            "SELECT decline_reason, GROUPING(decline_reason)::int, count(DISTINCT enterprise)::int, count(*) FROM stat_demand",
            " AND declined GROUP BY GROUPING SETS ((decline_reason), ()) ORDER BY 2, 4 DESC, 1",
            filter
        )
        var rows: [StatTable.Row] = []
        var total = StatTable.Row(key: "total", values: [.int(0)], enterprises: 0)
        for r in try await run(c, logger: logger, q) {
            let (reason, grouping, e, n) = try r.decode((String?, Int, Int, Int64).self)
            let row = StatTable.Row(key: grouping == 1 ? "total" : reason ?? "unknown", values: [.int(Rounding.count(n))], enterprises: e)
            if grouping == 1 { total = row } else { rows.append(row) }
        }
        var t = StatTable(
            name: "declines",
            by: "reason",
            columns: [.init("declined", .count)],
            rows: rows,
            total: total,
            notes: [Rounding.note]
        )
        try await stamp(&t, c, logger: logger, "demands")
        t.suppress()
        return t
    }

    /// Each bank's service: matched demands, take-ups, passes, overdue answers and decisions,
    /// decline rate, median decision time, and whether it is connected (a live key and a
    /// published product). The total row's `connected` is the share of banks connected.
    public static func banks(_ c: PostgresConnection, logger: Logger, filter: StatFilter) async throws -> StatTable {
        let f = filter  // a bank's answers are not per product kind: that filter does not apply
        let q = filtered(
            """
            SELECT b.name, b.has_key AND b.has_product, count(DISTINCT s.enterprise)::int, count(m.demand_id),
                   count(*) FILTER (WHERE m.took_up), count(*) FILTER (WHERE m.passed), count(*) FILTER (WHERE m.take_up_overdue),
                   count(*) FILTER (WHERE m.decided), count(*) FILTER (WHERE m.declined), count(*) FILTER (WHERE m.decision_overdue),
                   (percentile_cont(0.5) WITHIN GROUP (ORDER BY m.hours_to_decision))::numeric(12,1)::text
            FROM stat_bank b
            LEFT JOIN (SELECT * FROM stat_bank_demand
            """,
            """
            ) m ON m.bank = b.bank LEFT JOIN stat_demand s ON s.demand_id = m.demand_id
            WHERE ($6::uuid IS NULL OR b.bank = $6::uuid) GROUP BY b.bank, b.name, b.has_key, b.has_product ORDER BY b.name
            """,
            f,
            bankColumn: "bank",
            productKind: false
        )
        var connected = 0
        var banks = 0
        let rows = try await run(c, logger: logger, q).map { r in
            let cells = r.makeRandomAccess()
            func i(_ k: Int) throws -> Int64 { try cells[k].decode(Int64.self) }
            let isConnected = try cells[1].decode(Bool.self)
            banks += 1
            if isConnected { connected += 1 }
            func n(_ k: Int) throws -> Int64 { Rounding.count(try i(k)) }
            let decided = try n(7)
            let declined = try n(8)
            return StatTable.Row(
                key: try cells[0].decode(String.self),
                values: [
                    .text(isConnected ? "yes" : "no"), .int(try n(3)), .int(try n(4)), .int(try n(5)), .int(try n(6)), .int(decided),
                    .int(declined), StatTable.ratio(declined, decided), .int(try n(9)),
                    try i(7) >= Rounding.minimumValues ? try cells[10].decode(String?.self).map(StatTable.Value.decimal) ?? .null : .null,
                ],
                enterprises: try cells[2].decode(Int.self)
            )
        }
        // The share connected: of the city's licensed branches when the operator has imported
        // their roster, else (said in a note) of the banks registered in this service.
        let roster = try await BankRosterStore.coverage(c, logger: logger)
        let share =
            roster.map { StatTable.ratio(Int64($0.connected), Int64($0.branches)) } ?? StatTable.ratio(Int64(connected), Int64(banks))
        let total = StatTable.Row(
            key: "all banks",
            values: [share] + Array(repeating: .null, count: 9),
            enterprises: Int.max
        )
        let connectedNote =
            roster.map {
                "\(Self.rosterNotePrefix) \($0.branches) licensed bank branches (the operator's roster of \(Day.inChina($0.importedAt))) whose bank has an active API key and a published product: \($0.connected) (target over 0.5)"
            }
            ?? "connected: an active API key and a published product; no roster of the city's bank branches is imported (xyd banks roster import), so the total row gives the share of the banks registered here (target over 0.5)"
        var t = StatTable(
            name: "banks",
            by: "bank",
            columns: [
                .init("connected", .text), .init("matched", .count), .init("taken_up", .count), .init("passed", .count),
                .init("take_up_overdue", .count), .init("decided", .count), .init("declined", .count), .init("decline_rate", .ratio),
                .init("decision_overdue", .count), .init("decision_hours_median", .hours),
            ],
            rows: rows,
            total: total,
            notes: [
                connectedNote,
                "take_up_overdue: matched, and neither taken up nor passed within 3 working days while the demand waited", Rounding.note,
                Rounding.percentileNote,
            ]
        )
        try await stamp(&t, c, logger: logger, "banks")
        // Rows are hidden by their enterprises; the total is a share of banks, never hidden.
        let hide = Suppression.hidden(rows.map(\.enterprises), totalShown: false)
        for i in t.rows.indices where hide[i] && t.rows[i].enterprises > 0 {
            t.rows[i].suppressed = true
            t.rows[i].values = [t.rows[i].values[0]] + t.rows[i].values.dropFirst().map { _ in .suppressed }
        }
        return t
    }

    /// How the banks table's note begins when the share is of the city's roster.
    public static let rosterNotePrefix = "connected: of the city's"

    /// Per dataset: freshness, volumes, quarantine, completeness, timeliness, USCC error rate,
    /// and a red/amber/green status. No enterprise is counted alone here: nothing is hidden.
    public static func quality(_ c: PostgresConnection, logger: Logger) async throws -> StatTable {
        let rows = try await run(
            c,
            logger: logger,
            """
            SELECT dataset, provider, status, last_success_at, newest_item_at, received, stored, quarantined, quarantined_uscc,
                   by_reason::text, active_enterprises, recent_enterprises, timely, arrived,
                   extract(epoch FROM now() - last_success_at)::bigint, objections_open, objections_overdue, objections_upheld, live
            FROM stat_quality ORDER BY dataset
            """
        ).map { r in
            let (
                dataset, provider, status, lastSuccess, newest, received, stored, quarantined, uscc, byReason, active, recent, timely,
                arrived, sinceSuccess, open, overdue, upheld, live
            ) =
                try r.decode(
                    (
                        String, String, String, Date?, Date?, Int64, Int64, Int64, Int64, String, Int?, Int?, Int64?, Int64?, Int64?,
                        Int64, Int64, Int64, Int64
                    ).self
                )
            let completeness: StatTable.Value = if let active, let recent { StatTable.ratio(Int64(recent), Int64(active)) } else { .null }
            let timeliness: StatTable.Value = if let timely, let arrived { StatTable.ratio(timely, arrived) } else { .null }
            let usccRate = StatTable.ratio(uscc, received)
            let rag = qualityLevel(
                status: status,
                hoursSinceSuccess: sinceSuccess.map { $0 / 3600 },
                quarantined: quarantined,
                received: received,
                completeness: active.flatMap { a in recent.map { r in a > 0 ? Double(r) / Double(a) : 1 } },
                timeliness: timely.flatMap { t in arrived.map { a in a > 0 ? Double(t) / Double(a) : 1 } }
            )
            return StatTable.Row(
                key: dataset,
                values: [
                    .text(provider), .text(status), lastSuccess.map { .text(iso($0)) } ?? .null, newest.map { .text(iso($0)) } ?? .null,
                    .int(received), .int(stored), .int(quarantined), .text(byReason), completeness, active.map { .int(Int64($0)) } ?? .null,
                    timeliness, arrived.map { .int($0) } ?? .null, usccRate,
                    .int(open), .int(overdue), StatTable.perHundredThousand(upheld, live), .text(rag),
                ],
                enterprises: Int.max
            )
        }
        var t = StatTable(
            name: "quality",
            by: "dataset",
            columns: [
                .init("provider", .text), .init("status", .text), .init("last_success_at", .time), .init("newest_item_at", .time),
                .init("received", .count), .init("stored", .count), .init("quarantined", .count), .init("quarantined_by_reason", .text),
                .init("completeness", .ratio), .init("completeness_of", .count), .init("timeliness", .ratio),
                .init("timeliness_of", .count),
                .init("uscc_error_rate", .ratio),
                .init("under_objection", .count), .init("objections_overdue", .count), .init("valid_objections_per_100k", .index),
                .init("level", .text),
            ],
            rows: rows,
            total: nil,
            notes: [
                "completeness: active businesses with a record for one of the last \(completenessMonths) months, over active businesses (periodic datasets); completeness_of: how many active businesses that is over",
                "timeliness: records arriving within \(timelyHours) hours of the provider's time, of those from the last \(timelinessDays) days; timeliness_of: how many records that is over",
                "under_objection: records with an open objection; objections_overdue: open past their 20 days; valid_objections_per_100k: upheld objections per 100,000 records held (target under 1)",
                "level: red when the feed stopped or failed, has not succeeded for a day, or completeness or timeliness is under 0.8; amber for quarantine over 1% or completeness or timeliness under 0.95",
            ]
        )
        try await stamp(&t, c, logger: logger, "quality")
        return t
    }

    /// A dataset's level, from its pulls, its completeness and its timeliness together: red
    /// when pulls stopped or failed for a day, or either share is under 80 %; amber when more than
    /// 1 % is quarantined or either share is under 95 %; green otherwise.
    public static func qualityLevel(
        status: String,
        hoursSinceSuccess: Int64?,
        quarantined: Int64,
        received: Int64,
        completeness: Double?,
        timeliness: Double? = nil
    ) -> String {
        if status == "stopped" || status == "failing" || (hoursSinceSuccess ?? 1_000) >= 24 { return "red" }
        let shares = [completeness, timeliness].compactMap { $0 }
        if shares.contains(where: { $0 < 0.8 }) { return "red" }
        if received > 0, quarantined * 100 > received { return "amber" }
        if shares.contains(where: { $0 < 0.95 }) { return "amber" }
        return "green"
    }

    static func iso(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
}
