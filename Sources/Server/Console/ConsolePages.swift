import CreditCore
import Foundation
import Store

/// The operator's console (`/console`), page by page: pure functions of what `ConsoleRoutes`
/// loads, in the portal's look (phone-first, stacked cards), Chinese first.
enum ConsolePages {
    static let e = Html.escape

    static let kindNames: [OrgKind: (String, String)] = [
        .enterprise: ("企业", "business"), .bank: ("银行", "bank"), .regulator: ("监管部门", "regulator"),
        .operator: ("平台运营", "operator"), .procurement: ("采购与招标", "procurement"),
    ]

    /// The statistics tables by what they feed (the dashboard's pages).
    static let statTableNames: [String: (String, String)] = [
        "demands": ("融资需求与普惠金融", "demands and inclusion"), "banks": ("银行服务", "bank service"),
        "quality": ("数据质量", "data quality"), "model": ("模型健康", "model health"),
    ]

    static func kind(_ k: OrgKind, _ lang: Lang) -> String { kindNames[k].map { lang.t($0.0, $0.1) } ?? k.rawValue }

    /// A deadline: its day, and how late or how near.
    static func due(_ dueOn: String, overdue: Bool, today: Day, _ lang: Lang) -> String {
        guard let day = Day(dueOn) else { return e(dueOn) }
        if overdue || day < today {
            return PortalHtml.badge("overdue", lang.t("已逾期（\(dueOn) 到期）", "Overdue (due \(dueOn))"))
        }
        let left = today.workingDays(until: day)
        return PortalHtml.badge("", lang.t("\(dueOn) 到期 · 剩 \(left) 个工作日", "Due \(dueOn) · \(left) working days left"))
    }

    // MARK: Overview

    struct Overview {
        var objectionsOpen = 0
        var objectionsOverdue = 0
        var repairsOpen = 0
        var repairsOverdue = 0
        var feeds: [IngestStore.DatasetStatus] = []
        var active: Scorecards.Published?
        var activatedAt: Date?
        var freshness: Stats.Freshness?
        var tables: [ConsoleReads.StatTableState] = []
    }

