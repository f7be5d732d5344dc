import CreditCore
import Foundation
import Hummingbird
import Store

/// The portal's language: Chinese by default, English when the visitor chose it (a cookie).
struct Lang: Sendable {
    static let cookie = "xyd_lang"
    let english: Bool

    init(english: Bool) { self.english = english }

    init(_ request: Request) {
        var en = false
        for field in request.headers[values: .cookie] {
            for part in field.split(separator: ";") where part.trimmingCharacters(in: .whitespaces) == "\(Lang.cookie)=en" { en = true }
        }
        english = en
    }

    /// The text in the chosen language.
    func t(_ zh: String, _ en: String) -> String { english ? en : zh }
    var code: String { english ? "en" : "zh-CN" }
}

/// The portal's pages: layout, navigation per role, forms with CSRF tokens, the score gauge.
enum PortalHtml {
    static let businessNav = [
        Html.Nav(path: "/portal", zh: "信用体检", en: "Credit check-up"),
        Html.Nav(path: "/portal/access", zh: "谁查看了我", en: "Who looked at me"),
        Html.Nav(path: "/portal/financing", zh: "融资", en: "Financing"),
        Html.Nav(path: "/portal/governance", zh: "异议·修复·承诺", en: "Objections, repair, commitments"),
        Html.Nav(path: "/portal/reports", zh: "信用报告", en: "Credit report"),
        Html.Nav(path: "/portal/messages", zh: "消息", en: "Messages"),
    ]

    static let bankNav = [
        Html.Nav(path: "/portal/bank", zh: "融资需求", en: "Demands"),
        Html.Nav(path: "/portal/bank/loans", zh: "贷款表现", en: "Loan outcomes"),
        Html.Nav(path: "/portal/bank/lookup", zh: "企业查询", en: "Look up a business"),
        Html.Nav(path: "/portal/bank/events", zh: "贷后监测", en: "Monitoring events"),
    ]

    static let consoleNav = [
        Html.Nav(path: "/console", zh: "总览", en: "Overview"),
        Html.Nav(path: "/console/objections", zh: "异议", en: "Objections"),
        Html.Nav(path: "/console/repairs", zh: "信用修复", en: "Repairs"),
        Html.Nav(path: "/console/orgs", zh: "机构与人员", en: "Organisations"),
        Html.Nav(path: "/console/feeds", zh: "数据源", en: "Feeds"),
        Html.Nav(path: "/console/scorecards", zh: "评分卡", en: "Scorecards"),
    ]

    /// Where a kind of person's pages live: the console for operators, the portal otherwise.
    static func area(of kind: OrgKind) -> String { kind == .operator ? "/console" : "/portal" }

