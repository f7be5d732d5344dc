import CreditCore
import Foundation
import PostgresNIO
import Store

/// Whether credit reaches small firms and farmers (`/dashboard/inclusion`): the funnel by size, farmer, entity type, first loan, product kind, industry and grade; timing; declines.
/// Loaded through Store (`load`), rendered by a pure function of the model (`render`).
enum InclusionPage {
    struct Model {
        let filter: StatFilter
        /// By breakdown (`DashboardRoutes.inclusionBreakdowns`).
        let funnels: [StatDimension: StatTable]
        let timing: StatTable
        /// The price of credit by month and by each inclusion breakdown; referrals and first loans by month.
        var rates: [StatDimension: StatTable] = [:]
        var referrals: StatTable? = nil
        var firstLoans: StatTable? = nil
        let declines: StatTable
    }

    static func load(_ c: PostgresConnection, _ call: Call, _ f: StatFilter) async throws -> Model {
        let l = call.logger
        var funnels: [StatDimension: StatTable] = [:]
        for (dimension, _, _) in DashboardRoutes.inclusionBreakdowns {
            funnels[dimension] = try await Stats.funnel(c, logger: l, by: dimension, filter: f)
        }
        let timing = try await Stats.timing(c, logger: l, by: .month, filter: f)
        let declines = try await Stats.declines(c, logger: l, filter: f)
        var m = Model(filter: f, funnels: funnels, timing: timing, declines: declines)
        for (dimension, _, _) in rateBreakdowns { m.rates[dimension] = try await Stats.rates(c, logger: l, by: dimension, filter: f) }
        m.referrals = try await Stats.referrals(c, logger: l, by: .month, filter: f)
        m.firstLoans = try await Stats.firstLoans(c, logger: l, by: .month, filter: f)
        return m
    }

    static func render(_ m: Model, lang: Lang) -> String {
        let f = m.filter
        var html = "<h1>\(lang.t("普惠金融", "Inclusion"))</h1>" + DashboardRoutes.filterForm("/dashboard/inclusion", f, lang)
        for (dimension, zh, en) in DashboardRoutes.inclusionBreakdowns {
            let title = lang.t(zh, en)
            let t = m.funnels[dimension]!
            let (bars, hidden) = DashboardRoutes.bars(t, column: "solve_rate", unit: .ratio, lang: lang)
            html += "<h2>\(Html.escape(title))</h2>"
            if !bars.isEmpty {
                html += Charts.figure(
                    Charts.horizontalBars(
                        title: lang.t("解决率：按\(zh)", "Solve rate by \(en)"),
                        description: lang.t("放款金额除以需求金额，按\(zh)。", "Amount disbursed over amount asked, by \(en)."),
                        axis: lang.t("解决率", "solve rate"),
                        bars: bars,
                        color: "#2e7d32"
                    ),
                    caption: lang.t("放款金额 ÷ 需求金额", "Disbursed ÷ asked") + DashboardRoutes.hiddenNote(hidden, lang) + lang.t("。", ".")
                )
            }
            html += DashboardRoutes.table(
                t,
                caption: lang.t("融资漏斗：按\(zh)", "The funnel by \(en)"),
                keyHeading: title,
                lang: lang
            )
        }
        let timing = m.timing
        html +=
            "<h2>\(lang.t("办理时效", "Time to take-up and decision"))</h2>"
            + DashboardRoutes.table(
                timing,
                caption: lang.t(
                    "单位：小时；时限：受理 \(Demands.takeUpWorkingDays) 个工作日，审批 \(Demands.decisionWorkingDays) 个工作日；受理超时：匹配后逾期既未受理也未放弃的需求（含始终未受理的），审批超时：受理后逾期未决定的；中位数与百分位至少 \(Rounding.minimumValues) 笔才给出",
                    "Hours; deadlines: \(Demands.takeUpWorkingDays) working days to take up, \(Demands.decisionWorkingDays) to decide; take-up overdue: matched demands neither taken up nor passed in time (including those never taken up); decision overdue: taken up and not decided in time; medians and percentiles only over at least \(Rounding.minimumValues) demands"
                ),
                keyHeading: lang.t("月份", "month"),
                lang: lang
            )
        let declines = m.declines
        let (bars, hidden) = DashboardRoutes.bars(declines, column: "declined", unit: .count, lang: lang)
        html += "<h2>\(lang.t("拒绝原因", "Decline reasons"))</h2>"
        if !bars.isEmpty {
            html += Charts.figure(
                Charts.horizontalBars(
                    title: lang.t("拒绝原因", "Decline reasons"),
                    description: lang.t("被拒绝的需求，按原因。", "Declined demands by reason."),
                    axis: lang.t("笔数", "demands"),
                    bars: bars,
                    color: "#c62828"
                ),
                caption: lang.t("按拒绝原因", "By reason") + DashboardRoutes.hiddenNote(hidden, lang) + lang.t("。", ".")
            )
        }
        html += DashboardRoutes.table(declines, caption: lang.t("拒绝原因", "Decline reasons"), keyHeading: lang.t("原因", "reason"), lang: lang)
        html += pricing(m, lang: lang)
        return html
    }

