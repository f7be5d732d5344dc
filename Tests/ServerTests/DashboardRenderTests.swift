import Foundation
import Testing

@testable import CreditCore
@testable import Server
@testable import Store

/// The regulators' pages rendered from tables built by hand, without a database.
@Suite struct DashboardRenderTests {
    static let funnelColumns: [StatTable.Column] = [
        .init("posted", .count), .init("posted_fen", .fen), .init("taken_up", .count), .init("granted", .count),
        .init("granted_fen", .fen), .init("disbursed", .count), .init("disbursed_fen", .fen), .init("solve_rate", .ratio),
        .init("enterprises", .count),
    ]

    static func funnel(_ by: String, _ rows: [(String, Int64)], hidden: [String] = []) -> StatTable {
        func row(_ key: String, _ n: Int64) -> StatTable.Row {
            StatTable.Row(
                key: key,
                values: [
                    .int(n), .int(n * 100_000_000), .int(n), .int(n), .int(n * 100_000_000), .int(n), .int(n * 50_000_000),
                    .decimal("0.5000"), .int(n),
                ],
                enterprises: Int(n)
            )
        }
        var t = StatTable(
            name: "funnel",
            by: by,
            columns: funnelColumns,
            rows: rows.map { row($0.0, $0.1) }
                + hidden.map { StatTable.Row(key: $0, values: funnelColumns.map { _ in .suppressed }, enterprises: 2, suppressed: true) },
            total: row("total", rows.reduce(0) { $0 + $1.1 })
        )
        t.notes = [Rounding.note]
        return t
    }

    static func table(
        _ name: String,
        _ columns: [StatTable.Column],
        _ rows: [(String, [StatTable.Value])],
        total: [StatTable.Value]? = nil
    ) -> StatTable {
        StatTable(
            name: name,
            by: nil,
            columns: columns,
            rows: rows.map { StatTable.Row(key: $0.0, values: $0.1, enterprises: 100) },
            total: total.map { StatTable.Row(key: "total", values: $0, enterprises: 100) }
        )
    }

    static let timing = table(
        "timing",
        [
            .init("taken_up", .count), .init("take_up_hours_median", .hours), .init("take_up_hours_p90", .hours), .init("decided", .count),
            .init("decision_hours_median", .hours), .init("decision_hours_p90", .hours), .init("take_up_overdue", .count),
            .init("decision_overdue", .count),
        ],
        [("2026-10", [.int(20), .decimal("6.0"), .decimal("9.5"), .int(15), .decimal("24.0"), .decimal("30.0"), .int(0), .int(5)])],
        total: [.int(20), .decimal("6.0"), .decimal("9.5"), .int(15), .decimal("24.0"), .decimal("30.0"), .int(0), .int(5)]
    )
    static let banks = table(
        "banks",
        [
            .init("connected", .text), .init("matched", .count), .init("taken_up", .count), .init("passed", .count),
            .init("take_up_overdue", .count), .init("decided", .count), .init("declined", .count), .init("decline_rate", .ratio),
            .init("decision_overdue", .count), .init("decision_hours_median", .hours),
        ],
        [
            (
                "银行 <甲>",
                [.text("yes"), .int(40), .int(20), .int(5), .int(0), .int(15), .int(5), .decimal("0.3333"), .int(0), .decimal("20.0")]
            )
        ],
        total: [.decimal("1.0000")] + Array(repeating: .null, count: 9)
    )

    static let zh = Lang(english: false)
    static let en = Lang(english: true)

    @Test func theOverviewShowsItsFiguresHidesSmallCellsAndEscapesKeys() {
        let model = OverviewPage.Model(
            filter: StatFilter(),
            byMonth: Self.funnel("month", [("2026-09", 10), ("2026-10", 20)]),
            byDistrict: Self.funnel("district", [("<b>320699</b>", 30), ("320614", 25)], hidden: ["320612"]),
            timing: Self.timing,
            banks: Self.banks
        )
        let html = OverviewPage.render(model, lang: Self.zh)
        #expect(html.contains("总览") && html.contains("融资漏斗") && html.contains("<svg") && !html.contains("Overview"))
        #expect(html.contains("6.0 小时"))  // the median hours to take-up
        #expect(html.contains("&lt;b&gt;320699&lt;/b&gt;") && !html.contains("<b>320699</b>"))
        #expect(html.contains("海门区") && html.contains("已抑制"))  // a district by name; the hidden one named as hidden
        let english = OverviewPage.render(model, lang: Self.en)
        #expect(english.contains("Overview") && english.contains("Haimen District") && english.contains("6.0 h") && !english.contains("总览"))
    }

