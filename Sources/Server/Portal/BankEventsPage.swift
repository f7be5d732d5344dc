import CreditCore
import Foundation
import PostgresNIO
import Store

/// A bank's monitoring events (`GET /portal/bank/events`). Loaded by `load` inside the
/// handler's audited read (the events carry businesses' scores and grades).
enum BankEventsPage {
    static func load(_ c: PostgresConnection, _ call: Call, limit: Int) async throws -> [Webhooks.Event] {
        try await Webhooks.events(c, logger: call.logger, bank: call.caller.orgId, limit: limit)
    }

    /// An event's payload in a sentence: what changed, from what to what.
    static func describe(_ type: String, _ payload: String, lang: Lang) -> String {
        let p = (try? JSONParser.parse(Array(payload.utf8))) ?? .null
        func text(_ k: String) -> String? { p[k]?.stringValue ?? p[k].flatMap { if case .number(let n) = $0 { n } else { nil } } }
        func state(_ k: String) -> String { text(k).map { PortalHtml.demandState($0, lang) } ?? "–" }
        switch type {
        case "profile.grade_changed":
            return lang.t("等级由 \(text("from") ?? "–") 变为 \(text("to") ?? "–")", "grade from \(text("from") ?? "–") to \(text("to") ?? "–")")
        case "profile.score_moved":
            return lang.t("评分由 \(text("from") ?? "–") 变为 \(text("to") ?? "–")", "score from \(text("from") ?? "–") to \(text("to") ?? "–")")
        case "record.new_penalty":
            return lang.t("近36个月行政处罚共 \(text("penalties_36m") ?? "–") 次", "\(text("penalties_36m") ?? "–") penalties in 36 months")
        case "arrears.social_insurance_started":
            return lang.t("近12个月社保欠缴 \(text("months_12m") ?? "–") 个月", "\(text("months_12m") ?? "–") months of arrears in 12")
        case "arrears.tax_started":
            let fen = text("unpaid_tax_fen").flatMap { Int64($0) }
            return lang.t("欠缴税款 \(fen.map(Money.display) ?? "–")", "tax unpaid \(fen.map(Money.display) ?? "–")")
        case "demand.state_changed":
            return lang.t(
                "融资需求由“\(state("from_state"))”变为“\(state("to_state"))”",
                "demand from \(state("from_state")) to \(state("to_state"))"
            )
        case "demand.offer_lapsed":
            return text("reason").map { PortalHtml.lapseReason($0, lang) } ?? ""
        case "record.corrected", "record.repaired":
            let dataset = text("dataset").flatMap(Dataset.init(rawValue:)).map { PortalHtml.dataset($0, lang) } ?? "–"
            return lang.t("\(dataset)记录 \(text("record_id") ?? "–")", "\(dataset) record \(text("record_id") ?? "–")")
                + (text("repaired_on").map { lang.t("，\($0) 起停止公示", "; no longer published from \($0)") } ?? "")
        default:
            return ""
        }
    }

    static func render(_ items: [Webhooks.Event], names: [String: String] = [:], lang: Lang) -> String {
        let e = Html.escape
        let rows = items.map { ev in
            [
                PortalHtml.day(ev.createdAt), e(Words.word(Words.events, ev.type, lang)),
                ev.uscc.map { code in
                    "<a href=\"/portal/bank/lookup?q=\(e(code))\">\(e(names[code] ?? code))</a>"
                        + (names[code] == nil ? "" : "<br><span class=\"muted\">\(e(code))</span>")
                } ?? "–",
                e(describe(ev.type, ev.payload, lang: lang)),
            ]
        }
        let body =
            "<p class=\"muted\">\(lang.t("本行关注的企业（贷后监测授权或本行放款）的变化；同样的事件也推送到本行登记的接收地址。", "Changes at the businesses this bank watches (a post-loan monitoring authorisation or a loan it disbursed); the same events go to the bank's webhooks."))</p>"
            + PortalHtml.table(
                lang.t("最近的事件", "Recent events"),
                [lang.t("时间", "When"), lang.t("事件", "Event"), lang.t("企业", "Business"), lang.t("内容", "Details")],
                rows,
                empty: lang.t("暂无事件。", "No events yet.")
            )
        return body
    }
}
