import CreditCore
import Foundation
import PostgresNIO
import Store

/// "Who looked at me" (`GET /portal/access`): the business's authorisations (with why each
/// ended), the form to authorise a bank, and the reads banks made. Loaded through Store, shaped
/// into a `Model`, rendered by a pure function of the model and the language.
enum AccessPage {
    struct Model {
        let authorisations: [Authorisation]
        let log: [Authorisations.Access]
        let banks: [Organisation]
        /// The form's hidden CSRF field.
        let csrf: String
    }

    static func load(_ c: PostgresConnection, _ call: Call, uscc: String) async throws -> Model {
        Model(
            authorisations: try await Authorisations.forEnterprise(c, logger: call.logger, uscc: uscc),
            log: try await Authorisations.accessLog(c, logger: call.logger, uscc: uscc, limit: PortalRoutes.maxLogRows),
            banks: try await Register.organisations(
                on: c,
                logger: call.logger,
                kind: .bank,
                after: nil,
                limit: PortalRoutes.maxBanksListed
            ),
            csrf: PortalHtml.csrf(call.session)
        )
    }

    /// Why an authorisation ended, in words (nothing for a live or expired one).
    static func ended(_ a: Authorisation, _ lang: Lang) -> String {
        guard a.status == "revoked", let by = a.revokedBy else { return "" }
        let why: String =
            switch by {
            case "business": lang.t("您已撤销", "you revoked it")
            case "bank_passed": lang.t("银行放弃受理", "the bank passed")
            case "no_longer_matching": lang.t("产品不再匹配", "its products no longer match")
            case "demand_taken_up": lang.t("受理的银行已满", "the banks' places on the demand were taken")
            case "bank_declined": lang.t("银行已拒绝", "the bank declined")
            case "offer_lapsed": lang.t("该银行的报价或受理已失效", "the bank's offer or take-up lapsed")
            case "demand_closed": lang.t("需求已结束", "the demand closed")
            default: ""
            }
        return why.isEmpty ? "" : " <span class=\"muted\">\(Html.escape(why))</span>"
    }

