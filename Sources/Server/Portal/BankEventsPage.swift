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

    static func render(_ items: [Webhooks.Event], lang: Lang) -> String {
        let e = Html.escape
        let names: [String: (String, String)] = [
            "profile.grade_changed": ("等级变化", "grade changed"), "profile.score_moved": ("评分大幅变动", "score moved"),
            "record.new_penalty": ("新增行政处罚", "new penalty"), "record.new_blacklisting": ("列入失信名单", "new listing"),
            "arrears.tax_started": ("开始欠税", "tax arrears started"),
            "arrears.social_insurance_started": ("开始欠缴社保", "social-insurance arrears started"),
            "demand.state_changed": ("需求状态变化", "demand state changed"), "record.corrected": ("记录已更正", "record corrected"),
            "record.repaired": ("处罚已修复", "penalty repaired"), "record.listing_removed": ("移出失信名单", "listing removed"),
        ]
        let rows = items.map { ev in
            [
                PortalHtml.day(ev.createdAt), e(names[ev.type].map { lang.t($0.0, $0.1) } ?? ev.type), e(ev.uscc ?? "–"),
                "<code>\(e(String(ev.payload.prefix(200))))</code>",
            ]
        }
        let body =
            "<p class=\"muted\">\(lang.t("本行关注的企业（贷后监测授权或本行放款）的变化；同样的事件也推送到本行登记的 webhook。", "Changes at the businesses this bank watches (a post-loan monitoring authorisation or a loan it disbursed); the same events go to the bank's webhooks."))</p>"
            + PortalHtml.table(
                lang.t("最近的事件", "Recent events"),
                [lang.t("时间", "When"), lang.t("事件", "Event"), lang.t("企业", "Business"), lang.t("内容", "Details")],
                rows,
                empty: lang.t("暂无事件。", "No events yet.")
            )
        return body
    }
}
