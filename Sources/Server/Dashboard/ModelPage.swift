import CreditCore
import Foundation
import PostgresNIO
import Store

/// Model health (`/dashboard/model`): grades over time, applicants' grades, stability, separation, segments.
/// Loaded through Store (`load`), rendered by a pure function of the model (`render`).
enum ModelPage {
    struct Model {
        let filter: StatFilter
        let grades: StatTable
        let applicants: StatTable
        let stability: StatTable
        let separation: StatTable
        /// By breakdown (`DashboardRoutes.segmentBreakdowns`).
        let segments: [StatDimension: StatTable]
    }

    static func load(_ c: PostgresConnection, _ call: Call, _ f: StatFilter) async throws -> Model {
        let l = call.logger
        let grades = try await Stats.gradesByMonth(c, logger: l)
        let applicants = try await Stats.applicantGrades(c, logger: l, filter: f)
        let stability = try await Stats.stability(c, logger: l)
        let separation = try await Stats.separation(c, logger: l, filter: f)
        var segments: [StatDimension: StatTable] = [:]
        for (dimension, _, _) in DashboardRoutes.segmentBreakdowns {
            segments[dimension] = try await Stats.segments(c, logger: l, by: dimension, filter: f)
        }
        return Model(filter: f, grades: grades, applicants: applicants, stability: stability, separation: separation, segments: segments)
    }

    /// One column series per grade over a table's rows; a hidden cell draws no bar and says so
    /// on hover (never "0").
    static func gradeSeries(_ t: StatTable, _ rows: [StatTable.Row], _ lang: Lang) -> [Charts.Series] {
        let colors = ["#2e7d32", "#1f5fa8", "#d9822b", "#c62828", "#8a96a3"]
        return Stats.grades.enumerated().map { (i, g) in
            let cells = rows.map { DashboardRoutes.int(t, $0, g) }
            return Charts.Series(
                name: g == "none" ? lang.t("无等级", "no grade") : g,
                color: colors[i],
                values: cells.map { $0 ?? 0 },
                exact: cells.map {
                    $0.map(Html.grouped) ?? lang.t("已抑制（少于 \(Suppression.threshold) 家）", "hidden (fewer than \(Suppression.threshold))")
                }
            )
        }
    }

