import CreditCore
import Foundation
import Store

/// The statistics' column names, row keys and text values in the words a regulator reads,
/// Chinese or English: the JSON API keeps the codes, the dashboard never shows them.
enum DashboardWords {
    typealias Pair = (zh: String, en: String)

    static let columns: [String: Pair] = [
        "posted": ("发布笔数", "posted"), "posted_fen": ("需求金额", "amount asked"), "taken_up": ("受理笔数", "taken up"),
        "granted": ("授信笔数", "granted"), "granted_fen": ("授信金额", "amount granted"), "disbursed": ("放款笔数", "disbursed"),
        "disbursed_fen": ("放款金额", "amount disbursed"), "solve_rate": ("解决率", "solve rate"), "enterprises": ("企业数", "businesses"),
        "declined": ("拒绝笔数", "declined"), "decline_rate": ("拒绝率", "decline rate"), "passed": ("放弃笔数", "passed"),
        "matched": ("匹配笔数", "matched"), "connected": ("已接入", "connected"), "take_up_overdue": ("受理超时", "take-up overdue"),
        "decision_overdue": ("审批超时", "decision overdue"), "decided": ("已决定", "decided"),
        "decision_hours_median": ("审批时长中位数（小时）", "median hours to decide"),
        "take_up_hours_median": ("受理时长中位数（小时）", "median hours to take up"),
        "take_up_hours_p90": ("受理时长第90百分位（小时）", "90th percentile hours to take up"),
        "decision_hours_p90": ("审批时长第90百分位（小时）", "90th percentile hours to decide"),
        "under_objection": ("异议中", "under objection"), "objections_overdue": ("异议超时", "objections overdue"),
        "valid_objections_per_100k": ("每10万条有效异议", "valid objections per 100,000"), "completeness": ("完整性", "completeness"),
        "completeness_of": ("完整性样本（企业）", "of businesses"),
        "timeliness_of": ("及时性样本（记录）", "of records"),
        "timeliness": ("及时性", "timeliness"), "uscc_error_rate": ("代码错误率", "code error rate"), "received": ("接收", "received"),
        "stored": ("入库", "stored"), "quarantined": ("隔离", "quarantined"), "quarantined_by_reason": ("隔离原因", "why quarantined"),
        "open": ("待处理", "open"), "overdue": ("超时", "overdue"), "upheld_or_approved": ("成立或批准", "upheld or approved"),
        "rejected": ("驳回", "rejected"), "unverifiable": ("无法核实", "could not be verified"), "made": ("作出", "made"),
        "in_progress": ("履行中", "in progress"), "kept": ("已履行", "kept"),
        "broken": ("已违背", "broken"), "kept_rate": ("履行率", "kept rate"), "psi": ("PSI", "PSI"), "score_psi": ("评分 PSI", "score PSI"),
        "level": ("状态", "level"), "default_rate": ("违约率", "default rate"), "loans": ("贷款笔数", "loans"), "bad": ("不良笔数", "bad loans"),
        "auc": ("AUC", "AUC"), "ks": ("KS", "KS"), "gini": ("Gini", "Gini"), "bins": ("分箱数", "bins"),
        "scorecard_version": ("评分卡版本", "scorecard version"), "provider": ("数据提供方", "provider"), "status": ("采集状态", "feed"),
        "declined_once": ("被拒过的需求", "declined at least once"), "served_after_decline": ("被拒后获他行授信", "served by another bank"),
        "disbursed_after_decline": ("被拒后获他行放款", "lent by another bank"), "declined_twice": ("两次及以上被拒", "declined twice or more"),
        "declined_for_good": ("最终被拒", "declined for good"), "served_share": ("被拒后获授信占比", "share served after a decline"),
        "claimed_granted": ("自报首贷（已授信）", "first loans claimed (granted)"),
        "verified_granted": ("核实首贷（已授信）", "first loans verified (granted)"),
        "claimed_and_verified": ("自报且核实", "claimed and verified"), "claimed_disbursed": ("自报首贷（已放款）", "claimed (disbursed)"),
        "verified_disbursed": ("核实首贷（已放款）", "verified (disbursed)"), "verified_share": ("自报首贷核实率", "share of claims verified"),
        "granted_rate_mean": ("授信平均年利率", "mean rate granted"), "granted_rate_median": ("授信年利率中位数", "median rate granted"),
        "disbursed_rate_mean": ("放款平均年利率", "mean rate disbursed"), "disbursed_rate_median": ("放款年利率中位数", "median rate disbursed"),
        "credit_loans_disbursed": ("信用贷款放款笔数", "credit loans disbursed"), "credit_share": ("信用贷款占比", "credit loan share"),
        "penalties": ("行政处罚（近3年）", "penalties (last 3 years)"), "not_published": ("不予公示", "not published"),
        "published": ("公示中", "published"), "repairable": ("可修复", "repairable"), "repair_applied": ("已申请修复", "repair applied for"),
        "repair_approved": ("修复已批准", "repairs approved"), "repair_rejected": ("修复申请驳回", "applications rejected"),
        "publication_ended": ("公示期满", "publication period over"),
        "last_success_at": ("最近成功采集", "last pulled"), "newest_item_at": ("最新记录时间", "newest record"), "none": ("无等级", "no grade"),
    ]