    static let css = """
        .portal header{background:#0f4c5c}.flash{background:#e8f5e9;border:1px solid #a5d6a7;padding:.5rem .8rem;border-radius:4px}
        .flash.err{background:#fdecea;border-color:#f5a6a6}.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.8rem;margin:.8rem 0}
        .grid2{display:grid;grid-template-columns:minmax(260px,1fr) 2fr;gap:1rem}@media (max-width:760px){.grid2{grid-template-columns:1fr}header nav{width:100%}}
        .badge{display:inline-block;border-radius:3px;padding:0 .4rem;font-size:.8rem;border:1px solid var(--line);background:#eef2f6;color:var(--ink)}
        .badge.disputed,.badge.overdue,.badge.declined,.badge.broken{background:#fdecea;border-color:#f5a6a6;color:#8e1b1b}
        .badge.granted,.badge.kept,.badge.live,.badge.disbursed{background:#e8f5e9;border-color:#a5d6a7;color:#1b5e20}
        .badge.unpublished,.badge.repaired,.badge.suppressed{background:#fff4e0;border-color:#f3c98b;color:#6d4100}
        form.stack label{display:block;margin:.6rem 0 .2rem;font-weight:600}form.stack input[type=text],form.stack input[type=number],form.stack textarea,form.stack select{width:100%;max-width:32rem;padding:.4rem;border:1px solid #8a96a3;border-radius:3px}
        form.stack input:invalid:not(:placeholder-shown),form.stack textarea:invalid:not(:placeholder-shown){border-color:var(--red);background:#fff6f6}
        form.stack .hint{font-size:.85rem;color:var(--muted);margin:.1rem 0}form.inline{display:inline}form.stack label.inl{display:inline;margin:0 0 0 .3rem;font-weight:400}form.stack fieldset label:not(.inl){font-weight:600}
        .btn{display:inline-block;font:inherit;padding:.35rem .9rem;border-radius:3px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none;margin:.2rem 0}
        .btn.secondary{background:#fff;color:var(--accent)}.btn.danger{background:var(--red);border-color:var(--red)}
        a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #f9a825;outline-offset:1px}
        .scroll{overflow-x:auto}.muted{color:var(--muted)}details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
        .step{border-left:4px solid var(--green);padding:.2rem .6rem;margin:.4rem 0;background:#fff}
        .portal th,.portal td{text-align:left}.inl{display:inline}svg text.gv{font-size:28px;font-weight:700}svg text.gg{font-size:14px}pre.wrap{white-space:pre-wrap;word-break:break-all}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.35rem 1rem;margin:.5rem 0}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
        .offers{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:1rem}.offers .card{margin:0}
        @media print{header,.noprint{display:none}body{background:#fff}details>*{display:block}details>summary{list-style:none}}
        .portal .btn,.portal button,.portal summary,.portal header a,.portal nav a{min-height:24px;min-width:24px}
        form.filters{display:flex;flex-wrap:wrap;gap:.3rem .8rem;align-items:end;background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6rem;margin:.6rem 0}
        form.filters label{display:block;font-size:.85rem;color:var(--muted)}form.filters input,form.filters select{padding:.3rem;border:1px solid #8a96a3;border-radius:3px;max-width:100%}
        .doors{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem;margin:1rem 0}
        a.door{display:flex;flex-direction:column;gap:.4rem;color:var(--ink);text-decoration:none;margin:0}a.door strong{font-size:1.15rem;color:var(--accent)}
        a.door:hover{border-color:var(--accent)}a.door.alert{border-left:4px solid var(--red)}
        .tabs{display:flex;flex-wrap:wrap;gap:.3rem .9rem;margin:.4rem 0}.tabs a{padding:.3rem 0}.tabs a[aria-current]{font-weight:700;text-decoration:none;border-bottom:3px solid var(--accent)}
        header details.menu{display:none}
        @media (max-width:600px){
        .portal header{padding:.3rem .6rem;gap:.4rem}.portal header>nav{display:none}.portal header details.menu{display:block;order:3;width:100%}
        .portal header details.menu nav{display:flex;flex-direction:column;gap:.2rem;padding:.3rem 0}.portal header details.menu a{padding:.45rem .4rem}
        .portal header summary{color:#fff;padding:.3rem .2rem}.portal header .who{font-size:.8rem}
        .portal .scroll{overflow-x:visible}.portal main{padding:.6rem}
        .portal table.cards,.portal table.cards tbody,.portal table.cards tr,.portal table.cards td{display:block;width:100%}
        .portal table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
        .portal table.cards caption{display:block;text-align:left}
        .portal table.cards tr{border:1px solid var(--line);border-radius:6px;margin:.5rem 0;padding:.4rem .6rem;background:#fff;box-sizing:border-box}
        .portal table.cards td{border:none;padding:.15rem 0;overflow-wrap:anywhere}
        .portal table.cards td::before{content:attr(data-label);display:block;font-size:.8rem;color:var(--muted)}
        .portal dl.facts{grid-template-columns:1fr}.portal .grid2{grid-template-columns:1fr}
        .portal input,.portal select,.portal textarea{max-width:100%;box-sizing:border-box}
        }
        """

