import CreditCore
import Foundation
import Logging
import PostgresNIO

/// Model health for regulators: the city's grades over time, stability of the score and each
/// feature against the version's baseline, separation on reported loan outcomes, and the same
/// by segment.
extension Stats {
    public static let grades = ["A", "B", "C", "D", "none"]

    /// A row of enterprises by grade: each grade a cell of its own, small ones hidden within the
    /// row (with a complement, the row's total being shown).
    /// `rounded`: the counts as `Rounding` publishes them (for a table that takes filters).
    static func gradeRow(_ key: String, _ byGrade: [String: Int], rounded: Bool = false) -> StatTable.Row {
        let counts = grades.map { byGrade[$0] ?? 0 }
        let hide = Suppression.hidden(counts, totalShown: true)
        func shown(_ n: Int) -> StatTable.Value { .int(rounded ? Rounding.count(n) : Int64(n)) }
        return StatTable.Row(
            key: key,
            values: counts.indices.map { hide[$0] ? .suppressed : shown(counts[$0]) } + [shown(counts.reduce(0, +))],
            enterprises: counts.reduce(0, +)
        )
    }

    /// Enterprises by grade, one row per month and scorecard version.
    public static func gradesByMonth(_ c: PostgresConnection, logger: Logger) async throws -> StatTable {
        var cells: [String: [String: Int]] = [:]
        var keys: [String] = []
        for try await (month, version, grade, n) in try await c.query(
            "SELECT month, scorecard_version, grade, enterprises FROM stat_grade_month ORDER BY month, scorecard_version",
            logger: logger
        ).decode((String, String, String, Int).self) {
            let key = "\(month) \(version)"
            if cells[key] == nil { keys.append(key) }
            cells[key, default: [:]][grade] = n
        }
        let rows = keys.map { gradeRow($0, cells[$0] ?? [:]) }
        var t = StatTable(
            name: "grades",
            by: "month",
            columns: grades.map { .init($0, .count) } + [.init("enterprises", .count)],
            rows: rows,
            total: nil,
            notes: ["one snapshot of the city's profiles per month (the latest refresh of the month)"]
        )
        try await stamp(&t, c, logger: logger, "model")
        return t
    }

    /// The grades businesses had when they posted demands, by month of posting: the grade mix
    /// of those seeking credit over the whole history (the city's own snapshots start when the
    /// service does).
    public static func applicantGrades(_ c: PostgresConnection, logger: Logger, filter: StatFilter) async throws -> StatTable {
        var cells: [String: [String: Int]] = [:]
        let q = filtered(
            "SELECT month, coalesce(grade, 'none'), count(DISTINCT enterprise)::int FROM stat_demand",
            " GROUP BY 1, 2 ORDER BY 1",
            filter
        )
        for try await (month, grade, n) in try await c.query(q, logger: logger).decode((String, String, Int).self) {
            cells[month, default: [:]][grade] = n
        }
        let rows = cells.keys.sorted().map { gradeRow($0, cells[$0] ?? [:], rounded: true) }
        var t = StatTable(
            name: "applicant_grades",
            by: "month",
            columns: grades.map { .init($0, .count) } + [.init("enterprises", .count)],
            rows: rows,
            total: nil,
            notes: ["businesses posting demands in the month, by their grade at posting", Rounding.note]
        )
        try await stamp(&t, c, logger: logger, "demands")
        t.suppress()
        return t
    }

