import CreditCore
import Foundation
import PostgresNIO
import Store

/// The business's objections, repair applications and commitments (`GET /portal/governance`),
/// with the form to make a commitment. Loaded (`load`) by the three `mine` reads of Store.
enum GovernancePage {
    struct Model {
        let objections: [Objections.Objection]
        let repairs: [Repairs.Application]
        let commitments: [CommitmentStore.Commitment]
        var statements: [Statements.Statement] = []
    }

    static func load(_ c: PostgresConnection, _ call: Call) async throws -> Model {
        let uscc = try call.ownUSCC()
        return Model(
            objections: try await Objections.mine(c, logger: call.logger, uscc: uscc),
            repairs: try await Repairs.mine(c, logger: call.logger, uscc: uscc),
            commitments: try await CommitmentStore.mine(c, logger: call.logger, uscc: uscc),
            statements: try await Statements.mine(c, logger: call.logger, uscc: uscc)
        )
    }

    static func render(
        _ objs: [Objections.Objection],
        _ reps: [Repairs.Application],
        _ coms: [CommitmentStore.Commitment],
        statements: [Statements.Statement] = [],
        lang: Lang,
        session: Sessions.Session?
    ) -> String {
        let e = Html.escape
        var body = "<h2>\(lang.t("异议", "Objections"))</h2>"
        body += PortalHtml.table(
            lang.t("在“信用体检”的记录行上提出异议", "Raise one from a record's row on the check-up page"),
            [
                lang.t("提出时间", "Raised"), lang.t("记录", "Record"), lang.t("理由", "Reason"), lang.t("答复期限", "Answer due"),
                lang.t("状态", "State"), lang.t("答复", "Answer"),
            ],
            objs.map { o in
                [
                    PortalHtml.day(o.createdAt),
                    e("\(Dataset(rawValue: o.dataset).map { PortalHtml.dataset($0, lang) } ?? o.dataset) \(o.recordId)"),
                    e(o.reason), e(o.dueOn),
                    PortalHtml.badge(
                        o.overdue ? "overdue" : o.state,
                        PortalHtml.governanceState(o.state, lang) + (o.overdue ? " · " + lang.t("逾期", "overdue") : "")
                    ), e(o.resolution ?? ""),
                ]
            },
            empty: lang.t("没有异议。", "No objections.")
        )
        body += "<h2>\(lang.t("信用修复", "Credit repair"))</h2>"
        body += PortalHtml.table(
            lang.t("在行政处罚的记录行上申请修复", "Apply from a penalty's row on the check-up page"),
            [
                lang.t("申请时间", "Applied"), lang.t("处罚记录", "Penalty"), lang.t("整改", "Corrections"), lang.t("答复期限", "Answer due"),
                lang.t("状态", "State"), lang.t("说明", "Note"),
            ],
            reps.map { r in
                [
                    PortalHtml.day(r.createdAt), e(r.recordId),
                    e(r.corrections.map { PortalHtml.correction($0, lang) }.joined(separator: lang.t("、", ", "))), e(r.dueOn),
                    PortalHtml.badge(r.state == "approved" ? "repaired" : r.state, PortalHtml.governanceState(r.state, lang)),
                    e(r.reason ?? r.repairedOn.map { lang.t("\($0) 起停止公示", "unpublished from \($0)") } ?? ""),
                ]
            },
            empty: lang.t("没有修复申请。", "No repair applications.")
        )
        var options = ""
        for k in Commitments.Kind.allCases { options += "<option value=\"\(k.rawValue)\">\(e(lang.english ? k.en : k.zh))</option>" }
        var months = ""
        for m in Commitments.periods.sorted() {
            months += "<option value=\"\(m)\"\(m == 6 ? " selected" : "")>\(m) \(lang.t("个月", "months"))</option>"
        }
        body += """
            <h2>\(lang.t("信用承诺", "Credit commitments"))</h2>
            <section class="card"><form class="stack" method="post" action="/portal/commitments">\(PortalHtml.csrf(session))\(PortalRoutes.onceField)
            <label for="kind">\(lang.t("承诺内容", "Commitment"))</label><select id="kind" name="kind">\(options)</select>
            <label for="months">\(lang.t("期限", "Period"))</label><select id="months" name="months">\(months)</select>
            <p class="hint">\(lang.t("承诺将公示，并按归集的数据自动评价：履行或违背都计入信用评分。", "A commitment is public and judged from the data: kept or broken, it counts in the credit score."))</p>
            <button class="btn" type="submit">\(lang.t("作出承诺", "Make the commitment"))</button></form></section>
            """
        body += PortalHtml.table(
            lang.t("我的承诺及进展", "My commitments and their progress"),
            [lang.t("承诺", "Commitment"), lang.t("开始", "From"), lang.t("结束", "To"), lang.t("状态", "State"), lang.t("违背记录", "Broken by")],
            coms.map { m in
                [
                    e(Commitments.Kind(rawValue: m.kind).map { lang.english ? $0.en : $0.zh } ?? m.kind), e(m.startsOn), e(m.endsOn),
                    PortalHtml.badge(m.state, PortalHtml.governanceState(m.state, lang)), e(m.brokenBy ?? ""),
                ]
            },
            empty: lang.t("还没有承诺。", "No commitments yet.")
        )
        body += "<h2>\(lang.t("对记录的说明", "Statements on records"))</h2>"
        body += PortalHtml.table(
            lang.t(
                "在“信用体检”的记录行上添加；与记录一同显示在报告中和获授权银行的查询中",
                "Add one from a record's row on the check-up page; shown with the record in reports and to authorised banks"
            ),
            [lang.t("添加时间", "Added"), lang.t("记录", "Record"), lang.t("说明", "Statement"), lang.t("状态", "State")],
            statements.map { s in
                [
                    PortalHtml.day(s.createdAt),
                    e("\(Dataset(rawValue: s.dataset).map { PortalHtml.dataset($0, lang) } ?? s.dataset) \(s.recordId)"), e(s.text),
                    s.withdrawnAt.map { lang.t("已撤回 ", "withdrawn ") + PortalHtml.day($0) }
                        ?? PortalHtml.button(
                            "/portal/statements/\(s.id.uuidString.lowercased())/withdraw",
                            lang.t("撤回", "Withdraw"),
                            session: session,
                            style: "btn secondary"
                        ),
                ]
            },
            empty: lang.t("还没有说明。", "No statements.")
        )
        return body
    }
}
