import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Store
import TestSupport
import Testing

@testable import Server

/// A small market written straight into the tables, whose figures are computed by hand below.
struct StatWorld: Sendable {
    struct Loan: Sendable {
        let uscc: String
        let district: String
        let state: String
        let amount: Int64
        let disbursed: Int64
        let score: Int?
        let bad: Bool?
        /// The day it was posted.
        var posted = "2026-10-12"
    }
    let keys: Keys
    let loans: [Loan]

    static func uscc(_ i: Int) -> String { i < 100 ? "9132060\(i < 10 ? "0" : "")\(i)STATTEST01" : "913206\(i)STATTEST01" }

    /// Amounts are in fen: a loan of ¥1,000,000 is 100,000,000.
    static func make(_ db: TestDatabase, extra: [Loan] = []) async throws -> StatWorld {
        let keys = try await Keys.make(db)
        var loans: [Loan] = []
        // 320614: eight businesses, each a disbursed loan with an outcome (scores and bad flags below).
        let scored: [(Int, Bool)] = [
            (820, false), (760, false), (700, true), (690, false), (640, false), (600, true), (560, false), (520, true),
        ]
        for (i, (score, bad)) in scored.enumerated() {
            loans.append(
                Loan(
                    uscc: uscc(i),
                    district: "320614",
                    state: "disbursed",
                    amount: 100_000_000,
                    disbursed: 90_000_000,
                    score: score,
                    bad: bad
                )
            )
        }
        // 320602: six businesses in every other state (the one taken up not yet due for a decision:
        // the server's market sweep would return it to the pool).
        for (i, state) in ["open", "taken_up", "granted", "declined", "declined", "withdrawn"].enumerated() {
            loans.append(
                Loan(uscc: uscc(20 + i), district: "320602", state: state, amount: 200_000_000, disbursed: 0, score: 700, bad: nil)
            )
        }
        // 320612: three businesses: too few to show, and 320602 hidden with it (the total would reveal it).
        for i in 0..<3 {
            loans.append(
                Loan(uscc: uscc(40 + i), district: "320612", state: "open", amount: 50_000_000, disbursed: 0, score: 650, bad: nil)
            )
        }
        loans += extra
        let bank = keys.orgIds[.bank]!
        let enterprise = keys.orgIds[.enterprise]!
        for l in loans {
            let takenUp = ["taken_up", "granted", "declined", "disbursed"].contains(l.state)
            let decided = ["granted", "declined", "disbursed"].contains(l.state)
            try await db.owner.execute(
                """
                WITH d AS (
                    INSERT INTO demand (uscc, enterprise_org_id, amount_fen, term_months, purpose, collateral_offered, first_loan, state,
                                        taken_up_by, created_at, expires_at, take_up_due_on, taken_up_at, decision_due_on, decided_at,
                                        granted_amount_fen, granted_rate_bp, decline_reason, disbursed_amount_fen, disbursed_on, district_code, industry_code,
                                        size_class, entity_type, grade_at_posting, score_at_posting, scorecard_version)
                    VALUES ('\(l.uscc)', '\(enterprise)', \(l.amount), 12, 'stock', false, true, '\(l.state)',
                            \(takenUp ? "'\(bank)'" : "NULL"), '\(l.posted) 10:00+08', now() + interval '30 days', '2026-10-15',
                            \(takenUp ? "'2026-10-12 16:00+08'" : "NULL"), \(l.state == "taken_up" ? "now() + interval '10 days'" : takenUp ? "'2026-10-26'" : "NULL"),
                            \(decided ? "'2026-10-13 16:00+08'" : "NULL"), \(["granted", "disbursed"].contains(l.state) ? "\(l.amount)" : "NULL"),
                            \(["granted", "disbursed"].contains(l.state) ? "\(380 + (l.score ?? 700) % 170)" : "NULL"),
                            \(l.state == "declined" ? "'high_existing_debt'" : "NULL"), \(l.disbursed > 0 ? "\(l.disbursed)" : "NULL"),
                            \(l.disbursed > 0 ? "'2026-10-14'" : "NULL"), '\(l.district)', 'C17', 'small', 'company', 'B', \(l.score.map(String.init) ?? "NULL"),
                            'test-1')
                    RETURNING id)
                INSERT INTO loan_outcome (demand_id, month, status, reported_by)
                SELECT id, '2026-11', \(l.bad == true ? "'defaulted'" : "'current'"), '\(bank)' FROM d WHERE \(l.bad != nil)
                """
            )
        }
        // Each bank's part, as the summary columns above say (the migration's function).
        try await db.owner.execute("SELECT demand_offers_from_summary(array_agg(id)) FROM demand")
        return StatWorld(keys: keys, loans: loans)
    }
}

