import CreditCore
import Foundation
import PostgresNIO
import Store

/// Where a business produces its signed credit report (`GET /portal/reports`), and the reports
/// about it so far (its own and those banks produced under its authorisations).
enum ReportsPage {
    static func load(_ c: PostgresConnection, _ call: Call) async throws -> [Reports.Listed] {
        try await Reports.about(c, logger: call.logger, uscc: try call.ownUSCC())
    }

    static func render(_ reports: [Reports.Listed], lang: Lang, session: Sessions.Session?) -> String {
        let e = Html.escape
        var body = """
            <section class="card"><p>\(lang.t("生成一份带编号、经本服务签名的信用报告：可打印，也可下载签名文件；任何人都可在线核验。",
                                              "Produce a numbered credit report signed by this service: print it or download the signed file; anyone can verify it online."))</p>
            \(PortalHtml.button("/portal/reports", lang.t("生成信用报告", "Produce my credit report"), session: session, fields: ["once": PortalRoutes.onceToken()]))</section>
            """
        let rows = reports.map { r in
            [
                "<a href=\"/portal/reports/\(e(r.number))\">\(e(r.number))</a>", PortalHtml.day(r.createdAt), PortalHtml.day(r.asOf),
                e(r.requesterKind == "enterprise" ? lang.t("本企业", "this business") : r.requester),
            ]
        }
        body +=
            "<h2>\(lang.t("已出具的报告", "Reports so far"))</h2>"
            + PortalHtml.table(
                lang.t("关于本企业的信用报告（含银行凭授权出具的）", "Credit reports about this business (banks' too, made under its authorisations)"),
                [lang.t("报告编号", "Number"), lang.t("出具时间", "Issued"), lang.t("数据截至", "As of"), lang.t("申请方", "Asked for by")],
                rows,
                empty: lang.t("还没有报告。", "No report yet.")
            )
        return body
    }
}