    static func overview(_ m: Overview, lang: Lang) -> String {
        let troubled = m.feeds.filter { $0.status == "stopped" || $0.status == "failing" }
        let quarantined = m.feeds.reduce(Int64(0)) { $0 + $1.quarantined }
        func tile(_ href: String, _ title: String, _ figure: String, _ note: String, alert: Bool) -> String {
            """
            <a class="door card\(alert ? " alert" : "")" href="\(href)"><strong>\(e(title))</strong><span class="figure">\(e(figure))</span><span>\(note)</span></a>
            """
        }
        var body = "<nav class=\"doors\" aria-label=\"\(lang.t("待办", "To do"))\">"
        body += tile(
            "/console/objections",
            lang.t("异议", "Objections"),
            lang.t("\(m.objectionsOpen) 件待答复", "\(m.objectionsOpen) awaiting an answer"),
            m.objectionsOverdue > 0
                ? PortalHtml.badge("overdue", lang.t("\(m.objectionsOverdue) 件已逾期", "\(m.objectionsOverdue) overdue"))
                : e(lang.t("没有逾期", "None overdue")),
            alert: m.objectionsOverdue > 0
        )
        body += tile(
            "/console/repairs",
            lang.t("信用修复申请", "Repair applications"),
            lang.t("\(m.repairsOpen) 件待决定", "\(m.repairsOpen) awaiting a decision"),
            m.repairsOverdue > 0
                ? PortalHtml.badge("overdue", lang.t("\(m.repairsOverdue) 件已逾期", "\(m.repairsOverdue) overdue"))
                : e(lang.t("没有逾期", "None overdue")),
            alert: m.repairsOverdue > 0
        )
        body += tile(
            "/console/feeds",
            lang.t("数据源", "Feeds"),
            troubled.isEmpty
                ? lang.t("\(m.feeds.count) 个数据集正常", "\(m.feeds.count) datasets fine")
                : lang.t("\(troubled.count) 个数据集有问题", "\(troubled.count) datasets in trouble"),
            e(lang.t("隔离记录共 \(quarantined) 条", "\(quarantined) records quarantined in all")),
            alert: !troubled.isEmpty
        )
        body += tile(
            "/console/scorecards",
            lang.t("评分卡", "Scorecards"),
            m.active.map { lang.t("启用中：\($0.version)", "Active: \($0.version)") } ?? lang.t("没有启用的评分卡", "None active"),
            e(m.activatedAt.map { lang.t("自 \(PortalHtml.day($0)) 起", "since \(PortalHtml.day($0))") } ?? ""),
            alert: m.active == nil
        )
        body += "</nav>"
        // The statistics regulators read: rebuilt on a schedule; a failed table keeps its last figures.
        let f = m.freshness
        body += "<section class=\"card\" aria-labelledby=\"stats\"><h2 id=\"stats\">\(lang.t("统计更新", "Statistics rebuilds"))</h2>"
        if let f {
            body +=
                f.stale
                ? "<p>\(PortalHtml.badge("overdue", lang.t("监管看板正显示“数据不是最新的”", "The dashboard says its figures are not current")))</p>"
                : "<p>\(PortalHtml.badge("live", lang.t("正常", "Current")))</p>"
            body +=
                "<p>\(e(lang.t("最早一张统计表的最近成功更新：", "Oldest table's last good rebuild: ")))\(f.lastGood.map(PortalHtml.day) ?? lang.t("从未", "never"))</p>"
        }
        let rows = m.tables.map { t in
            [
                e(statTableNames[t.name].map { lang.t($0.0, $0.1) } ?? t.name),
                t.refreshedAt.map(PortalHtml.day) ?? lang.t("从未", "never"),
                t.tookMs.map { lang.t("\($0) 毫秒", "\($0) ms") } ?? "–",
                t.failing
                    ? PortalHtml.badge(
                        "overdue",
                        lang.t(
                            "最近一次失败（\(t.failedAt.map(PortalHtml.day) ?? "")）",
                            "Last rebuild failed (\(t.failedAt.map(PortalHtml.day) ?? ""))"
                        )
                    )
                    : PortalHtml.badge("live", lang.t("正常", "Fine")),
            ]
        }
        body += PortalHtml.table(
            lang.t("各统计表", "Each table"),
            [lang.t("统计表", "Table"), lang.t("最近成功更新", "Last good rebuild"), lang.t("用时", "Took"), lang.t("状态", "State")],
            rows,
            empty: lang.t("尚未更新过。", "Never rebuilt yet.")
        )
        body +=
            "<p class=\"hint\">\(lang.t("更新失败的统计表保留上次的数据；下次定时更新成功后恢复。命令行可立即更新：xyd stats-refresh。", "A table that failed keeps its last figures until the next scheduled rebuild succeeds. To rebuild at once: xyd stats-refresh."))</p></section>"
        return body
    }

    // MARK: Objections

