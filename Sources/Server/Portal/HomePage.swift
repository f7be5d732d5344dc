import CreditCore
import Foundation
import Store

/// `/`: sends each kind of person to their place — a signed-in person straight home, anyone
/// else to a choice of doors, in Chinese first (English on the switch).
enum HomePage {
    /// Where a signed-in person of this kind works.
    static func home(of kind: OrgKind) -> String? {
        switch kind {
        case .enterprise: "/portal"
        case .bank: "/portal/bank"
        case .regulator: "/dashboard"
        case .operator: "/console"
        case .procurement: nil
        }
    }

    static func render(lang: Lang) -> String {
        let e = Html.escape
        let doors: [(String, String, String, String, String)] = [
            (
                "/portal/login", "企业", "Businesses",
                "查看信用体检和记录，提出融资需求，比较银行报价，管理授权与异议。",
                "Your credit check-up and records, financing demands, banks' offers, authorisations and objections."
            ),
            (
                "/portal/login?next=/portal/bank", "银行信贷人员", "Bank credit officers",
                "处理融资需求队列，经授权查询企业信用，贷后监测与放款结果。",
                "The demand queue, authorised look-ups, monitoring and loan outcomes."
            ),
            (
                "/dashboard/login", "监管部门", "Regulators",
                "普惠金融、银行服务、数据质量与模型健康的统计看板。",
                "Statistics on inclusion, banks' service, data quality and the model's health."
            ),
            (
                "/console/login", "平台运营人员", "The service's operators",
                "处理异议与信用修复申请，管理机构、人员与密钥，查看数据源与统计更新。",
                "Objections and repair applications, organisations, people and keys, feeds and statistics."
            ),
            (
                "/portal/catalogue", "公众", "Everyone",
                "无需登录，浏览各银行公布的融资产品。",
                "Browse the banks' published products without signing in."
            ),
        ]
        let cards = doors.map { path, zh, en, dzh, den in
            "<a class=\"door card\" href=\"\(e(path))\"><strong>\(e(lang.t(zh, en)))</strong><span>\(e(lang.t(dzh, den)))</span></a>"
        }.joined()
        return """
            <p>\(lang.t("南通市公共信用信息与融资对接服务：企业的信用画像、银行的授权查询、监管的统计，一处办理。", "The city's credit information and financing service: businesses' credit profiles, banks' authorised look-ups and regulators' statistics in one place."))</p>
            <nav class="doors" aria-label="\(lang.t("请选择您的身份", "Who are you"))">\(cards)</nav>
            <p class="note">\(lang.t("每个人用自己的账号登录；银行和运营人员须输入动态验证码。机构系统接入请使用 API 密钥（见接口文档）。", "Everyone signs in with their own login; bank and operator staff also type a code from their authenticator app. Machines use API keys (see the API's documentation)."))</p>
            """
    }
}