    /// A whole portal page for a signed-in business or bank officer.
    static func page(
        title: String,
        current: String,
        session: Sessions.Session?,
        lang: Lang,
        body: String,
        flash: String? = nil,
        error: String? = nil,
        here: String? = nil,
        unread: Int = 0
    ) -> String {
        let e = Html.escape
        var links = ""
        if let s = session {
            // An organisation's admin also manages its people.
            let people =
                s.principal.reaches(.admin) && s.principal.kind != .operator
                ? [Html.Nav(path: "/portal/users", zh: "人员", en: "People")] : []
            let nav = s.principal.kind == .operator ? consoleNav : s.principal.kind == .bank ? bankNav : businessNav
            for n in nav + people {
                // The message centre's entry carries the number unread.
                let count =
                    n.path == "/portal/messages" && unread > 0
                    ? " <span class=\"badge live\" aria-label=\"\(lang.t("\(unread) 条未读", "\(unread) unread"))\">\(unread)</span>" : ""
                links += "<a href=\"\(n.path)\"\(n.path == current ? " aria-current=\"page\"" : "")>\(e(lang.t(n.zh, n.en)))\(count)</a>"
            }
        }
        var who = ""
        if let s = session {
            let role =
                switch s.principal.kind {
                case .bank: lang.t("银行", "bank")
                case .operator: lang.t("平台运营", "operator")
                default: lang.t("企业", "business")
                }
            let area = area(of: s.principal.kind)
            who = """
                <span class="who">\(e(s.principal.user.map { $0.name + " · " } ?? ""))\(e(s.principal.orgName)) · \(role)
                \(s.principal.user == nil ? "" : "<a href=\"\(area)/password\">\(lang.t("修改密码", "Password"))</a>")
                <form method="post" action="\(area)/logout"><input type="hidden" name="csrf" value="\(e(s.csrfToken))">
                <button type="submit">\(lang.t("退出", "Sign out"))</button></form></span>
                """
        }
        let other = lang.english ? "zh" : "en"
        let langLink =
            "<a href=\"/portal/lang?to=\(other)&amp;next=\(e(percent(here ?? (current.isEmpty ? "/portal/login" : current))))\" lang=\"\(lang.english ? "zh-CN" : "en")\">\(lang.english ? "中文" : "English")</a>"
        let notices =
            (flash.map { "<p class=\"flash\" role=\"status\">\(e($0))</p>" } ?? "")
            + (error.map { "<p class=\"flash err\" role=\"alert\">\(e($0))</p>" } ?? "")
        return """
            <!doctype html>
            <html lang="\(lang.code)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>\(e(title)) · \(lang.t("信易贷", "Xinyidai"))</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/portal.css"></head>
            <body class="portal"><a class="skip" href="#main">\(lang.t("跳到正文", "Skip to content"))</a>
            <header><strong>\(lang.t("信易贷", "Xinyidai"))</strong><nav aria-label="\(lang.t("主导航", "main"))">\(links)</nav>\(who)\(langLink)\(links.isEmpty ? "" : "<details class=\"menu\"><summary>\(lang.t("菜单", "Menu"))</summary><nav aria-label=\"\(lang.t("主导航", "main"))\">\(links)</nav></details>")</header>
            <main id="main"><h1>\(e(title))</h1>\(notices)\(body)</main></body></html>
            """
    }

    static func percent(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "/-_.~"))) ?? ""
    }

    /// A hidden CSRF field for a form of this session.
    static func csrf(_ s: Sessions.Session?) -> String {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(Html.escape(s?.csrfToken ?? ""))\">"
    }

    /// A one-button POST form (take up, revoke, …).
    static func button(
        _ action: String,
        _ label: String,
        session: Sessions.Session?,
        style: String = "btn",
        fields: [String: String] = [:]
    ) -> String {
        var hidden = csrf(session)
        for (k, v) in fields.sorted(by: { $0.key < $1.key }) {
            hidden += "<input type=\"hidden\" name=\"\(Html.escape(k))\" value=\"\(Html.escape(v))\">"
        }
        return
            "<form class=\"inline\" method=\"post\" action=\"\(Html.escape(action))\">\(hidden)<button class=\"\(style)\" type=\"submit\">\(Html.escape(label))</button></form>"
    }

    static func badge(_ cls: String, _ text: String) -> String { "<span class=\"badge \(Html.escape(cls))\">\(Html.escape(text))</span>" }

    /// A table with a header row; cells are HTML already.
    static func table(_ caption: String, _ head: [String], _ rows: [[String]], empty: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">\(Html.escape(empty))</p>" }
        // On a phone each row becomes a card, each cell under its column's name (`data-label`).
        var out = "<div class=\"scroll\"><table class=\"cards\"><caption class=\"muted\">\(Html.escape(caption))</caption><thead><tr>"
        for h in head { out += "<th scope=\"col\">\(Html.escape(h))</th>" }
        out += "</tr></thead><tbody>"
        for r in rows {
            out +=
                "<tr>"
                + r.enumerated().map { i, cell in
                    "<td data-label=\"\(Html.escape(i < head.count ? head[i] : ""))\">\(cell)</td>"
                }.joined() + "</tr>"
        }
        return out + "</tbody></table></div>"
    }

    /// The score on a half-dial from 0 to 1000, the grade bands coloured.
    static func gauge(score: Int?, grade: String?, grades: [Scorecard.Grade], lang: Lang) -> String {
        let w = 260.0
        let h = 196.0
        let cx = 130.0
        let cy = 118.0
        let r = 100.0
        func point(_ v: Double, _ radius: Double) -> (Double, Double) {
            let a = Double.pi * (1 - v / 1000)
            return (cx + radius * cos(a), cy - radius * sin(a))
        }
        func f(_ x: Double) -> String { String(format: "%.1f", x) }
        let colours = ["A": "#2e7d32", "B": "#7cb342", "C": "#f9a825", "D": "#c62828"]
        var arcs = ""
        var upper = 1000
        for g in grades {
            let (x1, y1) = point(Double(g.minScore), r)
            let (x2, y2) = point(Double(upper), r)
            arcs +=
                "<path d=\"M\(f(x1)) \(f(y1)) A\(f(r)) \(f(r)) 0 0 1 \(f(x2)) \(f(y2))\" stroke=\"\(colours[g.grade] ?? "#888")\" stroke-width=\"18\" fill=\"none\"><title>\(g.grade): \(g.minScore)–\(upper == 1000 ? upper : upper - 1)</title></path>"
            upper = g.minScore
        }
        var needle = ""
        if let score {
            let (x, y) = point(Double(min(max(score, 0), 1000)), r - 22)
            needle =
                "<line x1=\"\(f(cx))\" y1=\"\(f(cy))\" x2=\"\(f(x))\" y2=\"\(f(y))\" stroke=\"#1d2733\" stroke-width=\"4\" stroke-linecap=\"round\"/><circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"6\" fill=\"#1d2733\"/>"
        }
        let label = score.map { "\($0)" } ?? lang.t("暂无评分", "no score")
        let title = lang.t("信用评分", "Credit score") + " " + label + (grade.map { " · " + lang.t("等级", "grade") + " " + $0 } ?? "")
        let desc = lang.t(
            "0 至 1000 分的半圆刻度：A ≥ 800，B 650–799，C 500–649，D < 500。",
            "A dial from 0 to 1000: A ≥ 800, B 650–799, C 500–649, D < 500."
        )
        return """
            <svg role="img" aria-labelledby="g-t g-d" viewBox="0 0 \(Int(w)) \(Int(h))" width="\(Int(w))" height="\(Int(h))">
            <title id="g-t">\(Html.escape(title))</title><desc id="g-d">\(Html.escape(desc))</desc>\(arcs)\(needle)
            <text x="\(f(cx))" y="\(f(cy + 42))" text-anchor="middle" class="gv">\(Html.escape(label))</text>
            <text x="\(f(cx))" y="\(f(cy + 66))" text-anchor="middle" class="gg">\(Html.escape(grade.map { lang.t("等级 ", "Grade ") + $0 } ?? ""))</text>
            </svg>
            """
    }

    static let declineReasons: [String: (String, String)] = [
        "insufficient_credit_history": ("信用记录不足", "insufficient credit history"),
        "insufficient_repayment_capacity": ("还款能力不足", "insufficient repayment capacity"),
        "high_existing_debt": ("现有负债过高", "existing debt too high"),
        "industry_policy": ("行业政策限制", "industry policy"),
        "incomplete_documents": ("材料不全", "incomplete documents"),
        "collateral_insufficient": ("担保不足", "insufficient collateral"),
        "other": ("其他", "other"),
    ]

    static func declineReason(_ code: String, _ lang: Lang) -> String {
        declineReasons[code].map { lang.t($0.0, $0.1) } ?? code
    }

    static let demandStates: [String: (String, String)] = [
        "open": ("待银行响应", "open: waiting for a bank"), "taken_up": ("银行已受理", "taken up by a bank"),
        "granted": ("已接受报价", "offer accepted"), "declined": ("已拒绝", "declined"), "disbursed": ("已放款", "disbursed"),
        "withdrawn": ("已撤回", "withdrawn"), "expired": ("已过期", "expired"),
    ]

    /// A product's indicative amount rule in words.
    static func quota(_ q: Quota, _ lang: Lang) -> String {
        var s: String
        switch q.basis {
        case .taxPaidMultiple(let t):
            s = lang.t("近12个月纳税额的 \(t / 10).\(t % 10) 倍", "\(t / 10).\(t % 10) times the tax paid in the last 12 months")
        case .perInsuredEmployee(let f):
            s = lang.t("每名参保职工 \(yuan(f))", "\(yuan(f)) per insured employee")
        }
        let caps = Rule.grades.compactMap { g in q.capByGrade[g].map { lang.t("\(g) 级最高 \(yuan($0))", "grade \(g) at most \(yuan($0))") } }
        if !caps.isEmpty { s += lang.t("；", "; ") + caps.joined(separator: lang.t("，", ", ")) }
        return s
    }

    static func repayment(_ r: Repayment, _ lang: Lang) -> String {
        switch r {
        case .equalInstalments: lang.t("等额本息", "equal monthly instalments")
        case .interestOnly: lang.t("按月付息、到期还本", "interest monthly, principal at the end")
        }
    }

    static let lapseReasons: [String: (String, String)] = [
        "other_accepted": ("企业接受了其他银行的报价", "the business accepted another bank's offer"),
        "demand_withdrawn": ("企业撤回了需求", "the business withdrew the demand"),
        "decision_overdue": ("银行未在期限内决定", "the bank did not decide in time"),
        "offer_expired": ("报价过了有效期", "the offer passed its validity"),
        "business_revoked": ("企业撤销了该银行的查看授权", "the business revoked the bank's access"),
    ]

    static func lapseReason(_ code: String, _ lang: Lang) -> String { lapseReasons[code].map { lang.t($0.0, $0.1) } ?? code }

    static func demandState(_ s: String, _ lang: Lang) -> String { demandStates[s].map { lang.t($0.0, $0.1) } ?? s }

    /// A loan's monthly outcome in words (`Demands.outcomeStatuses`).
    static let outcomeStatuses: [String: (String, String)] = [
        "current": ("正常还款", "current"), "overdue_30": ("逾期 30 天以上", "30+ days overdue"),
        "overdue_90": ("逾期 90 天以上", "90+ days overdue"), "defaulted": ("违约", "defaulted"), "repaid": ("已结清", "repaid"),
    ]

    static func outcomeStatus(_ s: String, _ lang: Lang) -> String { outcomeStatuses[s].map { lang.t($0.0, $0.1) } ?? s }

    /// Objections', repairs' and commitments' states in words.
    static let governanceStates: [String: (String, String)] = [
        "open": ("待答复", "awaiting an answer"), "upheld": ("异议成立", "upheld"), "rejected": ("已驳回", "rejected"),
        "unverifiable": ("经核查无法确认（已记载）", "could not be verified (recorded)"),
        "approved": ("已批准", "approved"), "in_progress": ("进行中", "in progress"), "kept": ("已履行", "kept"), "broken": ("已违背", "broken"),
    ]

    /// What a business corrected before applying for repair (`Repairs.corrections`), in words.
    static let correctionNames: [String: (String, String)] = [
        "fine_paid": ("已缴清罚款", "the fine is paid"), "commitment_made": ("已作出信用承诺", "a credit commitment is made"),
        "training_done": ("已参加信用修复培训", "repair training is done"),
    ]

    static func correction(_ c: String, _ lang: Lang) -> String { correctionNames[c].map { lang.t($0.0, $0.1) } ?? c }

    static func governanceState(_ s: String, _ lang: Lang) -> String { governanceStates[s].map { lang.t($0.0, $0.1) } ?? s }

    static let datasetNames: [Dataset: (String, String)] = [
        .enterpriseRegistry: ("登记信息", "register"), .taxFiling: ("纳税申报", "tax returns"), .taxCreditRating: ("纳税信用等级", "tax credit grade"),
        .socialInsurance: ("社会保险", "social insurance"), .utilityBill: ("水电气缴费", "utility bills"),
        .contractPerformance: ("合同履约", "contracts"), .administrativeLicence: ("行政许可", "licences"),
        .administrativePenalty: ("行政处罚", "penalties"), .dishonestyListing: ("失信名单", "dishonesty lists"),
    ]

    static func dataset(_ d: Dataset, _ lang: Lang) -> String { datasetNames[d].map { lang.t($0.0, $0.1) } ?? d.rawValue }

    static let providerNames: [String: (String, String)] = [
        "amr": ("市场监管部门", "market regulation"), "tax": ("税务部门", "tax bureau"), "hrss": ("人社部门", "human resources and social security"),
        "utilities": ("水电气公司", "utilities"), "contracts": ("合同履约平台", "contract platform"), "credit": ("信用平台", "credit platform"),
    ]

    static func provider(_ p: String, _ lang: Lang) -> String { providerNames[p].map { lang.t($0.0, $0.1) } ?? p }

    /// The providers' codes a record shows (statuses, types), in words.
    static let codeNames: [String: (String, String)] = [
        "active": ("存续", "active"), "suspended": ("停业", "suspended"), "revoked": ("吊销", "revoked"), "deregistered": ("注销", "deregistered"),
        "vat": ("增值税", "VAT"), "corporate_income": ("企业所得税", "corporate income tax"),
        "individual_income_withholding": ("个人所得税代扣", "income tax withheld"), "stamp": ("印花税", "stamp duty"), "other": ("其他", "other"),
        "electricity": ("电费", "electricity"), "water": ("水费", "water"), "gas": ("燃气费", "gas"),
        "performing": ("履行中", "performing"), "fulfilled": ("已履约", "fulfilled"), "overdue": ("逾期", "overdue"),
        "breached": ("违约", "breached"), "disputed": ("有纠纷", "disputed"), "terminated": ("已终止", "terminated"),
        "judgment_defaulter": ("失信被执行人", "judgment defaulter"), "major_tax_violation": ("重大税收违法", "major tax violation"),
        "procurement_serious_dishonesty": ("政府采购严重失信", "serious dishonesty in procurement"), "wage_arrears": ("拖欠农民工工资", "wage arrears"),
        "safety_production": ("安全生产失信", "work-safety dishonesty"),
    ]

    /// A request field by the label its form gives it.
    static let fieldNames: [String: (String, String)] = [
        "amount_fen": ("金额", "amount"), "term_months": ("期限", "term"), "purpose": ("用途", "purpose"), "rate_bp": ("年利率", "yearly rate"),
        "reason": ("理由", "reason"), "text": ("说明", "explanation"), "evidence": ("证明材料", "evidence"), "record_id": ("记录号", "record"),
        "dataset": ("数据集", "dataset"), "corrections": ("已完成的纠正", "corrections made"), "kind": ("承诺内容", "commitment"),
        "months": ("承诺期限", "period"), "scopes": ("可查看的范围", "what it may see"), "bank_org_id": ("银行", "bank"),
        "expires_at": ("授权期限", "period"), "disbursed_on": ("放款日期", "disbursed on"), "month": ("月份", "month"),
        "status": ("还款表现", "repayment"), "product_id": ("产品", "product"), "resolution": ("处理说明", "resolution"),
        "record": ("记录", "record"), "repayment": ("还款方式", "repayment"), "valid_until": ("报价有效期", "valid until"),
        "conditions": ("条件", "conditions"), "login": ("账号", "login"), "name": ("名称", "name"), "staff_number": ("工号", "staff number"),
        "role": ("角色", "role"), "uscc": ("统一社会信用代码", "USCC"), "system_name": ("系统名称", "system's name"),
        "label": ("用途说明", "label"), "org_kind": ("机构类型", "kind of organisation"), "user_id": ("人员", "person"),
    ]

    static func fieldName(_ field: String, _ lang: Lang) -> String {
        fieldNames[field].map { lang.t($0.0, $0.1) } ?? lang.t("填写的内容", "a field")
    }

    static func code(_ c: String, _ lang: Lang) -> String { codeNames[c].map { lang.t($0.0, $0.1) } ?? c }

    /// `¥1,234.56` from fen.
    static func yuan(_ fen: Int64) -> String { Html.yuanExact(fen) }

    /// A rate in basis points as `4.35%`.
    static func rate(_ bp: Int) -> String { "\(bp / 100).\(String(bp % 100).leftPadded(2))%" }

    /// A moment as China's day and time, `2026-11-29 00:54` (China keeps one offset all year;
    /// arithmetic, not a formatter built per table row).
    static func day(_ d: Date) -> String {
        let t = Int(d.timeIntervalSince1970.rounded(.down)) + Day.chinaOffsetSeconds
        let s = (t % 86_400 + 86_400) % 86_400
        return "\(Day.inChina(d)) \(String(s / 3600).leftPadded(2)):\(String(s % 3600 / 60).leftPadded(2))"
    }
}
