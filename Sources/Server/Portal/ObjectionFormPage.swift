import CreditCore
import Foundation
import Store

/// The form to object to one of the business's records (`GET /portal/objections/new`).
enum ObjectionFormPage {
    static func render(dataset ds: Dataset, record: String, lang: Lang, session: Sessions.Session?) -> String {
        let e = Html.escape
        let body = """
            <section class="card"><p>\(lang.t("对记录", "Object to record")) <strong>\(e(PortalHtml.dataset(ds, lang))) \(e(record))</strong></p>
            <form class="stack" method="post" action="/portal/objections">\(PortalHtml.csrf(session))\(PortalRoutes.onceField)
            <input type="hidden" name="dataset" value="\(ds.rawValue)"><input type="hidden" name="record_id" value="\(e(record))">
            <label for="reason">\(lang.t("理由", "Reason"))</label>
            <textarea id="reason" name="reason" required maxlength="\(Objections.maxReason)" rows="3" placeholder="\(lang.t("哪里有误", "What is wrong"))"></textarea>
            <label for="evidence">\(lang.t("证据说明（可选）", "Evidence (optional)"))</label>
            <textarea id="evidence" name="evidence" maxlength="\(Objections.maxEvidence)" rows="3" placeholder="\(lang.t("如缴款凭证编号", "e.g. a payment receipt number"))"></textarea>
            <p class="hint">\(lang.t("提交后该记录立即标记为有争议，银行和报告中可见；\(Objections.deadlineDays) 天内答复。", "The record is marked disputed at once, in banks' views and reports; the answer is due within \(Objections.deadlineDays) days."))</p>
            <button class="btn" type="submit">\(lang.t("提交异议", "Raise the objection"))</button> <a class="btn secondary" href="/portal">\(lang.t("取消", "Cancel"))</a></form></section>
            """
        return body
    }

    /// The form for a business's statement (说明) on one of its records.
    static func statement(dataset ds: Dataset, record: String, lang: Lang, session: Sessions.Session?) -> String {
        let e = Html.escape
        return """
            <section class="card"><p>\(lang.t("对记录", "On record")) <strong>\(e(PortalHtml.dataset(ds, lang))) \(e(record))</strong></p>
            <form class="stack" method="post" action="/portal/statements">\(PortalHtml.csrf(session))\(PortalRoutes.onceField)
            <input type="hidden" name="dataset" value="\(ds.rawValue)"><input type="hidden" name="record_id" value="\(e(record))">
            <label for="text">\(lang.t("说明", "Statement"))</label>
            <p class="hint" id="text-h">\(lang.t("\(Statements.maxText) 字以内；与这条记录一同显示给您授权的银行；行政处罚和失信名单记录的说明也写入您的信用报告；可随时撤回", "At most \(Statements.maxText) characters; shown with the record to the banks you authorise, and in your credit reports for penalties and listings; you may withdraw it at any time"))</p>
            <textarea id="text" name="text" required maxlength="\(Statements.maxText)" rows="4" aria-describedby="text-h" placeholder="\(lang.t("如：该笔罚款已于当月缴清，相关问题已整改", "e.g. the fine was paid that month and the matter corrected"))"></textarea>
            <button class="btn" type="submit">\(lang.t("添加说明", "Add the statement"))</button> <a class="btn secondary" href="/portal">\(lang.t("取消", "Cancel"))</a></form></section>
            """
    }
}