@Suite struct RegulatorTests {
    struct Table {
        struct Row {
            let key: String
            let suppressed: Bool
            let values: [String: JSONValue]
            func int(_ name: String) -> Int64? { values[name]?.numberText.flatMap { Int64($0) } }
            init(_ v: JSONValue) {
                key = v["key"]?.stringValue ?? ""
                suppressed = v["suppressed"] == .bool(true)
                var values: [String: JSONValue] = [:]
                if case .object(let o)? = v["values"] { for (k, x) in o.pairs { values[k] = x } }
                self.values = values
            }
        }
        let table: String
        let columns: [[String: String]]
        let rows: [Row]
        let total: Row?
        var notes: [String] = []
    }

    static func decodeTable(_ r: TestResponse) throws -> Table {
        let v = try JSONParser.parse(String(buffer: r.body))
        guard case .array(let columns)? = v["columns"], case .array(let rows)? = v["rows"] else {
            throw TestSetupError("not a table: \(v.jsonText)")
        }
        return Table(
            table: v["table"]?.stringValue ?? "",
            columns: columns.map { ["name": $0["name"]?.stringValue ?? "", "unit": $0["unit"]?.stringValue ?? ""] },
            rows: rows.map(Table.Row.init),
            total: v["total"].flatMap { $0 == .null ? nil : Table.Row($0) },
            notes: { if case .array(let n)? = v["notes"] { n.compactMap(\.stringValue) } else { [] } }()
        )
    }

    static let routes = [
        "funnel", "timing", "declines", "banks", "quality", "grades", "applicant-grades", "commitments", "repairs", "governance",
        "stability",
        "separation", "segments",
    ]