    /// Objections and repair applications: open, overdue (past their 20 days or 3 working days),
    /// decided either way. Read from the applications themselves (small tables).
    public static func governance(_ c: PostgresConnection, logger: Logger) async throws -> StatTable {
        var rows: [StatTable.Row] = []
        for try await (key, enterprises, open, overdue, granted, refused, unverifiable) in try await c.query(
            """
            SELECT 'objections', count(DISTINCT uscc)::int, count(*) FILTER (WHERE state = 'open'),
                   count(*) FILTER (WHERE state = 'open' AND due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date),
                   count(*) FILTER (WHERE state = 'upheld'), count(*) FILTER (WHERE state = 'rejected'),
                   count(*) FILTER (WHERE state = 'unverifiable')
            FROM objection
            UNION ALL
            SELECT 'repairs', count(DISTINCT uscc)::int, count(*) FILTER (WHERE state = 'open'),
                   count(*) FILTER (WHERE state = 'open' AND due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date),
                   count(*) FILTER (WHERE state = 'approved'), count(*) FILTER (WHERE state = 'rejected'), 0::bigint
            FROM repair_application
            """,
            logger: logger
        ).decode((String, Int, Int64, Int64, Int64, Int64, Int64).self) {
            rows.append(
                StatTable.Row(
                    key: key,
                    values: [.int(open), .int(overdue), .int(granted), .int(refused), key == "objections" ? .int(unverifiable) : .null],
                    enterprises: enterprises
                )
            )
        }
        var t = StatTable(
            name: "governance",
            by: "kind",
            columns: [
                .init("open", .count), .init("overdue", .count), .init("upheld_or_approved", .count), .init("rejected", .count),
                .init("unverifiable", .count),
            ],
            rows: rows,
            total: nil,
            notes: [
                "objections are due 20 days after they are raised; repair applications 3 working days after",
                "unverifiable: objections the check could neither confirm nor refute (the record kept, marked, the objection recorded)",
            ]
        )
        t.suppress()
        return t
    }

    /// Penalties and their repair under each publicity rule set (the set in force on the decision
    /// day; under the 2026 measures by severity): penalties decided in the last three years (the
    /// longest any set publishes), how many are published today, not published at all (minor),
    /// repairable now, applied for, approved, rejected, and ended at their maximum. Windows are
    /// computed by `Publicity`, the rules the reports use, not restated here.
    public static func repairs(_ c: PostgresConnection, logger: Logger, today: Day = Day.todayInChina()) async throws -> StatTable {
        // Columns: 0 penalties, 1 not published, 2 published, 3 repairable, 4 applied, 5 approved,
        // 6 rejected (applications), 7 publication over; each with the businesses it counts.
        struct Cell {
            var usccs: Set<String> = []
            var n = [Int64](repeating: 0, count: 8)
            var who = [Set<String>](repeating: [], count: 8)
            mutating func add(_ column: Int, _ uscc: String, _ count: Int64 = 1) {
                guard count > 0 else { return }
                n[column] += count
                who[column].insert(uscc)
            }
        }
        var cells: [String: Cell] = [:]
        for try await (uscc, decided, severity, authority, violation, endsOn, approvedOn, applications, rejections) in try await c.query(
            """
            SELECT v.uscc, v.data->>'decided_on', coalesce(v.data->>'severity', 'general'), coalesce(v.data->>'authority', ''),
                   coalesce(v.data->>'violation', ''), v.data->>'publicity_ends_on',
                   (SELECT max(a.repaired_on)::text FROM repair_application a WHERE a.record_id = v.record_id AND a.state = 'approved'),
                   (SELECT count(*) FROM repair_application a WHERE a.record_id = v.record_id),
                   (SELECT count(*) FROM repair_application a WHERE a.record_id = v.record_id AND a.state = 'rejected')
            FROM record_version v
            WHERE v.dataset = 'administrative_penalty' AND v.superseded_at IS NULL AND v.op = 'upsert' AND NOT v.suppressed
              AND (v.data->>'decided_on')::date > \(today.description)::date - make_interval(years => 3)
              AND (v.data->>'decided_on')::date <= \(today.description)::date
            """,
            logger: logger
        ).decode((String, String, String, String, String, String?, String?, Int64, Int64).self) {
            guard let day = Day(decided) else { continue }
            let w = Publicity.window(
                decidedOn: day,
                providerEndsOn: endsOn.flatMap(Day.init),
                severity: severity,
                authority: authority,
                violation: violation
            )
            let key =
                w.rules == Publicity.trial2023.id ? w.rules : "\(w.rules)/\(["minor", "serious"].contains(severity) ? severity : "general")"
            let repaired = approvedOn.flatMap(Day.init)
            var cell = cells[key, default: Cell()]
            cell.usccs.insert(uscc)
            cell.add(0, uscc)
            if !w.published { cell.add(1, uscc) }
            if Publicity.isPublished(w, decidedOn: day, repairedOn: repaired, today: today) {
                cell.add(2, uscc)
                if w.repairableFrom <= today { cell.add(3, uscc) }
            }
            if applications > 0 { cell.add(4, uscc) }
            if repaired != nil { cell.add(5, uscc) }
            cell.add(6, uscc, rejections)
            if w.published, w.endsOn < today, repaired == nil { cell.add(7, uscc) }
            cells[key] = cell
        }
        let order = [Publicity.trial2023.id] + ["minor", "general", "serious"].map { "\(Publicity.measures2026.id)/\($0)" }
        let rows = order.map { key in
            let x = cells[key] ?? Cell()
            // A cell of 1–4 businesses is hidden. Not published, published, repaired and over add up
            // to the penalties: one of them hidden alone would come back by subtraction, so the
            // next smallest goes too.
            var hide = x.who.map { $0.count > 0 && $0.count < Suppression.threshold }
            let parts = [1, 2, 5, 7]
            for (i, h) in zip(parts, Suppression.hidden(parts.map { x.who[$0].count }, totalShown: true)) where h { hide[i] = true }
            return StatTable.Row(
                key: key,
                values: x.n.indices.map { hide[$0] ? .suppressed : .int(x.n[$0]) },
                enterprises: x.usccs.count
            )
        }
        var t = StatTable(
            name: "repairs",
            by: "rule_set",
            columns: [
                .init("penalties", .count), .init("not_published", .count), .init("published", .count), .init("repairable", .count),
                .init("repair_applied", .count), .init("repair_approved", .count), .init("repair_rejected", .count),
                .init("publication_ended", .count),
            ],
            rows: rows,
            total: nil,
            notes: [
                "penalties decided in the last 3 years, under the publicity rules in force on their decision day: "
                    + "trial-2023 before \(Publicity.measures2026.effectiveFrom!), measures-2026 from it, by the provider's severity "
                    + "(none given: general)",
                "repairable: published today and past the minimum publication; publication_ended: the period over (at the provider's date, within the bounds, or the maximum), "
                    + "not repaired; repair_rejected counts applications, the others penalties",
            ]
        )
        t.suppress()
        return t
    }

