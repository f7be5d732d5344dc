import CreditCore
import Foundation

/// The service's own codes (scopes, purposes, states, audit actions, event types) in the words
/// people read, Chinese and English. Pages show these, never the codes; an unknown code reads
/// "其他 / other" rather than leaking an identifier.
enum Words {
    typealias Pair = (zh: String, en: String)

    static let scopes: [String: Pair] = [
        "profile": ("信用档案", "credit profile"), "report": ("信用报告", "credit report"), "records": ("原始记录", "records"),
    ]
    static let purposes: [String: Pair] = [
        "loan_application": ("贷款申请", "loan application"), "post_loan_monitoring": ("贷后监测", "post-loan monitoring"),
        "credit_line_review": ("授信审查", "credit line review"), "self": ("本企业查询", "own read"),
    ]
    static let productKinds: [String: Pair] = [
        "credit": ("信用贷款", "unsecured"), "secured": ("抵押贷款", "secured"), "guaranteed": ("保证贷款", "guaranteed"),
    ]
    static let authorisationStatuses: [String: Pair] = [
        "live": ("有效", "in force"), "expired": ("已到期", "expired"), "revoked": ("已撤销", "revoked"),
    ]
    static let results: [String: Pair] = ["allowed": ("已查询", "read"), "denied": ("被拒绝", "refused")]
    static let actorKinds: [String: Pair] = [
        "enterprise": ("企业", "business"), "bank": ("银行", "bank"), "system": ("系统", "the service"), "operator": ("运营方", "operator"),
        "regulator": ("监管部门", "regulator"), "procurement": ("采购单位", "procurement body"),
    ]
    /// What each audited action is, as a business reads it in "who looked at me".
    static let actions: [String: Pair] = [
        "profile.read": ("查询信用档案", "read the credit profile"), "records.read": ("查询原始记录", "read the records"),
        "report.create": ("出具信用报告", "produced a credit report"), "report.read": ("调阅信用报告", "fetched a credit report"),
        "advice.read": ("查看提升建议", "read the advice"), "events.read": ("查看贷后监测事件", "read monitoring events"),
        "demand.take_up": ("受理融资需求", "took up the financing demand"), "demand.pass": ("放弃融资需求", "passed on the demand"),
        "demand.grant": ("批准贷款", "approved the loan"), "demand.decline": ("拒绝贷款", "declined the loan"),
        "demand.disburse": ("发放贷款", "disbursed the loan"), "demand.post": ("发布融资需求", "posted a demand"),
        "demand.withdraw": ("撤回融资需求", "withdrew a demand"), "loan.outcome": ("登记还款表现", "reported repayment"),
        "loan.outcomes_read": ("查看还款表现", "read repayment reports"), "authorisation.grant": ("授权", "authorised"),
        "authorisation.revoke": ("撤销授权", "revoked an authorisation"), "access.refused": ("访问被拒绝", "access refused"),
        "objection.raise": ("提出异议", "objected"), "repair.apply": ("申请信用修复", "applied for repair"),
        "commitment.make": ("作出信用承诺", "made a commitment"), "demand.offer": ("提出报价", "made an offer"),
    ]
    /// Monitoring events a bank receives.
    static let events: [String: Pair] = [
        "profile.grade_changed": ("信用等级变化", "grade changed"), "profile.score_moved": ("评分大幅变动", "score moved"),
        "record.new_penalty": ("新增行政处罚", "new penalty"), "record.new_blacklisting": ("列入失信名单", "new listing"),
        "arrears.tax_started": ("开始欠税", "tax arrears started"),
        "arrears.social_insurance_started": ("开始欠缴社保", "social-insurance arrears started"),
        "demand.state_changed": ("融资需求状态变化", "demand state changed"), "record.corrected": ("记录已更正", "record corrected"),
        "record.repaired": ("处罚已修复", "penalty repaired"), "record.listing_removed": ("移出失信名单", "listing removed"),
        "demand.offer_lapsed": ("本行报价或受理失效", "this bank's offer or take-up lapsed"),
    ]

    /// A code from one of the tables above in the page's language.
    static func word(_ table: [String: Pair], _ code: String, _ lang: Lang) -> String {
        guard let p = table[code] else { return lang.t("其他", "other") }
        return lang.t(p.zh, p.en)
    }
}