    static func render(_ m: Model, lang: Lang) -> String {
        var html = "<h1>\(lang.t("模型健康", "Model health"))</h1>"
        let grades = m.grades
        if !grades.rows.isEmpty {
            let series = gradeSeries(grades, grades.rows, lang)
            html +=
                "<h2>\(lang.t("信用等级分布", "Grades over time"))</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: lang.t("各月企业信用等级分布", "Businesses by grade, month by month"),
                        description: lang.t("每月一个快照：各等级企业数。", "Businesses by grade, one snapshot per month."),
                        yAxis: lang.t("企业数", "businesses"),
                        categories: grades.rows.map(\.key),
                        series: series,
                        tick: Html.countShort
                    ),
                    caption: lang.t(
                        "每月一个快照（按评分卡版本）；少于 \(Suppression.threshold) 家的等级不画出，见下表。",
                        "One snapshot a month (by scorecard version); a grade of fewer than \(Suppression.threshold) businesses is not drawn: see the table."
                    )
                )
                + DashboardRoutes.table(
                    grades,
                    caption: lang.t("各月信用等级分布", "Grades by month"),
                    keyHeading: lang.t("月份", "month"),
                    lang: lang
                )
        }
        let applicants = m.applicants
        let shownApplicants = applicants.rows.filter { !$0.suppressed }
        if !shownApplicants.isEmpty {
            let series = gradeSeries(applicants, shownApplicants, lang)
            html +=
                "<h2>\(lang.t("申请企业的信用等级", "Grades of businesses seeking credit"))</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: lang.t("各月发布融资需求企业的信用等级", "Businesses posting demands each month, by grade"),
                        description: lang.t("按发布月份与发布时等级。", "By month of posting and grade at posting."),
                        yAxis: lang.t("企业数", "businesses"),
                        categories: shownApplicants.map(\.key),
                        series: series,
                        tick: Html.countShort
                    ),
                    caption: lang.t("按发布月份与发布时等级", "By month and grade at posting")
                        + DashboardRoutes.hiddenNote(applicants.rows.count - shownApplicants.count, lang) + lang.t("。", ".")
                )
            html += DashboardRoutes.table(
                applicants,
                caption: lang.t("申请企业等级", "Grades at posting"),
                keyHeading: lang.t("月份", "month"),
                lang: lang
            )
        }
        let stability = m.stability
        let (psiBars, _) = DashboardRoutes.bars(stability, column: "psi", unit: .text, lang: lang)
        let baseline =
            stability.notes.first { $0.hasPrefix("baseline: the card's development sample") } != nil
            ? lang.t("基准：评分卡开发样本", "baseline: the card's development sample")
            : lang.t(
                "基准：该版本启用时的分布（评分卡未附开发样本）",
                "baseline: the distribution when the version went live (the card carries no development sample)"
            )
        if !psiBars.isEmpty {
            let levels = stability.rows.filter { !$0.suppressed }.map { r -> String in
                if case .text(let l) = DashboardRoutes.value(stability, r, "level") {
                    return l == "red" ? "#c62828" : l == "amber" ? "#b26a00" : "#2e7d32"
                }
                return "#8a96a3"
            }
            html +=
                "<h2>\(lang.t("群体稳定性（PSI）", "Population stability (PSI)"))</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: lang.t("评分与各特征的 PSI", "PSI of the score and each feature"),
                        description: lang.t(
                            "与基准相比的 PSI；参考线 \(ModelHealth.psiWatch) 与 \(ModelHealth.psiAlert)。",
                            "PSI against the baseline; lines at \(ModelHealth.psiWatch) and \(ModelHealth.psiAlert)."
                        ),
                        axis: lang.t("PSI（虚线：0.10 需关注，0.25 需处置）", "PSI (dashed: 0.10 watch, 0.25 act)"),
                        bars: psiBars,
                        markers: [
                            .init(
                                value: Int64((ModelHealth.psiWatch * 10_000).rounded()),
                                label: String(format: "%.2f", ModelHealth.psiWatch),
                                color: "#b26a00"
                            ),
                            .init(
                                value: Int64((ModelHealth.psiAlert * 10_000).rounded()),
                                label: String(format: "%.2f", ModelHealth.psiAlert),
                                color: "#c62828"
                            ),
                        ],
                        colors: levels
                    ),
                    caption: lang.t("PSI ≥ 0.10 需关注，≥ 0.25 需处置；", "PSI ≥ 0.10: watch; ≥ 0.25: act; ") + baseline + lang.t("。", ".")
                )
        }
        html += DashboardRoutes.table(
            stability,
            caption: lang.t(
                "稳定性（\(baseline)；双方各至少 \(ModelHealth.minimumPSIBusinesses) 家已评分企业才给出 PSI）",
                "Stability (\(baseline); PSI only when each side covers at least \(ModelHealth.minimumPSIBusinesses) scored businesses)"
            ),
            keyHeading: lang.t("特征", "characteristic"),
            lang: lang
        )
        let separation = m.separation
        html +=
            "<h2>\(lang.t("区分能力", "Separation on loan outcomes"))</h2>"
            + DashboardRoutes.table(
                separation,
                caption: lang.t(
                    "按评分卡版本；不良与正常贷款各至少 \(ModelHealth.minimumBadLoans) 笔才给出 KS、AUC、Gini",
                    "By scorecard version; KS, AUC and Gini only over at least \(ModelHealth.minimumBadLoans) bad and \(ModelHealth.minimumGoodLoans) good loans"
                ),
                keyHeading: lang.t("版本", "version"),
                lang: lang
            )
        for (dimension, zh, en) in DashboardRoutes.segmentBreakdowns {
            let t = m.segments[dimension]!
            html +=
                "<h2>\(lang.t("分群：\(zh)", "Segments: \(en)"))</h2>"
                + DashboardRoutes.table(
                    t,
                    caption: lang.t("评分 PSI 与违约率：按\(zh)", "Score PSI and default rate by \(en)"),
                    keyHeading: lang.t(zh, en),
                    lang: lang
                )
        }
        return html
    }
}