    /// Credit commitments by kind: made, in progress, kept, broken, and the kept rate (kept over
    /// those decided). Read from the commitments themselves (a small table).
    public static func commitments(_ c: PostgresConnection, logger: Logger) async throws -> StatTable {
        var rows: [StatTable.Row] = []
        for try await (kind, enterprises, made, running, kept, broken) in try await c.query(
            """
            SELECT kind, count(DISTINCT uscc)::int, count(*), count(*) FILTER (WHERE state = 'in_progress'),
                   count(*) FILTER (WHERE state = 'kept'), count(*) FILTER (WHERE state = 'broken')
            FROM commitment GROUP BY kind ORDER BY kind
            """,
            logger: logger
        ).decode((String, Int, Int64, Int64, Int64, Int64).self) {
            rows.append(
                StatTable.Row(
                    key: kind,
                    values: [.int(made), .int(running), .int(kept), .int(broken), StatTable.ratio(kept, kept + broken)],
                    enterprises: enterprises
                )
            )
        }
        var t = StatTable(
            name: "commitments",
            by: "kind",
            columns: [
                .init("made", .count), .init("in_progress", .count), .init("kept", .count), .init("broken", .count),
                .init("kept_rate", .ratio),
            ],
            rows: rows,
            total: nil,
            notes: ["kept_rate: kept over kept and broken"]
        )
        t.suppress()
        return t
    }

    /// Distribution counts per characteristic and bin for one version, kind and segment kind.
    static func distributions(
        _ c: PostgresConnection,
        logger: Logger,
        kind: String,
        version: String,
        segmentKind: String
    )
        async throws -> [String: [String: [Int: Int]]]
    {
        var out: [String: [String: [Int: Int]]] = [:]  // segment → characteristic → bin → n
        for try await (segment, ch, bin, n) in try await c.query(
            """
            SELECT segment, characteristic, bin, enterprises FROM stat_distribution
            WHERE kind = \(kind) AND scorecard_version = \(version) AND segment_kind = \(segmentKind)
            """,
            logger: logger
        ).decode((String, String, Int, Int).self) {
            out[segment, default: [:]][ch, default: [:]][bin] = n
        }
        return out
    }

    static func activeVersion(_ c: PostgresConnection, logger: Logger) async throws -> String? {
        try await c.query("SELECT version FROM active_scorecard", logger: logger).collect().first?.decode(String.self)
    }

