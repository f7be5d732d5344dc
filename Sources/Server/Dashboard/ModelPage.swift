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
        for (dimension, _) in DashboardRoutes.segmentBreakdowns {
            segments[dimension] = try await Stats.segments(c, logger: l, by: dimension, filter: f)
        }
        return Model(filter: f, grades: grades, applicants: applicants, stability: stability, separation: separation, segments: segments)
    }

    static func render(_ m: Model) -> String {
        var html = "<h1>模型健康 Model health</h1>"
        let grades = m.grades
        if !grades.rows.isEmpty {
            let colors = ["#2e7d32", "#1f5fa8", "#d9822b", "#c62828", "#8a96a3"]
            let series = Stats.grades.enumerated().map { (i, g) in
                let values = grades.rows.map { DashboardRoutes.int(grades, $0, g) ?? 0 }
                return Charts.Series(name: g, color: colors[i], values: values, exact: values.map(Html.grouped))
            }
            html +=
                "<h2>信用等级分布 Grades over time</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: "各月企业信用等级分布",
                        description: "Enterprises by grade, one snapshot per month.",
                        yAxis: "企业数 enterprises",
                        categories: grades.rows.map(\.key),
                        series: series,
                        tick: Html.countShort
                    ),
                    caption: "每月一个快照（按评分卡版本）。"
                )
        }
        let applicants = m.applicants
        let shownApplicants = applicants.rows.filter { !$0.suppressed }
        if !shownApplicants.isEmpty {
            let colors = ["#2e7d32", "#1f5fa8", "#d9822b", "#c62828", "#8a96a3"]
            let series = Stats.grades.enumerated().map { (i, g) in
                // A hidden cell draws no bar, and says so on hover (never "0").
                let cells = shownApplicants.map { DashboardRoutes.int(applicants, $0, g) }
                return Charts.Series(
                    name: g,
                    color: colors[i],
                    values: cells.map { $0 ?? 0 },
                    exact: cells.map { $0.map(Html.grouped) ?? "已抑制（少于 \(Suppression.threshold) 家）suppressed" }
                )
            }
            html +=
                "<h2>申请企业的信用等级 Grades of businesses seeking credit</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: "各月发布融资需求企业的信用等级",
                        description: "Businesses posting demands each month, by their grade at posting.",
                        yAxis: "企业数 enterprises",
                        categories: shownApplicants.map(\.key),
                        series: series,
                        tick: Html.countShort
                    ),
                    caption: "按发布月份与发布时等级\(DashboardRoutes.hiddenNote(applicants.rows.count - shownApplicants.count))。"
                )
            html += DashboardRoutes.table(applicants, caption: "申请企业等级 Grades at posting", keyHeading: "月份 month")
        }
        let stability = m.stability
        let (psiBars, _) = DashboardRoutes.bars(stability, column: "psi", unit: .text)
        if !psiBars.isEmpty {
            let levels = stability.rows.filter { !$0.suppressed }.map { r -> String in
                if case .text(let l) = DashboardRoutes.value(stability, r, "level") {
                    return l == "red" ? "#c62828" : l == "amber" ? "#b26a00" : "#2e7d32"
                }
                return "#8a96a3"
            }
            html +=
                "<h2>群体稳定性 Population stability (PSI)</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "评分与各特征的 PSI",
                        description:
                            "PSI of the score and each feature against the version's baseline; lines at \(ModelHealth.psiWatch) and \(ModelHealth.psiAlert).",
                        axis: "PSI × 10000",
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
                    caption: "PSI ≥ 0.10 关注 (amber)，≥ 0.25 需处置 (red)。"
                )
        }
        html += DashboardRoutes.table(stability, caption: "稳定性 Stability", keyHeading: "特征 characteristic")
        let separation = m.separation
        html +=
            "<h2>区分能力 Separation on loan outcomes</h2>"
            + DashboardRoutes.table(separation, caption: "KS, AUC, Gini 按评分卡版本", keyHeading: "版本 version")
        for (dimension, title) in DashboardRoutes.segmentBreakdowns {
            let t = m.segments[dimension]!
            html +=
                "<h2>分群：\(Html.escape(title))</h2>"
                + DashboardRoutes.table(t, caption: "评分 PSI 与违约率 by \(dimension.rawValue)", keyHeading: title)
        }
        return html
    }
}