    @Test func theFunnelEqualsTheHandCountWithSmallCellsHidden() async throws {
        try await TestDatabase.with { db in
            let w = try await StatWorld.make(db)
            try await Stats.refresh(db.app, today: Day(year: 2026, month: 11, day: 2)!)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                let regulator = w.keys.byKind[.regulator]!
                func get(_ path: String, _ headers: HTTPFields = [:]) async throws -> TestResponse {
                    try await client.execute(uri: path, method: .get, headers: bearer(regulator).merging(headers))
                }
                let r = try await get("/v1/regulator/funnel?by=district")
                #expect(r.status == .ok)
                let t = try Self.decodeTable(r)
                let byKey = Dictionary(uniqueKeysWithValues: t.rows.map { ($0.key, $0) })
                // Counts are published rounded to 5, amounts to ¥1,000,000 (100,000,000 fen), ratios from the rounded figures.
                // 320614: 8 posted at ¥1,000,000, all taken up, granted and disbursed at ¥900,000.
                let shown = try #require(byKey["320614"])
                #expect(!shown.suppressed)
                #expect(shown.int("posted") == 10 && shown.int("posted_fen") == 800_000_000 && shown.int("taken_up") == 10)  // 8 → 10
                #expect(shown.int("granted") == 10 && shown.int("granted_fen") == 800_000_000 && shown.int("disbursed") == 10)
                // ¥7,200,000 disbursed → ¥7,000,000; the solve rate 7/8 of the rounded amounts.
                #expect(shown.int("disbursed_fen") == 700_000_000 && shown.values["solve_rate"]?.numberText == "0.8750")
                #expect(shown.int("enterprises") == 10)
                // 320612 has 3 businesses: hidden; 320602 hidden as its complement.
                #expect(byKey["320612"]?.suppressed == true && byKey["320612"]?.values["posted"]?.stringValue == "suppressed")
                #expect(byKey["320602"]?.suppressed == true)
                // The total counts everything: 17 posted (→ 15); taken up 8 + 4 = 12 (→ 10); granted 8 + 1 = 9 (→ 10); disbursed 8 (→ 10).
                let total = try #require(t.total)
                #expect(
                    total.int("posted") == 15 && total.int("taken_up") == 10 && total.int("granted") == 10 && total.int("disbursed") == 10
                )
                // ¥8,000,000 + ¥12,000,000 + ¥1,500,000 = ¥21,500,000 → ¥22,000,000 (half rounds up).
                #expect(total.int("posted_fen") == 2_200_000_000)
                #expect(t.notes.contains(Rounding.note))

                // Filters: one district, a month range; a bad filter is a 422 naming it.
                let one = try Self.decodeTable(try await get("/v1/regulator/funnel?by=month&district=320614&from=2026-10&to=2026-10"))
                #expect(one.rows.map(\.key) == ["2026-10"] && one.rows[0].int("posted") == 10)  // 8
                let bad = try await get("/v1/regulator/funnel?by=colour&from=2026-13&size=huge")
                #expect(bad.status == .unprocessableContent)
                #expect(try await get("/v1/regulator/funnel?from=2026-13&size=huge").status == .unprocessableContent)

                // Timing: take-up 6 hours after posting, decision 24 hours after take-up (all alike):
                // the city's 12 take-ups and 11 decisions are enough values for a median; 320614's 8 are not.
                let timing = try Self.decodeTable(try await get("/v1/regulator/timing"))
                #expect(timing.total?.values["take_up_hours_median"]?.numberText == "6.0")
                #expect(timing.total?.values["decision_hours_p90"]?.numberText == "24.0")
                let few = try Self.decodeTable(try await get("/v1/regulator/timing?district=320614"))
                #expect(few.total?.values["take_up_hours_median"] == .null && few.total?.values["decision_hours_p90"] == .null)
                #expect(few.total?.int("taken_up") == 10)  // 8, rounded

                // Separation: 8 loans (→ 10), 3 bad (→ 5): too few bad loans for AUC and KS, which
                // would name them (see separationIsGivenOverEnoughLoansAndMatchesTheBruteForce).
                let sep = try Self.decodeTable(try await get("/v1/regulator/separation"))
                #expect(sep.rows.first?.key == "test-1" && sep.rows.first?.int("loans") == 10 && sep.rows.first?.int("bad") == 5)
                #expect(sep.rows.first?.values["auc"] == .null && sep.rows.first?.values["ks"] == .null)

                // Declines: 2 businesses only — hidden (and the total with them).
                let declines = try Self.decodeTable(try await get("/v1/regulator/declines"))
                #expect(declines.rows.allSatisfy(\.suppressed) && declines.total?.suppressed == true)

                // Applicants' grades at posting: all seventeen (→ 15) were B in October.
                let applicants = try Self.decodeTable(try await get("/v1/regulator/applicant-grades"))
                #expect(
                    applicants.rows.map(\.key) == ["2026-10"] && applicants.rows[0].int("B") == 15
                        && applicants.rows[0].int("enterprises") == 15
                )

