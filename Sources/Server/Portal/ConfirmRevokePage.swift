import CreditCore
import Foundation
import PostgresNIO
import Store

/// Asks before a business revokes an authorisation (`GET /portal/authorisations/{id}/revoke`).
enum ConfirmRevokePage {
    /// The business's own authorisation of that id, or 404.
    static func load(_ c: PostgresConnection, _ call: Call) async throws -> Authorisation {
        let id = try call.uuidParameter("authorisationId")
        let auths = try await Authorisations.forEnterprise(c, logger: call.logger, uscc: try call.ownUSCC())
        guard let a = auths.first(where: { $0.id == id }) else { throw Problem(.notFound, "no authorisation \(id) of yours") }
        return a
    }

    static func render(_ a: Authorisation, lang: Lang, session: Sessions.Session?) -> String {
        let body = """
            <div class="card"><p>\(lang.t("确定撤销对 \(Html.escape(a.bankName)) 的授权（\(Words.word(Words.purposes, a.purpose.rawValue, lang))）吗？撤销立即生效，此后该银行的查询都会被拒绝。",
                                          "Revoke \(Html.escape(a.bankName))'s authorisation (\(Words.word(Words.purposes, a.purpose.rawValue, lang)))? It takes effect at once: every read after it is denied."))</p>
            \(a.source != "demand" ? "" : "<p>\(lang.t("这是为融资需求给出的授权：撤销后，该银行对这项需求的受理和报价（如有）随之失效，不能再被接受。", "This authorisation came with a financing demand: revoking it also ends this bank's take-up and any offer it made on the demand, which can no longer be accepted."))</p>")
            \(PortalHtml.button("/portal/authorisations/\(a.id.uuidString.lowercased())/revoke", lang.t("确认撤销", "Yes, revoke"), session: session, style: "btn danger"))
            <a class="btn secondary" href="/portal/access">\(lang.t("取消", "Cancel"))</a></div>
            """
        return body
    }
}