    /// How credit is priced (降本) and how far it reaches past a decline or to a first borrower.
    static let rateBreakdowns: [(StatDimension, zh: String, en: String)] = [
        (.month, "月份", "month"), (.grade, "发布时的信用等级", "grade at posting"), (.productKind, "信用、抵押与保证", "unsecured, secured, guaranteed"),
        (.size, "企业规模", "size"), (.farmer, "农户", "farmers"), (.firstLoan, "首贷与续贷", "first loan or repeat"),
    ]

    static func pricing(_ m: Model, lang: Lang) -> String {
        var html = "<h2>\(lang.t("融资成本", "The price of credit"))</h2>"
        let rateNote = lang.t(
            "年利率为接受的报价利率；平均数与中位数至少 \(Rounding.minimumValues) 笔才给出；信用贷款占比：放款中信用（无抵押）贷款的比例",
            "Yearly rates of the offers accepted; means and medians only over at least \(Rounding.minimumValues) loans; credit loan share: unsecured loans among those disbursed"
        )
        for (dimension, zh, en) in rateBreakdowns {
            guard let t = m.rates[dimension] else { continue }
            if dimension == .grade {
                let (bars, hidden) = DashboardRoutes.bars(t, column: "granted_rate_median", unit: .rate, lang: lang)
                if !bars.isEmpty {
                    html += Charts.figure(
                        Charts.horizontalBars(
                            title: lang.t("授信年利率中位数：按\(zh)", "Median rate granted by \(en)"),
                            description: lang.t("接受的报价的年利率中位数，按\(zh)。", "The median yearly rate of the offers accepted, by \(en)."),
                            axis: lang.t("年利率", "yearly rate"),
                            bars: bars,
                            color: "#1565c0"
                        ),
                        caption: lang.t("按\(zh)", "By \(en)") + DashboardRoutes.hiddenNote(hidden, lang) + lang.t("。", ".")
                    )
                }
            }
            html += DashboardRoutes.table(
                t,
                caption: lang.t("贷款利率：按\(zh)；", "Rates by \(en); ") + rateNote,
                keyHeading: lang.t(zh, en),
                lang: lang
            )
        }
        if let r = m.referrals {
            html +=
                "<h2>\(lang.t("被拒后转介", "Referral after a decline"))</h2>"
                + DashboardRoutes.table(
                    r,
                    caption: lang.t(
                        "被某家银行拒绝后，由其他匹配银行受理并授信的需求；两次及以上被拒的需求",
                        "Demands a bank declined that another matching bank then served; demands declined twice or more"
                    ),
                    keyHeading: lang.t("月份", "month"),
                    lang: lang
                )
        }
        if let f = m.firstLoans {
            html +=
                "<h2>\(lang.t("首贷：自报与核实", "First loans: claimed and verified"))</h2>"
                + DashboardRoutes.table(
                    f,
                    caption: lang.t(
                        "自报：企业发布需求时勾选首贷；核实：放贷银行报价时依其征信查询确认，且此前未经本平台获得放款",
                        "Claimed: the business ticked first loan; verified: the lending bank confirmed it from its credit check when offering, and no loan had been disbursed to the business through this service before"
                    ),
                    keyHeading: lang.t("月份", "month"),
                    lang: lang
                )
        }
        return html
    }
}
