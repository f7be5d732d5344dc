import CreditCore
import Foundation
import Store

/// A bank officer's look-up of a business (`GET /portal/bank/lookup`): the form, and the
/// profile read under the business's live authorisation (`CreditRoutes.bankRead`, audited), or
/// why it was refused. Rendered from what the handler read.
enum LookupPage {
    enum Result {
        /// Only the form: nothing asked yet.
        case none
        case invalidCode
        case profile(CreditActions.ProfileBody, uscc: String, name: String?)
        /// Refused (no live authorisation, no profile…): the reason, in words.
        case refused(String)
    }

    /// A business that authorised this bank, by name: what an officer picks instead of typing a code.
    struct Authorised: Equatable {
        let uscc: String
        let name: String?
        let purpose: AccessPurpose
    }

    static let maxListed = 50
    static let maxQuery = 40

    /// The businesses whose name or code holds `query` (all when it is empty), at most `maxListed`.
    static func matching(_ all: [Authorised], query: String) -> [Authorised] {
        let q = query.trimmingCharacters(in: .whitespaces).lowercased()
        let found = q.isEmpty ? all : all.filter { ($0.name ?? "").lowercased().contains(q) || $0.uscc.lowercased().contains(q) }
        return Array(found.prefix(maxListed))
    }

    /// The search among the businesses that authorised this bank, with a link to each one's look-up.
    static func search(_ all: [Authorised], query: String, lang: Lang) -> String {
        let e = Html.escape
        let found = matching(all, query: query)
        var items = ""
        for a in found {
            items +=
                "<li><a href=\"/portal/bank/lookup?uscc=\(e(a.uscc))&amp;purpose=\(a.purpose.rawValue)\">\(e(a.name ?? a.uscc))</a> <span class=\"muted\">\(e(a.uscc)) · \(e(Words.word(Words.purposes, a.purpose.rawValue, lang)))</span></li>"
        }
        return """
            <section class="card"><form class="stack" method="get" action="/portal/bank/lookup" role="search">
            <label for="q">\(lang.t("按名称查找已授权本行的企业", "Find a business that authorised this bank, by name"))</label>
            <input id="q" name="q" type="search" maxlength="\(maxQuery)" value="\(e(query))">
            <button class="btn secondary" type="submit">\(lang.t("查找", "Find"))</button></form>
            \(all.isEmpty ? "<p class=\"muted\">\(lang.t("目前没有企业对本行有有效授权。", "No business has a live authorisation for this bank now."))</p>" : found.isEmpty ? "<p class=\"muted\">\(lang.t("没有名称或代码含“\(e(query))”的已授权企业。", "No authorising business's name or code holds “\(e(query))”."))</p>" : "<ul class=\"found\">\(items)</ul>")
            </section>
            """
    }

    static func render(
        given: String,
        purpose: String?,
        result: Result,
        lang: Lang,
        authorised: [Authorised] = [],
        query: String = ""
    ) -> String {
        let e = Html.escape
        var purposes = ""
        for p in AccessPurpose.allCases {
            purposes +=
                "<option value=\"\(p.rawValue)\"\(purpose == p.rawValue ? " selected" : "")>\(Html.escape(Words.word(Words.purposes, p.rawValue, lang)))</option>"
        }
        var body =
            search(authorised, query: query, lang: lang) + """
                <section class="card"><form class="stack" method="get" action="/portal/bank/lookup">
                <label for="uscc">\(lang.t("统一社会信用代码", "Unified social credit code"))</label>
                <input id="uscc" name="uscc" type="text" required pattern="[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18}" maxlength="18" placeholder="91320602MA1XXXXXXX" value="\(e(given))">
                <label for="purpose">\(lang.t("查询用途（须有企业的有效授权）", "Purpose (the business's live authorisation is needed)"))</label><select id="purpose" name="purpose">\(purposes)</select>
                <button class="btn" type="submit">\(lang.t("查询", "Look up"))</button></form></section>
                """
        switch result {
        case .none:
            break
        case .invalidCode:
            body += "<p class=\"flash err\" role=\"alert\">\(lang.t("代码无效（校验位不符）。", "Not a valid code (check characters)."))</p>"
        case .refused(let why):
            body += "<p class=\"flash err\" role=\"alert\">\(e(why))</p>"
        case .profile(let p, let uscc, let name):
            let profile = p.profile
            var reasons = ""
            for r in profile.reasons { reasons += "<li>\(e(lang.english ? r.en : r.zh))</li>" }
            var rows: [[String]] = []
            for f in Feature.allCases {
                let v = profile.features[f.rawValue] ?? .missing
                rows.append([
                    e(lang.english ? f.definition.en : f.definition.zh),
                    e(PortalHtml.code(Scorecard.render(v, f, chinese: !lang.english), lang)), "\(profile.points[f.rawValue] ?? 0)",
                ])
            }
            body += """
                <section class="card"><h2>\(e(name ?? uscc))</h2><p class="muted">\(lang.t("统一社会信用代码", "USCC")) \(e(uscc))</p><p>\(lang.t("评分", "Score")) <strong>\(profile.score.map(String.init) ?? "–")</strong> ·
                \(lang.t("等级", "grade")) <strong>\(e(profile.grade ?? "–"))</strong>\(profile.thinFile ? " · " + lang.t("数据不足", "thin file") : "") ·
                \(lang.t("评分卡", "scorecard")) \(e(profile.scorecardVersion)) · \(lang.t("凭企业的有效授权查询", "read under the business's live authorisation"))</p>
                <ol>\(reasons)</ol></section>
                """
                + PortalHtml.table(
                    lang.t("指标", "Features"),
                    [lang.t("指标", "Feature"), lang.t("取值", "Value"), lang.t("得分", "Points")],
                    rows,
                    empty: ""
                )
        }
        return body
    }
}
