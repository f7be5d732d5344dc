import CreditCore
import Foundation
import Store

/// Asks before a business revokes an authorisation (`GET /portal/authorisations/{id}/revoke`).
enum ConfirmRevokePage {
    static func render(_ a: Authorisation, lang: Lang, session: Sessions.Session?) -> String {
        let body = """
            <div class="card"><p>\(lang.t("确定撤销对 \(Html.escape(a.bankName)) 的授权（\(a.purpose.rawValue)）吗？撤销立即生效，此后该银行的查询都会被拒绝。",
                                          "Revoke \(Html.escape(a.bankName))'s authorisation (\(a.purpose.rawValue))? It takes effect at once: every read after it is denied."))</p>
            \(PortalHtml.button("/portal/authorisations/\(a.id.uuidString.lowercased())/revoke", lang.t("确认撤销", "Yes, revoke"), session: session, style: "btn danger"))
            <a class="btn secondary" href="/portal/access">\(lang.t("取消", "Cancel"))</a></div>
            """
        return body
    }
}
