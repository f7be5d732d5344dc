import CreditCore
import Foundation
import PostgresNIO
import Store

/// Data quality, objections and repairs, commitments (`/dashboard/quality`).
/// Loaded through Store (`load`), rendered by a pure function of the model (`render`).
enum QualityPage {
    struct Model {
        let filter: StatFilter
        let quality: StatTable
        let governance: StatTable
        let commitments: StatTable
    }

    static func load(_ c: PostgresConnection, _ call: Call, _ f: StatFilter) async throws -> Model {
        let l = call.logger
        let quality = try await Stats.quality(c, logger: l)
        let governance = try await Stats.governance(c, logger: l)
        let commitments = try await Stats.commitments(c, logger: l)
        return Model(filter: f, quality: quality, governance: governance, commitments: commitments)
    }

    static func render(_ m: Model) -> String {
        let t = m.quality
        var html = "<h1>数据质量 Data quality</h1><p class=\"note\">" + t.notes.map(Html.escape).joined(separator: "<br>") + "</p>"
        html += DashboardRoutes.table(t, caption: "各数据集 Per dataset", keyHeading: "数据集 dataset")
        let governance = m.governance
        html +=
            "<h2>异议与信用修复 Objections and repairs</h2>"
            + DashboardRoutes.table(
                governance,
                caption: "超时：异议 \(Objections.deadlineDays) 天，修复申请 \(Repairs.decisionWorkingDays) 个工作日",
                keyHeading: "类别 kind"
            )
        let commitments = m.commitments
        html +=
            "<h2>信用承诺 Credit commitments</h2>"
            + DashboardRoutes.table(commitments, caption: "履约率 = 已履约 ÷ (已履约 + 已违诺)", keyHeading: "承诺 kind")
        return html
    }
}
