import CreditCore
import Foundation

/// What a record of each dataset shows on a page: its fields by their labels, values in words
/// (money with separators, codes by name, dates, a licence's validity against today).
enum RecordFields {
    typealias Column = (key: String, zh: String, en: String, kind: Kind)

    enum Kind {
        case text, day, fen, count, code, flag, district, industry, entityType, size, severity, status, role
    }

    static func columns(_ d: Dataset) -> [Column] {
        switch d {
        case .enterpriseRegistry:
            [
                ("name", "名称", "name", .text), ("entity_type", "主体类型", "entity type", .entityType),
                ("industry_code", "行业", "industry", .industry),
                ("district_code", "区县", "district", .district), ("size_class", "规模", "size", .size), ("status", "登记状态", "status", .status),
                ("established_on", "成立日期", "established", .day), ("registered_capital_fen", "注册资本", "registered capital", .fen),
            ]
        case .taxFiling:
            [
                ("period", "所属期", "period", .text), ("tax_type", "税种", "tax", .code), ("tax_payable_fen", "应纳税额", "payable", .fen),
                ("tax_paid_fen", "已缴税额", "paid", .fen), ("due_on", "申报截止", "due", .day), ("filed_on", "申报日期", "filed", .day),
            ]
        case .taxCreditRating: [("year", "年度", "year", .count), ("grade", "纳税信用等级", "grade", .text)]
        case .socialInsurance:
            [
                ("period", "所属期", "period", .text), ("insured_headcount", "参保人数", "insured", .count),
                ("contribution_due_fen", "应缴", "due", .fen), ("contribution_paid_fen", "已缴", "paid", .fen),
                ("in_arrears", "欠缴", "in arrears", .flag),
            ]
        case .utilityBill:
            [
                ("utility", "种类", "utility", .code), ("period", "所属期", "period", .text), ("consumption", "用量", "consumption", .count),
                ("amount_billed_fen", "应缴", "billed", .fen),
                ("amount_paid_fen", "已缴", "paid", .fen), ("due_on", "缴费截止", "due", .day), ("paid_on", "缴费日期", "paid on", .day),
            ]
        case .contractPerformance:
            [
                ("contract_no", "合同号", "contract", .text), ("role", "角色", "role", .role), ("signed_on", "签订日期", "signed", .day),
                ("amount_fen", "金额", "amount", .fen), ("due_on", "履行期限", "due", .day), ("status", "履约状态", "status", .code),
                ("settled_on", "结清日期", "settled", .day),
            ]
        case .administrativeLicence:
            [
                ("licence_no", "许可证号", "licence", .text), ("title", "许可名称", "title", .text), ("authority", "许可机关", "authority", .text),
                ("decided_on", "决定日期", "granted", .day), ("valid_until", "有效期至", "valid until", .day),
            ]
        case .administrativePenalty:
            [
                ("decision_no", "决定书文号", "decision", .text), ("authority", "处罚机关", "authority", .text),
                ("decided_on", "决定日期", "decided", .day),
                ("violation", "违法行为", "violation", .text), ("severity", "严重程度", "severity", .severity),
                ("fine_amount_fen", "罚款", "fine", .fen), ("publicity_ends_on", "公示截止", "published until", .day),
            ]
        case .dishonestyListing:
            [
                ("list_type", "名单", "list", .code), ("case_no", "案号", "case", .text), ("authority", "列入机关", "authority", .text),
                ("listed_on", "列入日期", "listed", .day), ("removed_on", "移出日期", "removed", .day),
                ("amount_involved_fen", "涉及金额", "amount", .fen),
            ]
        }
    }

    static func headings(_ d: Dataset, _ lang: Lang) -> [String] { columns(d).map { lang.t($0.zh, $0.en) } }

    /// A record's fields in words (escaped), in the order of `columns`.
    static func cells(_ d: Dataset, _ data: JSONValue, lang: Lang, today: Day) -> [String] {
        let zh = !lang.english
        return columns(d).map { c in
            // A penalty's publication ends where the rules put it (`Publicity`), not necessarily on
            // the provider's date; a minor one under the 2026 rules may not be published at all.
            if d == .administrativePenalty, c.key == "publicity_ends_on", let decided = data["decided_on"]?.stringValue.flatMap(Day.init) {
                let w = Publicity.window(
                    decidedOn: decided,
                    providerEndsOn: data["publicity_ends_on"]?.stringValue.flatMap(Day.init),
                    severity: data["severity"]?.stringValue ?? "general",
                    authority: data["authority"]?.stringValue ?? "",
                    violation: data["violation"]?.stringValue ?? ""
                )
                return w.published ? Html.escape(w.endsOn.description) : lang.t("不予公示", "not published")
            }
            let v = data[c.key]
            let text: String? =
                switch v {
                case .string(let s)?: s
                case .number(let n)?: n
                case .bool(let b)?: b ? "true" : "false"
                default: nil
                }
            guard let text else { return "–" }
            let shown: String
            switch c.kind {
            case .text, .count: shown = text
            case .day:
                shown = text
                // A licence whose validity ended says so beside the date.
                if c.key == "valid_until", let end = Day(text), end < today {
                    return Html.escape(shown) + " " + PortalHtml.badge("declined", lang.t("已过期", "expired"))
                }
            case .fen: shown = Int64(text).map(Money.display) ?? text
            case .code: shown = PortalHtml.code(text, lang)
            case .flag: shown = text == "true" ? lang.t("是", "yes") : lang.t("否", "no")
            case .district: shown = Names.district(text, chinese: zh)
            case .industry: shown = Names.industry(text, chinese: zh)
            case .entityType: shown = Names.entityType(text, chinese: zh)
            case .size: shown = Names.size(text, chinese: zh)
            case .severity: shown = Names.severities[text].map { zh ? $0.zh : $0.en } ?? text
            case .status: shown = Scorecard.category(text, chinese: zh)
            case .role: shown = Names.contractRoles[text].map { zh ? $0.zh : $0.en } ?? text
            }
            return Html.escape(shown)
        }
    }
}
