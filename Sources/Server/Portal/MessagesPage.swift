import CreditCore
import Foundation
import PostgresNIO
import Store

/// The business's message centre (`GET /portal/messages`, `GET /v1/me/messages`): what concerns
/// it — new negative records, repairable penalties, answers to its objections and repair
/// applications, banks' offers and decisions on its demands, and every bank read — newest first,
/// the unread ones marked.
enum MessagesPage {
    struct Model {
        let items: [Messages.Message]
        let unread: Int
        /// The next (older) page's cursor, when there is one.
        var next: String? = nil
        /// Whether this is a later page (a link back to the newest).
        var older = false
    }

    /// The page size (`limit`, 1–100, default 100) and where the page starts (`before`).
    static func paging(_ call: Call) throws -> (limit: Int, before: Messages.Cursor?) {
        let q = call.request.uri.queryParameters
        var limit = Messages.listLimit
        if let text = q.get("limit") {
            guard let n = Int(text), (1...Messages.listLimit).contains(n) else {
                throw Problem.invalid("limit", "an integer from 1 to \(Messages.listLimit)")
            }
            limit = n
        }
        var before: Messages.Cursor?
        if let text = q.get("before") {
            guard let cursor = Messages.Cursor(text) else { throw Problem.invalid("before", "the `next` of a previous page") }
            before = cursor
        }
        return (limit, before)
    }

    static func load(_ c: PostgresConnection, _ call: Call) async throws -> Model {
        let uscc = try call.ownUSCC()
        let (limit, before) = try paging(call)
        let items = try await Messages.list(c, logger: call.logger, uscc: uscc, before: before, limit: limit)
        return Model(
            items: items,
            unread: try await Messages.unread(c, logger: call.logger, uscc: uscc),
            next: items.count == limit ? items.last?.cursor.text : nil,
            older: before != nil
        )
    }

    /// One message in words.
    static func text(_ m: Messages.Message, _ lang: Lang) -> String {
        let d = m.data
        func s(_ k: String) -> String { d[k]?.stringValue ?? "" }
        switch m.kind {
        case "bank.read":
            let what = Words.word(Words.actions, s("action"), lang)
            return lang.t("\(s("bank")) 查询了您的信用信息（\(what)）", "\(s("bank")) read your credit data (\(what))")
        case "record.new_penalty": return lang.t("新增一条行政处罚记录", "A new administrative penalty was recorded")
        case "record.new_blacklisting": return lang.t("您被列入失信名单", "You were put on a dishonesty list")
        case "arrears.tax_started": return lang.t("出现欠缴税款", "Tax is due and unpaid")
        case "arrears.social_insurance_started": return lang.t("出现社保欠费", "Social-insurance contributions are in arrears")
        case "penalty.repairable":
            return lang.t(
                "处罚 \(s("decision_no")) 自 \(s("from")) 起可申请信用修复",
                "Penalty \(s("decision_no")) may be repaired from \(s("from"))"
            )
        case "objection.answered":
            let what = Dataset(rawValue: s("dataset")).map { PortalHtml.dataset($0, lang) } ?? lang.t("信用", "credit")
            let why = s("resolution").isEmpty ? "" : lang.t("。处理说明：", ". The account: ") + s("resolution")
            return lang.t("您对一条\(what)记录的异议已答复：", "Your objection to a record (\(what)) was answered: ")
                + PortalHtml.governanceState(s("state"), lang) + why
        case "repair.answered":
            let penalty = s("decision_no").isEmpty ? lang.t("一项行政处罚", "a penalty") : s("decision_no")
            let why = s("reason").isEmpty ? "" : lang.t("。理由：", ". Reason: ") + s("reason")
            return lang.t("您对处罚 \(penalty) 的信用修复申请已答复：", "Your repair application for \(penalty) was answered: ")
                + PortalHtml.governanceState(s("state"), lang) + why
        case "commitment.kept", "commitment.broken":
            let what = Commitments.Kind(rawValue: s("kind")).map { lang.english ? $0.en : $0.zh } ?? ""
            return m.kind == "commitment.kept"
                ? lang.t("您的信用承诺“\(what)”已履行", "Your commitment “\(what)” was kept")
                : lang.t("您的信用承诺“\(what)”已违背", "Your commitment “\(what)” was broken")
        case "commitment.at_risk":
            let what = Commitments.Kind(rawValue: s("kind")).map { lang.english ? $0.en : $0.zh } ?? ""
            return lang.t(
                "您的信用承诺“\(what)”有一项义务 \(s("due_on")) 到期，尚未履行，请按期办理",
                "Your commitment “\(what)”: an obligation is due on \(s("due_on")) and not yet met"
            )
        case "demand.offer_made": return lang.t("\(s("bank")) 对您的融资需求报价", "\(s("bank")) made an offer on your demand")
        case "demand.state_changed":
            return lang.t("您的融资需求：", "Your demand: ") + PortalHtml.demandState(s("to_state"), lang)
        default: return lang.t("与本企业有关的其他消息", "Another message about your business")
        }
    }

    /// Where a message leads.
    static func link(_ m: Messages.Message) -> String? {
        switch m.kind {
        case "bank.read": "/portal/access"
        case "demand.offer_made", "demand.state_changed": m.data["demand_id"]?.stringValue.map { "/portal/demands/\($0)" }
        case "objection.answered", "repair.answered", "commitment.kept", "commitment.broken", "commitment.at_risk": "/portal/governance"
        default: "/portal"
        }
    }

    static func render(_ m: Model, lang: Lang, session: Sessions.Session?) -> String {
        let e = Html.escape
        var body = "<p>\(lang.t("未读 \(m.unread) 条。", "\(m.unread) unread."))</p>"
        if m.unread > 0 {
            body += PortalHtml.button("/portal/messages/seen", lang.t("全部标为已读", "Mark all read"), session: session, style: "btn secondary")
        }
        body += PortalHtml.table(
            lang.t("与本企业有关的消息，最新在前", "What concerns your business, newest first"),
            [lang.t("时间", "When"), lang.t("消息", "Message"), lang.t("状态", "State")],
            m.items.map { msg in
                let words = e(text(msg, lang))
                return [
                    PortalHtml.day(msg.at),
                    link(msg).map { "<a href=\"\(e($0))\">\(words)</a>" } ?? words,
                    msg.unread ? PortalHtml.badge("live", lang.t("未读", "unread")) : lang.t("已读", "read"),
                ]
            },
            empty: lang.t("暂无消息。", "No messages yet.")
        )
        var links: [String] = []
        if m.older { links.append("<a href=\"/portal/messages\">\(lang.t("最新消息", "Newest"))</a>") }
        if let next = m.next {
            let href = "/portal/messages?before=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            links.append("<a href=\"\(e(href))\">\(lang.t("更早的消息", "Older messages"))</a>")
        }
        if !links.isEmpty { body += "<p>" + links.joined(separator: " · ") + "</p>" }
        return body
    }
}