    static func objections(
        _ items: [Objections.Objection],
        names: [String: String],
        state: String,
        today: Day,
        lang: Lang,
        session: Sessions.Session?
    ) -> String {
        var body = stateTabs("/console/objections", ["open", "upheld", "rejected", "unverifiable"], current: state, lang: lang)
        body +=
            "<p class=\"muted\">\(lang.t("企业对自己记录提出的异议：请与提供记录的部门核实，在期限内答复。答复企业可见，并记入审计日志。", "Businesses' objections to their own records: check with the provider that sent the record and answer by the deadline. The business sees the answer; it is audited."))</p>"
        if items.isEmpty { body += "<p>\(lang.t("没有这类异议。", "None here."))</p>" }
        for o in items {
            let id = o.id.uuidString.lowercased()
            let dataset = Dataset(rawValue: o.dataset).map { PortalHtml.dataset($0, lang) } ?? o.dataset
            body += """
                <section class="card" aria-labelledby="o-\(id)"><h2 id="o-\(id)">\(e(names[o.uscc] ?? o.uscc)) · \(e(dataset))</h2>
                <p class="muted">\(e(o.uscc)) · \(lang.t("记录编号", "record")) \(e(o.recordId)) · \(lang.t("提供部门", "provider")) \(e(PortalHtml.provider(o.provider, lang)))</p>
                <p>\(PortalHtml.badge(o.state == "open" ? "" : o.state, PortalHtml.governanceState(o.state, lang))) \(o.state == "open" ? due(o.dueOn, overdue: o.overdue, today: today, lang) : "") · \(lang.t("提出于", "raised")) \(PortalHtml.day(o.createdAt))</p>
                <p><strong>\(lang.t("理由", "Reason"))</strong>\(lang.t("：", ": "))\(e(o.reason))</p>
                \(o.evidence.map { "<p><strong>\(lang.t("证明材料", "Evidence"))</strong>\(lang.t("：", ": "))\(e($0))</p>" } ?? "")
                \(o.resolution.map { "<p><strong>\(lang.t("答复", "Answer"))</strong>\(lang.t("：", ": "))\(e($0))</p>" } ?? "")
                \(o.resolvedAt.map { "<p class=\"muted\">\(lang.t("答复于", "Answered")) \(PortalHtml.day($0))</p>" } ?? "")
                """
            if o.state == "open" {
                let base = "/console/objections/\(id)"
                body += """
                    <details><summary>\(lang.t("异议成立（记录有误）", "Uphold (the record is wrong)"))</summary><form class="stack" method="post" action="\(base)/uphold">\(PortalHtml.csrf(session))
                    <p class="hint">\(lang.t("该版本记录停止使用，企业信用画像重新计算，近 90 天查询过的银行收到更正通知。", "This version of the record stops being used, the profile is recomputed, and banks that read it in the last 90 days are told."))</p>
                    <label for="ur-\(id)">\(lang.t("给企业的说明（可选）", "Note for the business (optional)"))</label>
                    <textarea id="ur-\(id)" name="resolution" maxlength="\(Objections.maxReason)" rows="2"></textarea>
                    <button class="btn" type="submit">\(lang.t("异议成立", "Uphold"))</button></form></details>
                    <details><summary>\(lang.t("驳回（记录无误）", "Reject (the record is right)"))</summary><form class="stack" method="post" action="\(base)/reject">\(PortalHtml.csrf(session))
                    <label for="rr-\(id)">\(lang.t("驳回理由（企业可见）", "Why (the business sees it)"))</label>
                    <textarea id="rr-\(id)" name="reason" required maxlength="\(Objections.maxReason)" rows="2"></textarea>
                    <button class="btn danger" type="submit">\(lang.t("驳回", "Reject"))</button></form></details>
                    <details><summary>\(lang.t("经核查无法确认", "Could not be verified"))</summary><form class="stack" method="post" action="\(base)/unverifiable">\(PortalHtml.csrf(session))
                    <p class="hint">\(lang.t("记录照常使用，但在所有显示处标注“经核查无法确认”并附上说明。", "The record stays in use, marked as unverified wherever it is shown, with this account."))</p>
                    <label for="vr-\(id)">\(lang.t("核查经过与结论", "What was checked and why it could not be confirmed"))</label>
                    <textarea id="vr-\(id)" name="reason" required maxlength="\(Objections.maxReason)" rows="2"></textarea>
                    <button class="btn secondary" type="submit">\(lang.t("记载为无法确认", "Record as unverifiable"))</button></form></details>
                    """
            }
            body += "</section>"
        }
        return body
    }