                // Banks: the test bank matched nothing through authorisations here but holds 12 demands (→ 10).
                let banks = try Self.decodeTable(try await get("/v1/regulator/banks"))
                #expect(banks.rows.contains { $0.key == "Test bank" && $0.int("taken_up") == 10 })
            }
        }
    }

    @Test func everyRegulatorRouteIsForRegulatorsOnlyHasNoIdentifiersAndItsCSVMatchesItsJSON() async throws {
        try await TestDatabase.with { db in
            let w = try await StatWorld.make(db)
            try await Stats.refresh(db.app, today: Day(year: 2026, month: 11, day: 2)!)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                let identifiers =
                    w.loans.map(\.uscc) + [w.keys.orgIds[.enterprise]!.uuidString.lowercased(), w.keys.orgIds[.enterprise]!.uuidString]
                for route in Self.routes {
                    let path = "/v1/regulator/\(route)"
                    for kind in OrgKind.allCases where kind != .regulator {
                        let r = try await client.execute(uri: path, method: .get, headers: bearer(w.keys.byKind[kind]!))
                        #expect(r.status == .forbidden, "\(kind) on \(path)")
                    }
                    let json = try await client.execute(uri: path, method: .get, headers: bearer(w.keys.byKind[.regulator]!))
                    #expect(json.status == .ok, "\(path): \(String(buffer: json.body))")
                    let csv = try await client.execute(
                        uri: path,
                        method: .get,
                        headers: bearer(w.keys.byKind[.regulator]!).merging([.accept: "text/csv"])
                    )
                    #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
                    let jsonText = String(buffer: json.body)
                    let csvText = String(buffer: csv.body)
                    for id in identifiers {
                        #expect(!jsonText.contains(id) && !csvText.contains(id), "\(path) names \(id)")
                    }
                    // The CSV is the JSON: same header, same rows, same cells.
                    let t = try Self.decodeTable(json)
                    let lines = csvText.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
                    let names = t.columns.map { $0["name"]! }
                    #expect(lines.first?.split(separator: ",").dropFirst().map(String.init) == names, "\(path)")
                    let rows = t.rows + (t.total.map { [$0] } ?? [])
                    #expect(lines.count == rows.count + 1, "\(path)")
                    for (line, row) in zip(lines.dropFirst(), rows) {
                        let fields = Self.csvFields(line)
                        #expect(fields.first == row.key, "\(path)")
                        let expected = names.map { n -> String in
                            switch row.values[n] {
                            case .number(let x)?: x
                            case .string(let s)?: s
                            default: ""
                            }
                        }
                        #expect(Array(fields.dropFirst()) == expected, "\(path) \(row.key)")
                    }
                }
                #expect(
                    try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE action = 'stats.read'") == Self.routes.count * 2
                )
            }
        }
    }

    @Test func banksConnectedIsAShareOfTheCitysLicensedBranchesOnceTheirRosterIsImported() async throws {
        try await TestDatabase.with { db in
            let w = try await StatWorld.make(db)
            // The test bank connected: a live key (it has one) and a published product.
            try await db.owner.execute(
                """
                INSERT INTO product (bank_org_id, name, kind, amount_min_fen, amount_max_fen, term_min_months, term_max_months,
                                     rate_min_bp, rate_max_bp, rules, status)
                VALUES ('\(w.keys.orgIds[.bank]!)', '经营贷', 'credit', 100, 100000000, 1, 36, 300, 600, '[]', 'published')
                """
            )
            try await Stats.refresh(db.app)
            let regulator = w.keys.byKind[.regulator]!
            func total() async throws -> (share: String?, notes: [String]) {
                try await buildApplication(try testConfig(db)).test(.router) { client in
                    let t = try Self.decodeTable(
                        try await client.execute(uri: "/v1/regulator/banks", method: .get, headers: bearer(regulator))
                    )
                    return (t.total?.values["connected"]?.numberText, t.notes)
                }
            }
            // Without a roster: the share of the banks registered here, and it says so.
            let before = try await total()
            #expect(before.share == "1.0000" && before.notes.contains { $0.contains("no roster of the city's bank branches") })
            // With the city's roster: two branches of the test bank, three of banks not connected here.
            let csv = """
                licence_no,branch_name,bank_name,district_code
                B0001,测试银行崇川支行,Test bank,320602
                B0002,测试银行海门支行,Test bank,320614
                B0003,甲银行南通分行,甲银行,320602
                B0004,甲银行通州支行,甲银行,320612
                B0005,乙银行启东支行,乙银行,320681
                """
            guard case .success(let branches) = BankRoster.parse(csv) else {
                Issue.record("the roster did not parse")
                return
            }
            let imported = try await BankRosterStore.replace(db.app, branches)
            #expect(imported.branches == 5 && imported.registered == ["Test bank"] && imported.unregistered == ["乙银行", "甲银行"])
            try await Stats.refresh(db.app)
            let after = try await total()
            #expect(after.share == "0.4000", "\(after)")
            #expect(after.notes.contains { $0.hasPrefix(Stats.rosterNotePrefix + " 5 licensed bank branches") })
            // The dashboard says what the share is of.
            let label = DashboardRoutes.connectedLabel(
                StatTable(name: "banks", by: "bank", columns: [], rows: [], total: nil, notes: after.notes),
                Lang(english: false)
            )
            #expect(label.contains("全市 5 个持牌银行网点"))
        }
    }

    @Test func aRosterFileIsRefusedLineByLine() {
        guard case .failure(let p) = BankRoster.parse("licence_no,branch_name,bank_name,district_code\nB1,甲,乙,3206\nB1,丙,丁,320602\n,x,y\n")
        else {
            Issue.record("a bad roster was accepted")
            return
        }
        #expect(p.lines.contains("line 2: district_code must be 6 digits (GB/T 2260)"))
        #expect(p.lines.contains("line 3: licence_no B1 appears twice"))
        #expect(p.lines.contains { $0.hasPrefix("line 4: 4 fields") })
        guard case .failure(let header) = BankRoster.parse("licence,name\nB1,x\n") else {
            Issue.record("a roster without its header was accepted")
            return
        }
        #expect(header.lines == ["line 1: the header must be licence_no,branch_name,bank_name,district_code"])
    }

    @Test func aDatasetIsGreenOnlyWhenItsPullsCompletenessAndTimelinessAllAre() {
        func level(_ completeness: Double?, _ timeliness: Double?, status: String = "caught_up") -> String {
            Stats.qualityLevel(
                status: status,
                hoursSinceSuccess: 1,
                quarantined: 0,
                received: 100,
                completeness: completeness,
                timeliness: timeliness
            )
        }
        // A dataset complete but never on time is not green (it was, before).
        #expect(level(1, 0) == "red" && level(1, 0.9) == "amber" && level(0.9, 1) == "amber" && level(0.5, 1) == "red")
        #expect(level(1, 1) == "green" && level(nil, nil) == "green" && level(1, 1, status: "failing") == "red")
    }

    @Test func stabilityIsThePSIOfTodaysScoresAgainstTheBaseline() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let card = TestCards.card()
            _ = try await Scorecards.publish(db.app, card: try TestCards.decode(card), file: Data(card.utf8), activate: true)
            // A hundred businesses: fifty scored 720 (band 7), fifty 540 (band 5).
            try await db.owner.execute(
                """
                INSERT INTO profile (uscc, scorecard_version, score, grade, thin_file, knockouts, reasons, features, points, data_months,
                                     records, as_of_day, data_as_of)
                SELECT '913206' || lpad(i::text, 3, '0') || 'STABTEST1', 'test-1', CASE WHEN i < 50 THEN 720 ELSE 540 END,
                       CASE WHEN i < 50 THEN 'B' ELSE 'C' END, false, '{}', '[]', '{}', '{}', 24, 10, current_date, now()
                FROM generate_series(0, 99) AS i
                """
            )
            try await Stats.refresh(db.app)  // the baseline of a card without a development sample: its first distribution
            try await db.owner.execute("UPDATE profile SET score = 540, grade = 'C' WHERE uscc < '913206030'")  // 30 of the 720s
            try await Stats.refresh(db.app)
            // By hand: shares (0.5, 0.5) then (0.8, 0.2): (0.8 − 0.5)·ln(0.8/0.5) + (0.2 − 0.5)·ln(0.2/0.5).
            let expected = 0.3 * log(1.6) + (-0.3) * log(0.4)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                let t = try Self.decodeTable(
                    try await client.execute(uri: "/v1/regulator/stability", method: .get, headers: bearer(keys.byKind[.regulator]!))
                )
                let score = try #require(t.rows.first { $0.key == "score" })
                #expect(score.values["psi"]?.numberText == String(format: "%.2f", (expected * 100).rounded() / 100))  // to two decimals
                #expect(score.values["level"]?.stringValue == "red")  // 0.42 ≥ 0.25
                #expect(score.int("enterprises") == 100)
                #expect(t.notes.contains { $0.hasPrefix("baseline: the distribution when the version went live") })
                let grades = try Self.decodeTable(
                    try await client.execute(uri: "/v1/regulator/grades", method: .get, headers: bearer(keys.byKind[.regulator]!))
                )
                let month = try #require(grades.rows.first)
                #expect(month.int("B") == 20 && month.int("C") == 80 && month.int("enterprises") == 100)
            }
            // A card that carries its development sample is measured against it, not against its
            // first day: 20 % in band 5 and 80 % in band 7 when it was developed.
            let bands = (0..<10).map { $0 == 5 ? 20 : $0 == 7 ? 80 : 0 }
            let plain = TestCards.card(version: "test-2").trimmingCharacters(in: .whitespacesAndNewlines)
            let developed: String =
                String(plain.dropLast())
                + #", "development": {"enterprises": 100, "defaults": 40, "score_bands": \#(bands), "#
                + #""features": {"tax_on_time_rate_12m": [0, 0, 0, 100], "social_insurance_arrears_12m": [0, 0, 0, 100], "#
                + #""tax_credit_grade": [0, 0, 0, 100], "serious_penalties_36m": [0, 0, 100]}}}"#
            _ = try await Scorecards.publish(db.app, card: try TestCards.decode(developed), file: Data(developed.utf8), activate: true)
            try await db.owner.execute("UPDATE profile SET scorecard_version = 'test-2'")
            try await Stats.refresh(db.app)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                let t = try Self.decodeTable(
                    try await client.execute(uri: "/v1/regulator/stability", method: .get, headers: bearer(keys.byKind[.regulator]!))
                )
                // (0.8 − 0.2)·ln(0.8/0.2) + (0.2 − 0.8)·ln(0.2/0.8)
                let againstDevelopment = 0.6 * log(4.0) + (-0.6) * log(0.25)
                let score = try #require(t.rows.first { $0.key == "score" })
                #expect(score.values["psi"]?.numberText == String(format: "%.2f", (againstDevelopment * 100).rounded() / 100))
                #expect(t.notes.contains { $0.hasPrefix("baseline: the card's development sample (100 businesses)") })
                // Today's features all fall in the missing bins, as the sample's did: no shift.
                #expect(t.rows.first { $0.key == "tax_on_time_rate_12m" }?.values["psi"]?.numberText == "0.00")
            }
            // Fewer than 100 scored businesses: no PSI (sample too small).
            try await db.owner.execute("DELETE FROM profile WHERE uscc >= '913206090'")
            try await Stats.refresh(db.app)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                let t = try Self.decodeTable(
                    try await client.execute(uri: "/v1/regulator/stability", method: .get, headers: bearer(keys.byKind[.regulator]!))
                )
                #expect(t.rows.first { $0.key == "score" }?.values["psi"] == .null)
            }
        }
    }

    @Test func aTableIsKeptUntilTheNextRebuildAndNoLonger() async throws {
        try await TestDatabase.with { db in
            let w = try await StatWorld.make(db)
            try await Stats.refresh(db.app)
            let before: Date = try await db.owner.scalar("SELECT max(refreshed_at) FROM stat_refresh")
            try await buildApplication(try testConfig(db)).test(.router) { client in
                // The server rebuilds the tables once as it starts (then every 300 s): let it, first.
                try await eventually("the server's first rebuild") {
                    try await db.owner.scalar("SELECT min(refreshed_at) FROM stat_refresh", as: Date.self) > before
                }
                func posted() async throws -> Int64? {
                    try Self.decodeTable(
                        try await client.execute(uri: "/v1/regulator/funnel", method: .get, headers: bearer(w.keys.byKind[.regulator]!))
                    )
                    .total?.int("posted")
                }
                #expect(try await posted() == 15)  // 17, rounded
                // A demand more (18 → 20): not in the figures until the tables are rebuilt, then at once.
                try await db.owner.execute(
                    """
                    INSERT INTO demand (uscc, enterprise_org_id, amount_fen, term_months, purpose, collateral_offered, first_loan, expires_at, take_up_due_on)
                    VALUES ('\(StatWorld.uscc(60))', '\(w.keys.orgIds[.enterprise]!)', 100, 12, 'x', false, false, now() + interval '30 days', current_date)
                    """
                )
                #expect(try await posted() == 15)
                try await Stats.refresh(db.app)
                #expect(try await posted() == 20)
            }
        }
    }

    @Test func separationIsGivenOverEnoughLoansAndMatchesTheBruteForce() async throws {
        try await TestDatabase.with { db in
            // 27 more bad loans and 25 more good ones in 320614: thirty of each, the least over
            // which separation is given (`ModelHealth.minimumBadLoans`).
            let extra = (0..<52).map { i in
                StatWorld.Loan(
                    uscc: StatWorld.uscc(100 + i),
                    district: "320614",
                    state: "disbursed",
                    amount: 100_000_000,
                    disbursed: 90_000_000,
                    score: 520 + (i * 37) % 400,
                    bad: i < 27
                )
            }
            let w = try await StatWorld.make(db, extra: extra)
            try await Stats.refresh(db.app, today: Day(year: 2026, month: 11, day: 2)!)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                let sep = try Self.decodeTable(
                    try await client.execute(uri: "/v1/regulator/separation", method: .get, headers: bearer(w.keys.byKind[.regulator]!))
                )
                let loans = w.loans.compactMap { l in l.bad.map { (score: l.score!, bad: $0) } }
                #expect(loans.filter(\.bad).count == 30 && loans.filter { !$0.bad }.count == 30)
                var wins = 0.0
                for g in loans where !g.bad {
                    for b in loans where b.bad { wins += g.score > b.score ? 1 : g.score == b.score ? 0.5 : 0 }
                }
                let auc = wins / 900
                let row = try #require(sep.rows.first)
                #expect(row.key == "test-1" && row.int("loans") == 60 && row.int("bad") == 30)
                #expect(row.values["auc"]?.numberText == String(format: "%.2f", (auc * 100).rounded() / 100))
                #expect(row.values["gini"]?.numberText == String(format: "%.2f", ((2 * auc - 1) * 100).rounded() / 100))
            }
        }
    }

    /// The probe's differencing attack (issue 15, finding 9): a cell hidden for counting fewer
    /// than 5 businesses came back by subtracting two shown figures — two date ranges, or a total
    /// and the other rows fetched one filter at a time. Every count is published as a multiple
    /// of 5 and every amount as a multiple of ¥1,000,000, so no difference reads the cell.
    @Test func aHiddenCellCannotBeRebuiltByDifferencingShownFigures() async throws {
        try await TestDatabase.with { db in
            // One more business in 320614, alone in September: ¥350,000.
            let lone = StatWorld.Loan(
                uscc: StatWorld.uscc(50),
                district: "320614",
                state: "open",
                amount: 35_000_000,
                disbursed: 0,
                score: 700,
                bad: nil,
                posted: "2026-09-14"
            )
            let w = try await StatWorld.make(db, extra: [lone])
            try await Stats.refresh(db.app, today: Day(year: 2026, month: 11, day: 2)!)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                func table(_ path: String) async throws -> Table {
                    let r = try await client.execute(uri: path, method: .get, headers: bearer(w.keys.byKind[.regulator]!))
                    #expect(r.status == .ok, "\(path): \(String(buffer: r.body))")
                    return try Self.decodeTable(r)
                }
                // Asked directly, September in 320614 is hidden.
                let months = try await table("/v1/regulator/funnel?by=month&district=320614")
                #expect(months.rows.first { $0.key == "2026-09" }?.suppressed == true)
                // Two date ranges: September–October less October.
                let both = try #require(try await table("/v1/regulator/funnel?district=320614&from=2026-09&to=2026-10").total)
                let october = try #require(try await table("/v1/regulator/funnel?district=320614&from=2026-10&to=2026-10").total)
                for (column, truth) in [("posted", 1), ("posted_fen", 35_000_000), ("enterprises", 1)] as [(String, Int64)] {
                    let a = try #require(both.int(column))
                    let b = try #require(october.int(column))
                    #expect(a - b != truth, "\(column): \(a) − \(b) gives the hidden September back")
                }
                // The whole city less the districts that are shown, each fetched on its own filter:
                // 320612 (three businesses, ¥1,500,000) is hidden in the breakdown.
                let city = try #require(try await table("/v1/regulator/funnel").total)
                let d14 = try #require(try await table("/v1/regulator/funnel?district=320614").total)
                let d02 = try #require(try await table("/v1/regulator/funnel?district=320602").total)
                #expect(d02.suppressed == false)  // six businesses: shown on its own filter
                for (column, truth) in [("posted", 3), ("posted_fen", 150_000_000), ("enterprises", 3)] as [(String, Int64)] {
                    let rebuilt = try #require(city.int(column)) - (try #require(d14.int(column))) - (try #require(d02.int(column)))
                    #expect(rebuilt != truth, "\(column): the total less the shown districts gives 320612 back (\(rebuilt))")
                }
                // Each read is audited with what it asked for.
                let audited: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'stats.read' AND detail->>'filters' = 'from=2026-09 to=2026-10 district=320614'"
                )
                #expect(audited == 1)
                // And the rule behind it, on every table regulators may filter, with filters that cut
                // the figures small: every count a multiple of 5, every amount of ¥1,000,000.
                let filters = [
                    "", "?district=320614", "?district=320602&from=2026-09", "?from=2026-10&to=2026-10", "?size=small&by=district",
                ]
                for route in ["funnel", "timing", "declines", "banks", "applicant-grades", "separation", "segments"] {
                    for f in filters where !(route != "funnel" && f.contains("by=")) {
                        let t = try await table("/v1/regulator/\(route)\(f)")
                        for row in t.rows + (t.total.map { [$0] } ?? []) {
                            for column in t.columns {
                                guard let n = row.int(column["name"]!) else { continue }
                                switch column["unit"] {
                                case "count": #expect(n % Rounding.countBase == 0, "\(route)\(f) \(row.key) \(column["name"]!) = \(n)")
                                case "fen": #expect(n % Rounding.fenBase == 0, "\(route)\(f) \(row.key) \(column["name"]!) = \(n)")
                                default: break
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Splits one CSV line (RFC 4180 quoting).
    static func csvFields(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var chars = Array(line)[...]
        while let ch = chars.popFirst() {
            if quoted {
                if ch == "\"" {
                    if chars.first == "\"" {
                        current.append("\"")
                        chars.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(ch)
                }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        fields.append(current)
        return fields
    }
}

/// The regulators' view of repairs under the two publicity rule sets, counted by hand.
@Suite struct RepairStatsTests {
    @Test func penaltiesAndRepairsAreCountedUnderTheRulesOfTheirDecisionDay() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let today = Day(year: 2026, month: 12, day: 1)!
            var rows: [StageRow] = []
            var n = 0
            func penalty(_ decided: String, _ severity: String, endsOn: String? = nil) -> String {
                n += 1
                let id = "P-RS-\(n)"
                let ends = endsOn.map { ",\"publicity_ends_on\":\"\($0)\"" } ?? ""
                rows.append(
                    DisclosureTests.row(
                        id,
                        StatWorld.uscc(n),
                        #"{"decision_no":"通罚\#(id)","authority":"南通市生态环境局","decided_on":"\#(decided)","violation":"超标排放污染物","severity":"\#(severity)","fine_amount_fen":100000\#(ends)}"#
                    )
                )
                return id
            }
            // Before 2026-04-01 (the 2023 trial measures, whatever the severity): five repaired, five
            // published, five whose provider's date has passed, one decided the day before the change.
            var repaired: [String] = []
            for _ in 0..<5 { repaired.append(penalty("2025-06-01", "general")) }
            for _ in 0..<5 { _ = penalty("2025-06-01", "serious") }
            for _ in 0..<5 { _ = penalty("2024-01-15", "general", endsOn: "2025-01-15") }
            _ = penalty("2026-03-31", "minor")
            _ = penalty("2023-11-01", "general")  // more than three years ago: not counted
            // From 2026-04-01: minor not published (the day of the change included); general
            // repairable after three months, one application rejected; serious not yet repairable,
            // but one repaired all the same (as an operator might): a cell of one business.
            for d in ["2026-04-01", "2026-10-01", "2026-10-01", "2026-10-01", "2026-10-01"] { _ = penalty(d, "minor") }
            let refused = penalty("2026-05-01", "general")
            for _ in 0..<4 { _ = penalty("2026-05-01", "general") }
            for _ in 0..<5 { _ = penalty("2026-06-01", "serious") }
            repaired.append(penalty("2026-06-01", "serious"))
            try await DisclosureTests.store(db, .administrativePenalty, rows)
            let org = keys.orgIds[.enterprise]!
            for (record, state, repairedOn) in repaired.map({ ($0, "approved", "'2026-11-10'") }) + [(refused, "rejected", "NULL")] {
                try await db.owner.execute(
                    """
                    INSERT INTO repair_application (uscc, enterprise_org_id, record_id, corrections, evidence, state, due_on, repaired_on)
                    SELECT uscc, '\(org)', record_id, ARRAY['fine_paid'], 'receipt', '\(state)', '2026-01-10', \(repairedOn)
                    FROM record_version WHERE record_id = '\(record)'
                    """
                )
            }
            let t = try await db.app.withConnection { c in try await Stats.repairs(c, logger: db.app.logger, today: today) }
            #expect(
                t.columns.map(\.name) == [
                    "penalties", "not_published", "published", "repairable", "repair_applied", "repair_approved", "repair_rejected",
                    "publication_ended",
                ]
            )
            let got = Dictionary(uniqueKeysWithValues: t.rows.map { ($0.key, $0.values) })
            func ints(_ v: [Int64?]) -> [StatTable.Value] { v.map { $0.map { .int($0) } ?? .suppressed } }
            #expect(got["trial-2023"] == ints([16, 0, 6, 6, 5, 5, 0, 5]), "\(String(describing: got["trial-2023"]))")
            #expect(got["measures-2026/minor"] == ints([5, 5, 0, 0, 0, 0, 0, 0]))
            // One application, one business: hidden.
            #expect(got["measures-2026/general"] == ints([5, 0, 5, 5, nil, 0, nil, 0]))
            // One repaired business hidden, and the published count with it (else it comes back by subtraction).
            #expect(
                got["measures-2026/serious"] == ints([6, 0, nil, 0, nil, nil, 0, 0]),
                "\(String(describing: got["measures-2026/serious"]))"
            )
        }
    }
}