    /// Row keys that are codes, whatever the breakdown.
    static let keys: [String: Pair] = [
        "total": ("合计", "total"), "unknown": ("未知", "unknown"), "none": ("无等级", "no grade"), "farmer": ("农户", "farmers"),
        "first_loan": ("首贷", "first loans"), "repeat": ("续贷", "repeat loans"), "(not taken up)": ("未受理", "not taken up"),
        "score": ("评分", "score"), "all banks": ("全部银行", "all banks"), "other": ("其他", "other"), "objections": ("异议", "objections"),
        "repairs": ("信用修复", "repairs"),
        "trial-2023": ("2026年4月1日前作出（2023年试行办法）", "decided before 1 April 2026 (2023 trial measures)"),
        "measures-2026/minor": ("2026年办法·轻微", "2026 measures · minor"),
        "measures-2026/general": ("2026年办法·一般", "2026 measures · general"),
        "measures-2026/serious": ("2026年办法·严重", "2026 measures · serious"),
    ]

    /// Text values of cells.
    static let values: [String: Pair] = [
        "green": ("正常", "green"), "amber": ("关注", "amber"), "red": ("警示", "red"), "n/a": ("样本不足", "sample too small"),
        "yes": ("是", "yes"), "no": ("否", "no"), "caught_up": ("已同步", "caught up"), "running": ("采集中", "running"),
        "failing": ("失败重试中", "failing"), "stopped": ("已停止", "stopped"), "idle": ("空闲", "idle"), "paused": ("已暂停", "paused"),
    ]

    /// Why a provider record was quarantined.
    static let rejections: [String: Pair] = [
        "future_date": ("日期在未来", "date in the future"), "invalid": ("格式不符", "malformed"), "invalid_date": ("日期无效", "bad date"),
        "invalid_decimal": ("数值无效", "bad number"), "invalid_district": ("区划代码无效", "bad district code"),
        "invalid_industry": ("行业代码无效", "bad industry code"), "invalid_integer": ("整数无效", "bad integer"),
        "invalid_money": ("金额无效", "bad amount"), "invalid_op": ("操作类型无效", "bad operation"), "invalid_period": ("所属期无效", "bad period"),
        "invalid_resident_id": ("身份证号无效", "bad ID number"), "invalid_timestamp": ("时间无效", "bad time"),
        "invalid_version": ("版本号无效", "bad version"), "invalid_year": ("年度无效", "bad year"), "missing_field": ("缺少字段", "missing field"),
        "no_data_key": ("缺少加密密钥", "no data key"), "not_an_object": ("不是对象", "not an object"),
        "record_id_mismatch": ("记录号不符", "record id mismatch"), "too_long": ("内容过长", "too long"),
        "unknown_enum": ("取值不在列表中", "unknown value"),
        "wrong_type": ("类型错误", "wrong type"), "invalid_uscc": ("统一社会信用代码无效", "bad USCC"),
    ]

    /// A column by its heading: a grade's column by the grade itself.
    static func column(_ name: String, _ lang: Lang) -> String {
        if let p = columns[name] { return lang.t(p.zh, p.en) }
        return ["A", "B", "C", "D", "M"].contains(name) ? name : lang.t("其他", "other")
    }

    /// A row's key in words: a code of any breakdown, a dataset, a feature, a commitment, a
    /// decline reason; a month, a bank's name or a scorecard version as it is.
    static func key(_ k: String, _ lang: Lang, by: String = "") -> String {
        let zh = !lang.english
        if let p = keys[k] { return lang.t(p.zh, p.en) }
        // One letter is a grade in a table by grade, an industry's section in one by industry.
        if by == "grade" { return k }
        if let p = Names.districts[k] { return zh ? p.zh : p.en }
        if by == "industry", let p = Names.industrySections[k] { return zh ? p.zh : p.en }
        if let p = Names.sizes[k] ?? Names.entityTypes[k] ?? Words.productKinds[k] { return zh ? p.zh : p.en }
        if let d = Dataset(rawValue: k) { return PortalHtml.dataset(d, lang) }
        if let f = Feature(rawValue: k) { return zh ? f.definition.zh : f.definition.en }
        if let c = Commitments.Kind(rawValue: k) { return zh ? c.zh : c.en }
        if PortalHtml.declineReasons[k] != nil { return PortalHtml.declineReason(k, lang) }
        return k
    }

    /// A text cell in words (`invalid_uscc: 3, missing_field: 1` reads as reasons with counts).
    static func text(_ s: String, _ lang: Lang) -> String {
        if let p = values[s] { return lang.t(p.zh, p.en) }
        if let provider = ProviderName(rawValue: s) { return PortalHtml.provider(provider.rawValue, lang) }
        if s.hasPrefix("{") {
            let inner = s.filter { !"{}\"".contains($0) }.trimmingCharacters(in: .whitespaces)
            guard !inner.isEmpty else { return "–" }
            return inner.split(separator: ",").map { part -> String in
                let kv = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                let name = rejections[kv[0]].map { lang.t($0.zh, $0.en) } ?? lang.t("其他", "other")
                return kv.count > 1 ? "\(name) \(kv[1])" : name
            }.joined(separator: lang.t("；", "; "))
        }
        return s
    }
}
