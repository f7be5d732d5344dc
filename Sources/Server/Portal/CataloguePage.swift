import CreditCore
import Foundation
import PostgresNIO
import Store

/// The product catalogue (`GET /portal/catalogue`, and `GET /v1/public/products`): every published
/// product with its ranges, its rules in words and its indicative amount rule — for businesses,
/// and anyone, before they post a demand. Open to all; the JSON route is rate-limited as the other
/// public ones.
enum CataloguePage {
    struct Item: Encodable {
        struct RuleText: Encodable {
            let rule: JSONValue
            let zh: String
            let en: String
        }
        struct QuotaText: Encodable {
            let rule: JSONValue
            let zh: String
            let en: String
        }
        let id: UUID
        let bankName: String
        let name: String
        let kind: ProductKind
        let amountMinFen: Int64
        let amountMaxFen: Int64
        let termMinMonths: Int
        let termMaxMonths: Int
        let rateMinBp: Int
        let rateMaxBp: Int
        let rules: [RuleText]
        /// The indicative amount rule (参考额度, non-binding), if the bank set one.
        let quota: QuotaText?
    }

    static func load(_ c: PostgresConnection, _ call: Call) async throws -> [Item] {
        try await Demands.published(c, logger: call.logger).map { p in
            let t = p.terms
            return Item(
                id: p.id,
                bankName: p.bankName,
                name: p.name,
                kind: t.kind,
                amountMinFen: t.amountMinFen,
                amountMaxFen: t.amountMaxFen,
                termMinMonths: t.termMinMonths,
                termMaxMonths: t.termMaxMonths,
                rateMinBp: t.rateMinBp,
                rateMaxBp: t.rateMaxBp,
                rules: t.rules.map { .init(rule: $0.jsonValue, zh: $0.describe(chinese: true), en: $0.describe(chinese: false)) },
                quota: t.quota.map {
                    .init(rule: $0.jsonValue, zh: PortalHtml.quota($0, Lang(english: false)), en: PortalHtml.quota($0, Lang(english: true)))
                }
            )
        }
    }

    static func render(_ items: [Item], lang: Lang, signedIn: Bool) -> String {
        let e = Html.escape
        var body =
            "<p class=\"muted\">\(lang.t("各银行已发布的融资产品及其条件。发布融资需求后，系统会逐条核对并告诉您哪些产品匹配、哪些只差一条。参考额度仅供参考，不构成授信承诺。", "The banks' published products and their conditions. Post a demand and every product is checked against it: which fit, and which miss by one rule. Indicative amounts are a guide, not an offer."))</p>"
        body +=
            signedIn
            ? "<p><a class=\"btn\" href=\"/portal/financing\">\(lang.t("发布融资需求", "Post a financing demand"))</a></p>"
            : "<p><a class=\"btn\" href=\"/portal/login\">\(lang.t("登录后发布融资需求", "Sign in to post a demand"))</a></p>"
        guard !items.isEmpty else { return body + "<p>\(lang.t("暂无已发布的产品。", "No product is published yet."))</p>" }
        var banks: [String] = []
        for i in items where !banks.contains(i.bankName) { banks.append(i.bankName) }
        for bank in banks {
            body += "<h2>\(e(bank))</h2><div class=\"offers\">"
            for p in items where p.bankName == bank {
                var rules = p.rules.map { "<li>\(e(lang.english ? $0.en : $0.zh))</li>" }.joined()
                if rules.isEmpty { rules = "<li>\(lang.t("无其他条件", "no other conditions"))</li>" }
                body += """
                    <section class="card offer" aria-label="\(e(p.name))"><h3>\(e(p.name))</h3>
                    <p>\(PortalHtml.badge("", Words.word(Words.productKinds, p.kind.rawValue, lang)))</p>
                    <dl class="facts">
                    <dt>\(lang.t("额度", "Amount"))</dt><dd>\(PortalHtml.yuan(p.amountMinFen)) – \(PortalHtml.yuan(p.amountMaxFen))</dd>
                    <dt>\(lang.t("期限", "Term"))</dt><dd>\(lang.t("\(p.termMinMonths)–\(p.termMaxMonths) 个月", "\(p.termMinMonths)–\(p.termMaxMonths) months"))</dd>
                    <dt>\(lang.t("年利率", "Yearly rate"))</dt><dd>\(PortalHtml.rate(p.rateMinBp)) – \(PortalHtml.rate(p.rateMaxBp))</dd>
                    \(p.quota.map { "<dt>\(lang.t("参考额度", "Indicative amount"))</dt><dd>\(e(lang.english ? $0.en : $0.zh))\(lang.t("（仅供参考）", " (a guide only)"))</dd>" } ?? "")
                    </dl>
                    <p><strong>\(lang.t("申请条件", "Conditions"))</strong></p><ul>\(rules)</ul></section>
                    """
            }
            body += "</div>"
        }
        return body
    }
}