    /// Links to each state of a list, the current one marked.
    static func stateTabs(_ path: String, _ states: [String], current: String, lang: Lang) -> String {
        "<nav class=\"tabs\" aria-label=\"\(lang.t("状态", "State"))\">"
            + states.map { s in
                "<a href=\"\(path)?state=\(s)\"\(s == current ? " aria-current=\"page\"" : "")>\(e(PortalHtml.governanceState(s, lang)))</a>"
            }.joined(separator: " ") + "</nav>"
    }

    // MARK: Repairs

    static func repairs(
        _ items: [Repairs.Application],
        names: [String: String],
        state: String,
        today: Day,
        lang: Lang,
        session: Sessions.Session?
    ) -> String {
        var body = stateTabs("/console/repairs", ["open", "approved", "rejected"], current: state, lang: lang)
        body +=
            "<p class=\"muted\">\(lang.t("企业对行政处罚申请提前终止公示（信用修复）：核对整改与信用承诺，在 \(Repairs.decisionWorkingDays) 个工作日内决定。", "Businesses applying to end a penalty's publication early (credit repair): check the corrections and the commitment, and decide within \(Repairs.decisionWorkingDays) working days."))</p>"
        if items.isEmpty { body += "<p>\(lang.t("没有这类申请。", "None here."))</p>" }
        for r in items {
            let id = r.id.uuidString.lowercased()
            let corrections = r.corrections.map { PortalHtml.correction($0, lang) }.joined(separator: lang.t("、", ", "))
            body += """
                <section class="card" aria-labelledby="r-\(id)"><h2 id="r-\(id)">\(e(names[r.uscc] ?? r.uscc)) · \(lang.t("行政处罚", "penalty")) \(e(r.recordId))</h2>
                <p class="muted">\(e(r.uscc)) · \(lang.t("申请于", "applied")) \(PortalHtml.day(r.createdAt))</p>
                <p>\(PortalHtml.badge(r.state == "open" ? "" : r.state, PortalHtml.governanceState(r.state, lang))) \(r.state == "open" ? due(r.dueOn, overdue: r.overdue, today: today, lang) : "")</p>
                <p><strong>\(lang.t("已完成的整改", "Corrections made"))</strong>\(lang.t("：", ": "))\(e(corrections))</p>
                <p><strong>\(lang.t("证明材料", "Evidence"))</strong>\(lang.t("：", ": "))\(e(r.evidence))</p>
                \(r.commitmentText.map { "<details><summary>\(lang.t("信用承诺书", "Credit commitment"))\(r.signedBy.map { "（" + e($0) + lang.t(" 签署", " signed") + "）" } ?? "")</summary><p>\(e($0))</p></details>" } ?? "")
                \(r.reason.map { "<p><strong>\(lang.t("理由", "Reason"))</strong>\(lang.t("：", ": "))\(e($0))</p>" } ?? "")
                \(r.repairedOn.map { "<p>\(lang.t("公示终止于", "Publication ended on")) \(e($0))</p>" } ?? "")
                """
            if r.state == "open" {
                let base = "/console/repairs/\(id)"
                body += """
                    <details><summary>\(lang.t("批准", "Approve"))</summary><form class="stack" method="post" action="\(base)/approve">\(PortalHtml.csrf(session))
                    <p class="hint">\(lang.t("今天起停止公示该处罚，企业信用画像重新计算，近 90 天查询过的银行收到通知。", "The penalty stops being published today, the profile is recomputed, and banks that read the business in the last 90 days are told."))</p>
                    <button class="btn" type="submit">\(lang.t("批准修复", "Approve the repair"))</button></form></details>
                    <details><summary>\(lang.t("不予批准", "Reject"))</summary><form class="stack" method="post" action="\(base)/reject">\(PortalHtml.csrf(session))
                    <label for="jr-\(id)">\(lang.t("理由（企业可见）", "Why (the business sees it)"))</label>
                    <textarea id="jr-\(id)" name="reason" required maxlength="\(TextLimits.decisionReason)" rows="2"></textarea>
                    <button class="btn danger" type="submit">\(lang.t("不予批准", "Reject"))</button></form></details>
                    """
            }
            body += "</section>"
        }
        return body
    }

    // MARK: Organisations

    static let orgPageSize = 50

    static func organisations(
        _ orgs: [Organisation],
        kind: OrgKind?,
        query: String,
        next: UUID?,
        lang: Lang,
        session: Sessions.Session?,
        mayManage: Bool
    ) -> String {
        var kinds = "<option value=\"\"\(kind == nil ? " selected" : "")>\(lang.t("全部", "All"))</option>"
        for k in OrgKind.allCases {
            kinds += "<option value=\"\(k.rawValue)\"\(kind == k ? " selected" : "")>\(e(self.kind(k, lang)))</option>"
        }
        var body = """
            <form class="filters" method="get" action="/console/orgs" role="search">
            <div><label for="oq">\(lang.t("名称或代码", "Name or code"))</label><input id="oq" name="q" type="search" maxlength="\(ConsoleRoutes.maxQuery)" value="\(e(query))"></div>
            <div><label for="ok">\(lang.t("类型", "Kind"))</label><select id="ok" name="kind">\(kinds)</select></div>
            <button class="btn secondary" type="submit">\(lang.t("查找", "Find"))</button></form>
            """
        let rows = orgs.map { o in
            [
                "<a href=\"/console/orgs/\(o.id.uuidString.lowercased())\">\(e(o.name))</a>", e(self.kind(o.kind, lang)), e(o.uscc ?? "–"),
                PortalHtml.day(o.createdAt),
            ]
        }
        body += PortalHtml.table(
            lang.t("机构", "Organisations"),
            [lang.t("名称", "Name"), lang.t("类型", "Kind"), lang.t("统一社会信用代码", "USCC"), lang.t("登记于", "Registered")],
            rows,
            empty: lang.t("没有符合条件的机构。", "No organisation matches.")
        )
        if let next {
            var link = "/console/orgs?after=\(next.uuidString.lowercased())"
            if let kind { link += "&amp;kind=\(kind.rawValue)" }
            if !query.isEmpty { link += "&amp;q=" + PortalHtml.percent(query) }
            body += "<nav class=\"pages\"><a class=\"btn secondary\" href=\"\(link)\">\(lang.t("下一页", "Next"))</a></nav>"
        }
        if mayManage {
            let options = OrgKind.allCases.map { "<option value=\"\($0.rawValue)\">\(e(self.kind($0, lang)))</option>" }.joined()
            body += """
                <details class="card"><summary>\(lang.t("登记机构", "Register an organisation"))</summary>
                <form class="stack" method="post" action="/console/orgs">\(PortalHtml.csrf(session))\(PortalRoutes.onceField)
                <label for="nk">\(lang.t("类型", "Kind"))</label><select id="nk" name="kind" required>\(options)</select>
                <label for="nn">\(lang.t("名称", "Name"))</label><input id="nn" name="name" type="text" required maxlength="\(OrganisationLimits.nameMaxCharacters)">
                <label for="nu">\(lang.t("统一社会信用代码（企业必填）", "USCC (required for a business)"))</label><input id="nu" name="uscc" type="text" maxlength="18" autocapitalize="characters">
                <button class="btn" type="submit">\(lang.t("登记", "Register"))</button></form></details>
                """
        }
        return body
    }

    static func organisation(
        _ org: Organisation,
        users: [Users.User],
        keys: [APIKeyInfo],
        lang: Lang,
        session: Sessions.Session?,
        mayManage: Bool,
        now: Date = Date()
    ) -> String {
        let id = org.id.uuidString.lowercased()
        var body = """
            <p class="muted">\(e(kind(org.kind, lang)))\(org.uscc.map { " · " + e($0) } ?? "") · \(lang.t("登记于", "registered")) \(PortalHtml.day(org.createdAt))</p>
            <p><a href="/console/orgs">\(lang.t("返回机构列表", "Back to the organisations"))</a></p>
            """
        if mayManage {
            body += UsersPage.render(
                users,
                kind: org.kind,
                me: session?.principal.user?.id,
                lang: lang,
                session: session,
                base: "/console/orgs/\(id)/users"
            )
        } else {
            body += PortalHtml.table(
                lang.t("该机构的人员", "The organisation's people"),
                [lang.t("姓名", "Name"), lang.t("角色", "Role"), lang.t("状态", "State")],
                users.map { [e($0.name), e(lang.t($0.role.words.zh, $0.role.words.en)), UsersPage.state($0, lang)] },
                empty: lang.t("还没有人员。", "No one yet.")
            )
        }
        let userNames = Dictionary(users.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let rows = keys.map { k -> [String] in
            let live = k.revokedAt == nil && (k.expiresAt.map { $0 > now } ?? true)
            let owner =
                k.userId.map { lang.t("人员：", "person: ") + e(userNames[$0] ?? "–") }
                ?? lang.t("系统：", "system: ") + e(k.systemName ?? "integration")
            let state =
                k.revokedAt != nil
                ? PortalHtml.badge("declined", lang.t("已吊销", "Revoked"))
                : live ? PortalHtml.badge("live", lang.t("有效", "Live")) : PortalHtml.badge("overdue", lang.t("已过期", "Expired"))
            // Revoking stops the organisation's system at once: asked twice.
            let revoke =
                mayManage && live
                ? "<details><summary>\(lang.t("吊销", "Revoke"))</summary><p class=\"hint\">\(lang.t("使用该密钥的系统将立即无法访问。", "The system using this key stops working at once."))</p>"
                    + PortalHtml.button(
                        "/console/keys/\(k.id.uuidString.lowercased())/revoke",
                        lang.t("确认吊销", "Revoke it"),
                        session: session,
                        style: "btn danger"
                    ) + "</details>"
                : ""
            return [
                e(k.label.isEmpty ? "–" : k.label)
                    + "<br><span class=\"hint\">\(lang.t("开头", "begins")) <code>\(e(k.prefix))</code></span>", owner,
                e(lang.t(k.role.words.zh, k.role.words.en)), PortalHtml.day(k.createdAt),
                k.expiresAt.map(PortalHtml.day) ?? lang.t("不过期", "never"), state, revoke,
            ]
        }
        body += PortalHtml.table(
            lang.t("接口密钥（供机构系统使用）", "API keys (for the organisation's systems)"),
            [
                lang.t("用途", "Label"), lang.t("归属", "Owner"), lang.t("角色", "Role"), lang.t("签发于", "Issued"), lang.t("到期", "Expires"),
                lang.t("状态", "State"), lang.t("操作", "Actions"),
            ],
            rows,
            empty: lang.t("没有密钥。", "No keys.")
        )
        if mayManage {
            let roles = OrgRole.roles(of: org.kind).map {
                "<option value=\"\($0.rawValue)\">\(e(lang.t($0.words.zh, $0.words.en)))</option>"
            }.joined()
            body += """
                <details class="card"><summary>\(lang.t("签发系统密钥", "Issue a key for a system"))</summary>
                <form class="stack" method="post" action="/console/orgs/\(id)/keys">\(PortalHtml.csrf(session))\(PortalRoutes.onceField)
                <label for="ks">\(lang.t("系统名称", "System's name"))</label><input id="ks" name="system_name" type="text" required maxlength="\(KeyOwner.systemNameMaxCharacters)">
                <label for="kl">\(lang.t("用途说明（可选）", "Label (optional)"))</label><input id="kl" name="label" type="text" maxlength="\(OrganisationLimits.keyLabelMaxCharacters)">
                <label for="kr">\(lang.t("角色", "Role"))</label><select id="kr" name="role">\(roles)</select>
                <p class="hint">\(lang.t("密钥 \(OrganisationLimits.keyDefaultValidityDays) 天后到期，只显示一次。", "The key expires after \(OrganisationLimits.keyDefaultValidityDays) days and is shown once."))</p>
                <button class="btn" type="submit">\(lang.t("签发", "Issue"))</button></form></details>
                """
        }
        return body
    }

    /// A new key, shown once.
    static func issuedKey(_ k: IssuedKey, org: UUID, lang: Lang) -> String {
        """
        <section class="card" role="status"><h2>\(lang.t("新密钥", "New key"))</h2>
        <p>\(lang.t("请通过安全渠道交给该机构的系统管理员。此页关闭后不再显示。", "Hand it to the organisation's system administrator by a safe channel. It is not shown again once this page is closed."))</p>
        <dl class="facts"><dt>\(lang.t("密钥", "Key"))</dt><dd><code class="wrap">\(e(k.secret))</code></dd></dl>
        <p><a class="btn secondary" href="/console/orgs/\(org.uuidString.lowercased())">\(lang.t("返回机构", "Back to the organisation"))</a></p></section>
        """
    }

    // MARK: Feeds

    static func feeds(
        _ status: [IngestStore.DatasetStatus],
        quarantined: [ConsoleReads.Quarantined],
        dataset: String?,
        lang: Lang
    ) -> String {
        let rows = status.map { s -> [String] in
            let name = Dataset(rawValue: s.dataset).map { PortalHtml.dataset($0, lang) } ?? s.dataset
            let state = DashboardWords.values[s.status].map { lang.t($0.zh, $0.en) } ?? s.status
            let trouble = s.status == "stopped" || s.status == "failing"
            return [
                "<a href=\"/console/feeds?dataset=\(e(s.dataset))\">\(e(name))</a>", e(PortalHtml.provider(s.provider, lang)),
                PortalHtml.badge(trouble ? "overdue" : "live", state)
                    + (s.stopMessage.map { "<br><span class=\"hint\">\(e($0))</span>" } ?? ""),
                s.lastSuccessAt.map(PortalHtml.day) ?? lang.t("从未", "never"), "\(s.received)", "\(s.live)", "\(s.quarantined)",
                e(
                    DashboardWords.text(
                        "{" + s.quarantineByReason.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                            + "}",
                        lang
                    )
                ),
            ]
        }
        var body = PortalHtml.table(
            lang.t("各数据集", "Each dataset"),
            [
                lang.t("数据集", "Dataset"), lang.t("提供部门", "Provider"), lang.t("状态", "State"), lang.t("最近成功", "Last success"),
                lang.t("收到", "Received"), lang.t("在用", "Live"), lang.t("隔离", "Quarantined"), lang.t("隔离原因", "Why quarantined"),
            ],
            rows,
            empty: lang.t("还没有数据源。", "No feeds yet.")
        )
        let title =
            dataset.flatMap(Dataset.init(rawValue:)).map {
                lang.t("最近隔离的记录：\(PortalHtml.dataset($0, lang))", "Latest quarantined: \(PortalHtml.dataset($0, lang))")
            }
            ?? lang.t("最近隔离的记录", "Latest quarantined records")
        let qrows = quarantined.map { q -> [String] in
            [
                PortalHtml.day(q.receivedAt), e(Dataset(rawValue: q.dataset).map { PortalHtml.dataset($0, lang) } ?? q.dataset),
                e(q.recordId ?? "–"),
                e(DashboardWords.rejections[q.reasonCode].map { lang.t($0.zh, $0.en) } ?? q.reasonCode),
                "<span class=\"hint\">\(e(String(q.reason.prefix(200))))</span>",
            ]
        }
        body += PortalHtml.table(
            title,
            [lang.t("收到于", "Received"), lang.t("数据集", "Dataset"), lang.t("记录编号", "Record"), lang.t("原因", "Why"), lang.t("详情", "Detail")],
            qrows,
            empty: lang.t("没有隔离的记录。", "Nothing quarantined.")
        )
        body +=
            "<p class=\"hint\">\(lang.t("隔离的记录不参与评分；请将原因告知提供部门，由其更正后重新发送。最多显示 \(ConsoleReads.quarantineLimit) 条。", "Quarantined records are not scored: tell the provider why, so it corrects and sends them again. At most \(ConsoleReads.quarantineLimit) shown."))</p>"
        return body
    }

    // MARK: Scorecards

    static func scorecards(_ cards: [Scorecards.Published], activations: [ConsoleReads.Activation], lang: Lang) -> String {
        let rows = cards.reversed().map { c in
            [
                e(c.version), PortalHtml.day(c.publishedAt),
                c.active ? PortalHtml.badge("live", lang.t("启用中", "Active")) : PortalHtml.badge("", lang.t("未启用", "Not active")),
                "<code class=\"wrap\">\(e(String(c.sha256.prefix(16))))…</code>",
            ]
        }
        var body = PortalHtml.table(
            lang.t("已发布的评分卡", "Published scorecards"),
            [lang.t("版本", "Version"), lang.t("发布于", "Published"), lang.t("状态", "State"), lang.t("文件指纹", "File fingerprint")],
            rows,
            empty: lang.t("还没有发布评分卡。", "No scorecard published yet.")
        )
        body += PortalHtml.table(
            lang.t("启用记录", "Activations"),
            [lang.t("启用于", "Activated"), lang.t("版本", "Version")],
            activations.map { [PortalHtml.day($0.activatedAt), e($0.version)] },
            empty: lang.t("从未启用。", "Never activated.")
        )
        body +=
            "<p class=\"hint\">\(lang.t("评分卡向公众公开，每个企业的信用画像注明所用版本。发布和启用新版本须附评分卡文件与验证结果，在命令行执行：xyd scorecard publish 文件；启用后全部企业重新评分。", "The scorecard is public and each profile names the version used. A new version is published and activated with its file and validation, on the command line: xyd scorecard publish FILE; every business is then rescored."))</p>"
        return body
    }
}