    /// PSI over `bins` bins, or nil when either side covers fewer than
    /// `ModelHealth.minimumPSIBusinesses` businesses (sample too small).
    static func psi(_ reference: [Int: Int]?, _ current: [Int: Int]?, bins: Int) -> Double? {
        guard let reference, let current, reference.values.reduce(0, +) >= ModelHealth.minimumPSIBusinesses,
            current.values.reduce(0, +) >= ModelHealth.minimumPSIBusinesses
        else { return nil }
        return ModelHealth.psi(expected: (0..<bins).map { reference[$0] ?? 0 }, actual: (0..<bins).map { current[$0] ?? 0 })
    }

    /// PSI of the score and of each feature of the active version, against its baseline.
    public static func stability(_ c: PostgresConnection, logger: Logger) async throws -> StatTable {
        var rows: [StatTable.Row] = []
        var notes = [
            "PSI to two decimals, only when the baseline and today each cover at least \(ModelHealth.minimumPSIBusinesses) scored businesses (null otherwise: sample too small); 0.10 and over: watch (amber); 0.25 and over: act (red)",
            "score in 100-point bands; each feature over the scorecard's bins; scored businesses only",
        ]
        if let version = try await activeVersion(c, logger: logger),
            let card = try await Scorecards.card(c, version: version, logger: logger)
        {
            // The baseline: the sample the card was developed on, as the card itself carries it;
            // a card without one (before 2026.3) is compared with its first live distribution.
            let reference: [String: [Int: Int]]
            if let d = card.development {
                var r: [String: [Int: Int]] = [
                    "score": Dictionary(uniqueKeysWithValues: d.scoreBands.enumerated().map { ($0.offset, $0.element) })
                ]
                for (feature, counts) in d.features {
                    r[feature] = Dictionary(uniqueKeysWithValues: counts.enumerated().map { ($0.offset, $0.element) })
                }
                reference = r
                notes.insert("baseline: the card's development sample (\(Rounding.count(d.enterprises)) businesses)", at: 0)
            } else {
                reference =
                    try await distributions(c, logger: logger, kind: "reference", version: version, segmentKind: "all")["all"] ?? [:]
                notes.insert("baseline: the distribution when the version went live (the card carries no development sample)", at: 0)
            }
            let current = try await distributions(c, logger: logger, kind: "current", version: version, segmentKind: "all")["all"] ?? [:]
            let characteristics = [("score", ModelHealth.scoreBands)] + card.characteristics.map { ($0.feature.rawValue, $0.bins.count) }
            for (name, bins) in characteristics {
                let value = psi(reference[name], current[name], bins: bins)
                let n = (current[name] ?? [:]).values.reduce(0, +)
                rows.append(
                    StatTable.Row(
                        key: name,
                        values: [
                            .text(version), StatTable.ratio(value.map(Rounding.model), places: Rounding.modelPlaces),
                            .text(value.map { ModelHealth.psiLevel(Rounding.model($0)) } ?? "n/a"), .int(Int64(bins)),
                            .int(Int64(n)),
                        ],
                        enterprises: n
                    )
                )
            }
        } else {
            notes.append("no scorecard is active")
        }
        var t = StatTable(
            name: "stability",
            by: "characteristic",
            columns: [
                .init("scorecard_version", .text), .init("psi", .index), .init("level", .text), .init("bins", .count),
                .init("enterprises", .count),
            ],
            rows: rows,
            total: nil,
            notes: notes
        )
        try await stamp(&t, c, logger: logger, "model")
        t.suppress()
        return t
    }

    /// Separation on reported loan outcomes, by the scorecard version that scored the demand.
    public static func separation(_ c: PostgresConnection, logger: Logger, filter: StatFilter) async throws -> StatTable {
        var loans: [String: [(score: Int, bad: Bool)]] = [:]
        var enterprises: [String: Set<String>] = [:]
        let q = filtered(
            "SELECT scorecard_version, score, bad, enterprise FROM stat_demand",
            " AND bad IS NOT NULL AND score IS NOT NULL AND scorecard_version IS NOT NULL",
            filter
        )
        for try await (version, score, bad, enterprise) in try await c.query(q, logger: logger).decode((String, Int, Bool, String).self) {
            loans[version, default: []].append((score, bad))
            enterprises[version, default: []].insert(enterprise)
        }
        let rows = loans.keys.sorted().map { version -> StatTable.Row in
            let l = loans[version]!
            let bad = l.filter(\.bad).count
            // Over few bad (or good) loans, AUC and KS measure chance (and name the loans).
            let s = ModelHealth.separationOverEnough(l)
            let places = Rounding.modelPlaces
            return StatTable.Row(
                key: version,
                values: [
                    .int(Rounding.count(l.count)), .int(Rounding.count(bad)),
                    StatTable.ratio(s?.auc, places: places), StatTable.ratio(s?.ks, places: places),
                    StatTable.ratio(s?.gini, places: places),
                ],
                enterprises: enterprises[version]!.count
            )
        }
        var t = StatTable(
            name: "separation",
            by: "scorecard_version",
            columns: [.init("loans", .count), .init("bad", .count), .init("auc", .index), .init("ks", .index), .init("gini", .index)],
            rows: rows,
            total: nil,
            notes: [
                "loans with a reported outcome; bad: defaulted or 90 days overdue in any reported month; score at posting",
                "AUC, KS and Gini to two decimals, and only with at least \(ModelHealth.minimumBadLoans) bad and \(ModelHealth.minimumGoodLoans) good loans (null otherwise: sample too small)",
                Rounding.note,
            ]
        )
        try await stamp(&t, c, logger: logger, "demands")
        t.suppress()
        return t
    }