    static func render(_ m: Model, lang: Lang) -> String {
        let e = Html.escape
        var rows: [[String]] = []
        for a in m.authorisations {
            let live = a.status == "live"
            rows.append([
                e(a.bankName), e(a.scopes.map { Words.word(Words.scopes, $0.rawValue, lang) }.joined(separator: lang.t("、", ", "))),
                e(Words.word(Words.purposes, a.purpose.rawValue, lang))
                    + (a.source == "demand"
                        ? "<br><span class=\"muted\">\(lang.t("随融资需求给出", "given with a financing demand"))</span>" : ""),
                PortalHtml.day(a.grantedAt),
                PortalHtml.day(a.expiresAt),
                PortalHtml.badge(live ? "live" : "", Words.word(Words.authorisationStatuses, a.status, lang)) + ended(a, lang),
                live
                    ? "<a class=\"btn danger\" href=\"/portal/authorisations/\(a.id.uuidString.lowercased())/revoke\">\(lang.t("撤销", "Revoke"))</a>"
                    : "",
            ])
        }
        var body = "<h2>\(lang.t("我的授权", "My authorisations"))</h2>"
        body +=
            "<p class=\"muted\">\(lang.t("提出融资需求时，匹配的银行可为审批查询您的信用档案；受理的银行满额（最多 \(Demands.defaultMaxBanks) 家）后，其他银行的查询随即终止；需求结束（放款、拒绝、撤回或到期）时全部终止。", "When you post a demand, the matched banks may read your profile to consider it; once its places are taken (at most \(Demands.defaultMaxBanks) banks) the others' access ends, and all access ends when the demand closes (lent, declined, withdrawn or expired)."))</p>"
        body += PortalHtml.table(
            lang.t("银行凭授权查询我的信用信息", "Banks read my credit data under these authorisations"),
            [
                lang.t("银行", "Bank"), lang.t("范围", "Scope"), lang.t("用途", "Purpose"), lang.t("授权时间", "Granted"),
                lang.t("到期", "Expires"), lang.t("状态", "Status"), "",
            ],
            rows,
            empty: lang.t("没有授权。", "No authorisations.")
        )
        var bankOptions = ""
        for b in m.banks { bankOptions += "<option value=\"\(b.id.uuidString.lowercased())\">\(e(b.name))</option>" }
        var scopeBoxes = ""
        for sc in AuthorisationScope.allCases {
            let label = Words.word(Words.scopes, sc.rawValue, lang)
            scopeBoxes +=
                "<p><input type=\"checkbox\" id=\"s_\(sc.rawValue)\" name=\"s_\(sc.rawValue)\"\(sc == .profile ? " checked" : "")> <label class=\"inl\" for=\"s_\(sc.rawValue)\">\(e(label))</label></p>"
        }
        var purposeOptions = ""
        for p in AccessPurpose.allCases {
            let label = Words.word(Words.purposes, p.rawValue, lang)
            purposeOptions += "<option value=\"\(p.rawValue)\">\(e(label))</option>"
        }
        var dayOptions = ""
        for d in PortalRoutes.authorisationDays {
            dayOptions += "<option value=\"\(d)\"\(d == 90 ? " selected" : "")>\(d) \(lang.t("天", "days"))</option>"
        }
        body += """
            <details class="card"><summary>\(lang.t("授权一家银行", "Authorise a bank"))</summary>
            <form class="stack" method="post" action="/portal/authorisations">\(m.csrf)\(PortalRoutes.onceField)
            <label for="bank">\(lang.t("银行", "Bank"))</label><select id="bank" name="bank_org_id" required>\(bankOptions)</select>
            <fieldset><legend>\(lang.t("可查看的范围", "What it may see"))</legend>\(scopeBoxes)</fieldset>
            <label for="apurpose">\(lang.t("用途", "Purpose"))</label><select id="apurpose" name="purpose">\(purposeOptions)</select>
            <label for="days">\(lang.t("有效期", "For"))</label><select id="days" name="days">\(dayOptions)</select>
            <p class="hint">\(lang.t("随时可以撤销，撤销立即生效。每次查询都会记录在下方。", "Revocable at any time, effective at once. Every read is listed below."))</p>
            <button class="btn" type="submit">\(lang.t("授权", "Authorise"))</button></form></details>
            """
        var logRows: [[String]] = []
        for l in m.log {
            logRows.append([
                PortalHtml.day(l.at), e(l.bankName ?? "–"), e(Self.who(l, lang)),
                e(
                    l.view == "queue" && l.action == "profile.read"
                        ? lang.t("在待办列表中看到信用等级与评分", "saw the grade and score in its queue") : Words.word(Words.actions, l.action, lang)
                ),
                e(l.purpose.map { $0.isEmpty ? "–" : Words.word(Words.purposes, $0, lang) } ?? "–"),
                PortalHtml.badge(l.result == "denied" ? "declined" : "", Words.word(Words.results, l.result, lang)),
            ])
        }
        body += "<h2>\(lang.t("谁查看了我", "Who looked at me"))</h2>"
        body += PortalHtml.table(
            m.log.count >= PortalRoutes.maxLogRows
                ? lang.t(
                    "最近 \(PortalRoutes.maxLogRows) 次查询（含被拒绝的；更早的记录在审计日志中保留）",
                    "The latest \(PortalRoutes.maxLogRows) reads, denied ones too (older ones stay in the audit log)"
                )
                : lang.t("最近的查询（含被拒绝的）", "Recent reads, denied ones too"),
            [
                lang.t("时间", "When"), lang.t("银行", "Bank"), lang.t("查询人", "Who"), lang.t("操作", "Action"), lang.t("用途", "Purpose"),
                lang.t("结果", "Result"),
            ],
            logRows,
            empty: lang.t("还没有银行查询过。", "No bank has looked yet.")
        )
        return body
    }

    /// The bank's person who read (name and staff number), or its system.
    static func who(_ l: Authorisations.Access, _ lang: Lang) -> String {
        if let name = l.officerName {
            return l.officerStaffNumber.map { lang.t("\(name)（工号 \($0)）", "\(name) (staff no. \($0))") } ?? name
        }
        // A system's name is the bank's own label for its machine (often English): the page says
        // only that a system read, in the page's language.
        if l.systemName != nil { return lang.t("银行系统接口", "The bank's system") }
        return "–"
    }
}
