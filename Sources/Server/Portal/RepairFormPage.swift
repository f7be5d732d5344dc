import CreditCore
import Foundation
import Store

/// The form to apply for credit repair of one penalty (`GET /portal/repairs/new`).
enum RepairFormPage {
    static func render(record: String, lang: Lang, session: Sessions.Session?) -> String {
        let e = Html.escape
        let commitment = RepairCommitment.catalogue[0]
        var boxes = ""
        for c in Repairs.corrections.sorted() {
            boxes +=
                "<p><input type=\"checkbox\" id=\"c_\(c)\" name=\"c_\(c)\"> <label for=\"c_\(c)\" class=\"inl\">\(e(PortalHtml.correction(c, lang)))</label></p>"
        }
        let body = """
            <section class="card"><p>\(lang.t("申请提前终止公示：行政处罚", "End publication early: penalty")) <strong>\(e(record))</strong></p>
            <form class="stack" method="post" action="/portal/repairs">\(PortalHtml.csrf(session))\(PortalRoutes.onceField)<input type="hidden" name="record_id" value="\(e(record))">
            <fieldset><legend>\(lang.t("已完成的整改（至少一项）", "Corrections done (at least one)"))</legend>\(boxes)</fieldset>
            <label for="evidence">\(lang.t("证明材料说明", "Evidence"))</label>
            <textarea id="evidence" name="evidence" required maxlength="\(Repairs.maxEvidence)" rows="3" placeholder="\(lang.t("如罚款缴纳凭证号", "e.g. the fine's receipt number"))"></textarea>
            <fieldset><legend>\(lang.t("信用承诺书", "Credit commitment"))</legend>
            <p class="commitment">\(e(lang.english ? commitment.en : commitment.zh))</p>
            <p><input type="checkbox" id="commitment" name="commitment_id" value="\(e(commitment.id))" required> <label for="commitment" class="inl">\(lang.t("本单位已阅读并作出以上承诺（将与申请一并保存；申请获批后，承诺书文本与签署日期向社会公示，不含签署人姓名）", "We have read and make this commitment (kept with the application; once approved, its text and date are public, without the signer's name)"))</label></p>
            <label for="signed_by">\(lang.t("签署人姓名", "Signed by (name)"))</label>
            <input id="signed_by" name="signed_by" required maxlength="\(Repairs.maxSignerName)" autocomplete="name">
            </fieldset>
            <p class="hint">\(lang.t("\(Repairs.decisionWorkingDays) 个工作日内答复；批准后立即停止公示并重新计算信用档案。", "Answered within \(Repairs.decisionWorkingDays) working days; approved, publication stops at once and the profile is recomputed."))</p>
            <button class="btn" type="submit">\(lang.t("提交申请", "Apply"))</button> <a class="btn secondary" href="/portal">\(lang.t("取消", "Cancel"))</a></form></section>
            """
        return body
    }
}