    /// By district, industry or size: the score's PSI in the segment and its loans' default rate.
    public static func segments(_ c: PostgresConnection, logger: Logger, by: StatDimension, filter: StatFilter) async throws -> StatTable {
        guard [.district, .industry, .size].contains(by) else { throw StatError.dimension(by.rawValue, "district, industry or size") }
        var rows: [StatTable.Row] = []
        var outcomes: [String: (loans: Int64, bad: Int64, enterprises: Int)] = [:]
        let q = filtered(
            "SELECT \(by.column), count(*), count(*) FILTER (WHERE bad), count(DISTINCT enterprise)::int FROM stat_demand",
            " AND bad IS NOT NULL GROUP BY 1",
            filter
        )
        for try await (segment, loans, bad, n) in try await c.query(q, logger: logger).decode((String, Int64, Int64, Int).self) {
            outcomes[segment] = (loans, bad, n)
        }
        let version = try await activeVersion(c, logger: logger)
        var reference: [String: [String: [Int: Int]]] = [:]
        var current: [String: [String: [Int: Int]]] = [:]
        if let version {
            reference = try await distributions(c, logger: logger, kind: "reference", version: version, segmentKind: by.rawValue)
            current = try await distributions(c, logger: logger, kind: "current", version: version, segmentKind: by.rawValue)
        }
        for segment in Set(current.keys).union(outcomes.keys).sorted() {
            let n = (current[segment]?["score"] ?? [:]).values.reduce(0, +)
            let value = psi(reference[segment]?["score"], current[segment]?["score"], bins: ModelHealth.scoreBands)
            let o = outcomes[segment]
            // The default rate counts the segment's borrowers: hidden on its own when they are few.
            let rateHidden = (o?.enterprises ?? 0) > 0 && (o?.enterprises ?? 0) < Suppression.threshold
            let loans = Rounding.count(o?.loans ?? 0)
            let bad = Rounding.count(o?.bad ?? 0)
            rows.append(
                StatTable.Row(
                    key: segment,
                    values: [
                        .int(Rounding.count(n)), StatTable.ratio(value.map(Rounding.model), places: Rounding.modelPlaces),
                        .text(value.map { ModelHealth.psiLevel(Rounding.model($0)) } ?? "n/a"),
                        rateHidden ? .suppressed : .int(loans), rateHidden ? .suppressed : .int(bad),
                        rateHidden ? .suppressed : (o == nil ? .null : StatTable.ratio(bad, loans)),
                    ],
                    enterprises: n
                )
            )
        }
        var t = StatTable(
            name: "segments",
            by: by.rawValue,
            columns: [
                .init("enterprises", .count), .init("score_psi", .index), .init("level", .text), .init("loans", .count),
                .init("bad", .count), .init("default_rate", .ratio),
            ],
            rows: rows,
            total: nil,
            notes: [
                "score PSI within the segment against the segment when the version went live (the card's development sample has no segments), only over at least \(ModelHealth.minimumPSIBusinesses) businesses on each side; default rate over loans with a reported outcome",
                Rounding.note,
            ]
        )
        try await stamp(&t, c, logger: logger, "model")
        t.suppress()
        return t
    }
}

public enum StatError: Error, CustomStringConvertible {
    case dimension(String, String)
    public var description: String {
        switch self {
        case .dimension(let got, let allowed): "cannot break this table down by \(got): use \(allowed)"
        }
    }
}