    @Test func chartsLabelEveryBarInFullOrShortenedAndTickAtRoundValues() {
        let long = String(repeating: "南通长江农村商业银行股份有限公司", count: 2)
        let svg = Charts.horizontalBars(
            title: "t",
            description: "d",
            axis: "a",
            bars: [.init(label: long, value: 5, display: "5", exact: "5"), .init(label: "短", value: 3, display: "3", exact: "3")]
        )
        // The label column is as wide as it may be, and the long name is shortened, whole on hover.
        #expect(svg.contains("…") && svg.contains("<title>\(long): 5</title>"))
        #expect(Charts.textWidth(Charts.fit(long, Charts.maxLabelWidth - 12)) <= Charts.maxLabelWidth - 12)
        #expect(
            [Charts.niceStep(max: 3), Charts.niceStep(max: 11), Charts.niceStep(max: 23), Charts.niceStep(max: 1_549_000_000)]
                == [1, 5, 5, 500_000_000]
        )
        let columns = Charts.columns(
            title: "t",
            description: "d",
            yAxis: "y",
            categories: ["2026-10", "2026-11"],
            series: [.init(name: "s", color: "#000", values: [15_500_000_000, 46_490_000_000], exact: ["", ""])],
            tick: Html.yuanTick
        )
        // Up to 4.649亿: ticks at 0, 1, 2 … 5 亿, not at quarters of the largest value (1.16亿, 2.32亿 …).
        #expect(columns.contains(">1.0亿<") && columns.contains(">5.0亿<") && !columns.contains("1.2亿") && !columns.contains("4,649万"))
    }

    @Test func everyPageRendersFromItsTablesAlone() {
        let tables: [String: StatTable] = [
            "timing.month": Self.timing, "banks": Self.banks,
            "declines": Self.table("declines", [.init("declined", .count)], [("high_existing_debt", [.int(10)])], total: [.int(10)]),
            "quality": Self.table(
                "quality",
                [.init("provider", .text), .init("level", .text)],
                [("tax_filing", [.text("tax"), .text("green")])]
            ),
            "governance": Self.table("governance", [.init("open", .count)], [("objections", [.int(5)])]),
            "repairs": Self.table("repairs", [.init("repairable", .count)], [("measures-2026/serious", [.int(5)])]),
            "commitments": Self.table("commitments", [.init("made", .count)], [("tax_on_time", [.int(5)])]),
            "grades": Self.table(
                "grades",
                Stats.grades.map { .init($0, .count) } + [.init("enterprises", .count)],
                [("2026-10 v", [.int(10), .int(20), .int(30), .int(5), .int(0), .int(65)])]
            ),
            "applicant_grades": Self.table(
                "applicant_grades",
                Stats.grades.map { .init($0, .count) } + [.init("enterprises", .count)],
                [("2026-10", [.suppressed, .int(10), .int(5), .int(0), .int(0), .int(15)])]
            ),
            "stability": Self.table(
                "stability",
                [.init("psi", .index), .init("level", .text)],
                [("score", [.decimal("0.05"), .text("green")])]
            ),
            "separation": Self.table(
                "separation",
                [.init("loans", .count), .init("auc", .index)],
                [("v1", [.int(100), .decimal("0.78")])]
            ),
        ]
        var funnels: [StatDimension: StatTable] = [:]
        for (d, _, _) in DashboardRoutes.inclusionBreakdowns { funnels[d] = Self.funnel(d.rawValue, [("a", 10)]) }
        var segments: [StatDimension: StatTable] = [:]
        for (d, _, _) in DashboardRoutes.segmentBreakdowns {
            segments[d] = Self.table("segments", [.init("enterprises", .count)], [("x", [.int(10)])])
        }
        let f = StatFilter()
        let inclusion = InclusionPage.Model(filter: f, funnels: funnels, timing: tables["timing.month"]!, declines: tables["declines"]!)
        #expect(InclusionPage.render(inclusion, lang: Self.zh).contains("普惠金融"))
        #expect(
            InclusionPage.render(inclusion, lang: Self.zh).contains("负债过高")
                || InclusionPage.render(inclusion, lang: Self.zh).contains("现有负债")
        )
        #expect(InclusionPage.render(inclusion, lang: Self.en).contains("Inclusion"))
        #expect(BanksPage.render(.init(filter: f, banks: tables["banks"]!), lang: Self.zh).contains("银行 &lt;甲&gt;"))
        let quality = QualityPage.Model(
            filter: f,
            quality: tables["quality"]!,
            governance: tables["governance"]!,
            repairs: tables["repairs"]!,
            commitments: tables["commitments"]!
        )
        let qzh = QualityPage.render(quality, lang: Self.zh)
        #expect(qzh.contains("数据质量") && qzh.contains("纳税申报") && qzh.contains("正常") && !qzh.contains("tax_filing"))
        #expect(QualityPage.render(quality, lang: Self.en).contains("Data quality"))
        let model = ModelPage.render(
            ModelPage.Model(
                filter: f,
                grades: tables["grades"]!,
                applicants: tables["applicant_grades"]!,
                stability: tables["stability"]!,
                separation: tables["separation"]!,
                segments: segments
            ),
            lang: Self.zh
        )
        #expect(model.contains("模型健康") && model.contains(">B</th>") && !model.contains(">其他</th>"))
        // A hidden grade cell says so on hover, never "0".
        #expect(model.contains("已抑制（少于 5 家）"))
    }

    @Test func aPageWhoseFiguresAreNotCurrentSaysSoAndFromWhen() {
        let good = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30 China time
        #expect(DashboardRoutes.staleBanner(.init(lastGood: good, failedAt: nil, failing: [], late: false), Self.zh).isEmpty)
        let failed = DashboardRoutes.staleBanner(
            .init(lastGood: good, failedAt: good.addingTimeInterval(600), failing: ["demands"], late: false),
            Self.zh
        )
        #expect(failed.contains("数据不是最新的") && failed.contains("最近一次统计更新失败") && failed.contains(PortalHtml.day(good)))
        let late = DashboardRoutes.staleBanner(.init(lastGood: good, failedAt: nil, failing: [], late: true), Self.zh)
        #expect(late.contains("\(Stats.latePeriods) 个更新周期") && late.contains(PortalHtml.day(good)))
        let never = DashboardRoutes.staleBanner(.init(lastGood: nil, failedAt: nil, failing: [], late: true), Self.zh)
        #expect(never.contains("从未成功"))
    }
}
