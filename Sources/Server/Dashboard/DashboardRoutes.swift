import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// The regulators' dashboard: server-rendered pages over the same statistics as
/// `/v1/regulator/*`, signed in with a regulator's key (an HTTP-only, SameSite=Strict session
/// cookie). No script, nothing fetched from elsewhere: charts are SVG drawn here.
struct DashboardRoutes {
    let db: Database
    let cache: StatCache
    /// The statistics' rebuild period: a page says its figures are late after `Stats.latePeriods`.
    let statsIntervalSeconds: Int

    /// A sign-in form is small.
    static let maxFormBytes = 4_096

    func register(_ api: API) {
        api.on(.get, "/static/dashboard.css") { _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: Html.css))
            )
        }
        api.on(.get, "/dashboard/login") { call in
            let token = WebSession.loginToken(call.request)
            return WebSession.loginHTML(
                Self.loginPage(next: WebSession.safeNext(call.request.uri.queryParameters.get("next")), error: nil, token: token),
                token: token
            )
        }
        api.on(.post, "/dashboard/login") { call in
            let form = try await WebSession.form(call.request, limit: Self.maxFormBytes)
            try WebSession.checkLogin(form, call.request)
            let login = WebSession.loginToken(call.request)
            let next = WebSession.safeNext(form["next"])
            let key = (form["key"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                return WebSession.loginHTML(
                    Self.loginPage(next: next, error: "请输入密钥。Enter a key.", token: login),
                    token: login,
                    status: .unprocessableContent
                )
            }
            let result = try await WebSession.signIn(db, call, key: key, allowed: [.regulator])
            switch result {
            case .success(let (token, _)):
                return WebSession.redirect(next, cookie: WebSession.setCookie(token, maxAge: Sessions.lifetimeSeconds))
            case .failure(let refused):
                return WebSession.loginHTML(
                    Self.loginPage(next: next, error: refused.why, token: login),
                    token: login,
                    status: .unauthorized
                )
            }
        }
        api.on(.post, "/dashboard/logout") { call in
            try await WebSession.signOut(db, call, limit: Self.maxFormBytes, to: "/dashboard/login")
        }
        page(api, "/dashboard", title: "总览 Overview") { c, call, f in OverviewPage.render(try await OverviewPage.load(c, call, f)) }
        page(api, "/dashboard/inclusion", title: "普惠金融 Inclusion") { c, call, f in
            InclusionPage.render(try await InclusionPage.load(c, call, f))
        }
        page(api, "/dashboard/banks", title: "银行服务 Bank service") { c, call, f in BanksPage.render(try await BanksPage.load(c, call, f))
        }
        page(api, "/dashboard/quality", title: "数据质量 Data quality", rounded: false) { c, call, f in
            QualityPage.render(try await QualityPage.load(c, call, f))
        }
        page(api, "/dashboard/model", title: "模型健康 Model health") { c, call, f in ModelPage.render(try await ModelPage.load(c, call, f))
        }
    }

    /// Above every page whose figures are not current: since when, and from when they date.
    static func staleBanner(_ f: Stats.Freshness) -> String {
        guard f.stale else { return "" }
        let good = f.lastGood.map { PortalHtml.day($0) + "（北京时间）" } ?? "从未成功 never"
        let goodEn = f.lastGood.map { PortalHtml.day($0) + " China time" } ?? "never"
        let why =
            f.failing.isEmpty
            ? "统计已超过 \(Stats.latePeriods) 个更新周期未能更新。The statistics have not been rebuilt for \(Stats.latePeriods) periods."
            : "最近一次统计更新失败（\(f.failedAt.map(PortalHtml.day) ?? "")）。The latest rebuild failed (\(f.failing.count) tables)."
        return "<div class=\"banner stale\" role=\"alert\"><strong>⚠ 数据不是最新的 Figures not current.</strong> \(Html.escape(why))"
            + " 以下为 \(Html.escape(good)) 的数据。What follows dates from \(Html.escape(goodEn)).</div>"
    }

    /// What every page of rounded figures says under them (see `Rounding`).
    static let roundingNote =
        "<p class=\"note\">为保护企业隐私，计数按 \(Rounding.countBase)、金额按 \(Rounding.fenBase / 1_000_000) 万元各自修约（合计可能与分项之和略有不同），比率按修约后的数字计算；少于 \(Suppression.threshold) 家企业的格子不显示。"
        + " To protect businesses, counts are rounded to the nearest 5 and amounts to the nearest ¥1,000,000, each on its own (a total may differ slightly from the sum of its rows); ratios use the rounded figures; cells of fewer than \(Suppression.threshold) businesses are not shown.</p>"

    func page(
        _ api: API,
        _ path: String,
        title: String,
        rounded: Bool = true,
        _ body: @escaping @Sendable (PostgresConnection, Call, StatFilter) async throws -> String
    ) {
        api.on(.get, path) { call in
            let filter: StatFilter
            do { filter = try RegulatorRoutes.filter(call) } catch let p as Problem {
                return WebSession.html(
                    Html.page(
                        title: title,
                        current: path,
                        session: call.session,
                        body: "<h1>\(Html.escape(title))</h1><p class=\"error\">\(Html.escape(p.detail ?? "bad filter"))</p>"
                    ),
                    status: .unprocessableContent
                )
            }
            let content = try await cache.read(db, call, key: StatCache.key("page", path, filter: filter), detail: ["page": path]) { c in
                try await body(c, call, filter)
            }
            // Read on every request, never cached: a page must not hide that its figures are old.
            let interval = statsIntervalSeconds
            let freshness = try await db.withConnection { c in
                try await Stats.freshness(c, logger: call.logger, intervalSeconds: interval)
            }
            return WebSession.html(
                Html.page(
                    title: title,
                    current: path,
                    session: call.session,
                    body: Self.staleBanner(freshness) + content + (rounded ? Self.roundingNote : "")
                )
            )
        }
    }

    // MARK: The breakdowns the inclusion and model pages show

    static let inclusionBreakdowns: [(StatDimension, String)] = [
        (.size, "企业规模 size"), (.farmer, "农户 farmers"), (.entityType, "主体类型 entity type"), (.firstLoan, "首贷与续贷 first loan or repeat"),
        (.productKind, "信用与抵押担保 credit, secured, guaranteed"), (.industry, "行业 industry"), (.grade, "信用等级 grade at posting"),
    ]
    static let segmentBreakdowns: [(StatDimension, String)] = [(.district, "区县 district"), (.industry, "行业 industry"), (.size, "规模 size")]

    static func loginPage(next: String, error: String?, token: String) -> String {
        Html.page(
            title: "登录 Sign in",
            current: "",
            session: nil,
            body: """
                <div class="login"><h1>监管看板登录<br><small>Regulators' dashboard — sign in</small></h1>
                \(error.map { "<p class=\"error\" role=\"alert\">\(Html.escape($0))</p>" } ?? "")
                <form method="post" action="/dashboard/login">
                <label for="key">监管机构密钥 Regulator's key</label>
                <input id="key" name="key" type="password" autocomplete="off" required placeholder="xyd_…">
                <input type="hidden" name="next" value="\(Html.escape(next))">
                <input type="hidden" name="login_csrf" value="\(Html.escape(token))">
                <button type="submit">登录 Sign in</button></form>
                <p class="note">会话 8 小时后失效；密钥吊销即刻失效。The session lasts 8 hours and ends at once if the key is revoked.</p></div>
                """
        )
    }

    // MARK: Pieces

    static func value(_ t: StatTable, _ row: StatTable.Row?, _ column: String) -> StatTable.Value {
        guard let row, let i = t.columns.firstIndex(where: { $0.name == column }), i < row.values.count else { return .null }
        return row.values[i]
    }

    static func int(_ t: StatTable, _ row: StatTable.Row?, _ column: String) -> Int64? {
        if case .int(let n) = value(t, row, column) { return n }
        return nil
    }

    /// A ratio `0.9232` as `92.3%`.
    static func percent(_ v: StatTable.Value) -> String {
        guard case .decimal(let d) = v else { return v == .suppressed ? "已抑制 suppressed" : "–" }
        let bp = basisPoints(d)
        return "\(bp / 100).\(bp % 100 / 10)%"
    }

    /// `0.9232` → 9232 (ratios to 4 places).
    static func basisPoints(_ d: String) -> Int64 {
        let parts = d.split(separator: ".", maxSplits: 1)
        let whole = Int64(parts.first ?? "0") ?? 0
        let frac = parts.count > 1 ? String(parts[1].prefix(4)).padding(toLength: 4, withPad: "0", startingAt: 0) : "0000"
        return whole * 10_000 + (Int64(frac) ?? 0)
    }

    static func cell(_ v: StatTable.Value, _ unit: StatTable.Unit) -> String {
        switch v {
        case .suppressed: return "<span class=\"sup\" title=\"fewer than \(Suppression.threshold) enterprises\">已抑制 suppressed</span>"
        case .null: return "–"
        case .text(let s):
            if ["green", "amber", "red"].contains(s) { return "<span class=\"rag \(s)\">\(s)</span>" }
            return Html.escape(s)
        case .decimal(let d):
            return unit == .ratio ? Html.figure(percent(v), exact: d) : Html.escape(d)
        case .int(let n):
            switch unit {
            case .fen: return Html.figure(Html.yuanShort(n), exact: Html.yuanExact(n))
            default: return Html.figure(Html.countShort(n), exact: Html.grouped(n))
            }
        }
    }

    static let headings: [String: String] = [
        "posted": "发布 posted", "posted_fen": "发布金额 posted", "taken_up": "受理 taken up", "granted": "授信 granted",
        "granted_fen": "授信金额 granted", "disbursed": "放款 disbursed", "disbursed_fen": "放款金额 disbursed", "solve_rate": "解决率 solve rate",
        "enterprises": "企业数 enterprises", "declined": "拒绝 declined", "decline_rate": "拒绝率 decline rate", "passed": "放弃 passed",
        "matched": "匹配 matched", "connected": "已接入 connected", "take_up_overdue": "受理超时 take-up overdue",
        "decision_overdue": "审批超时 decision overdue", "decided": "已决定 decided", "decision_hours_median": "审批时长中位数 (h)",
        "take_up_hours_median": "受理时长中位数 (h)", "take_up_hours_p90": "受理时长 P90 (h)", "decision_hours_p90": "审批时长 P90 (h)",
        "under_objection": "异议中 under objection", "objections_overdue": "异议超时 overdue objections",
        "valid_objections_per_100k": "有效异议/10万条 valid objections per 100k", "completeness": "完整性 completeness",
        "timeliness": "及时性 timeliness",
        "uscc_error_rate": "代码错误率 USCC errors", "received": "接收 received", "stored": "入库 stored", "quarantined": "隔离 quarantined",
        "open": "待处理 open", "overdue": "超时 overdue", "upheld_or_approved": "成立或批准 upheld/approved", "rejected": "驳回 rejected",
        "made": "作出 made", "in_progress": "履行中 in progress", "kept": "已履约 kept", "broken": "已违诺 broken", "kept_rate": "履约率 kept rate",
        "psi": "PSI", "score_psi": "评分 PSI", "level": "状态 level", "default_rate": "违约率 default rate", "loans": "贷款 loans", "bad": "不良 bad",
    ]

    /// A table with exact figures (the charts' numbers, readable without them).
    static func table(_ t: StatTable, caption: String, keyHeading: String) -> String {
        var html =
            "<table><caption class=\"note\">\(Html.escape(caption))</caption><thead><tr><th scope=\"col\">\(Html.escape(keyHeading))</th>"
        for c in t.columns { html += "<th scope=\"col\">\(Html.escape(headings[c.name] ?? c.name))</th>" }
        html += "</tr></thead><tbody>"
        for r in t.rows + (t.total.map { [$0] } ?? []) {
            html += "<tr><th scope=\"row\">\(Html.escape(r.key == "total" ? "合计 total" : r.key))</th>"
            for (c, v) in zip(t.columns, r.values) { html += "<td>\(cell(v, c.unit))</td>" }
            html += "</tr>"
        }
        html += "</tbody></table>"
        if let at = t.refreshedAt {
            html += "<p class=\"note\">统计更新于 refreshed \(Html.escape(ISO8601DateFormatter().string(from: at)))</p>"
        }
        if let failed = t.rebuildFailedAt {
            html +=
                "<p class=\"note stale\" role=\"alert\">⚠ 最近一次统计更新失败（\(Html.escape(ISO8601DateFormatter().string(from: failed)))），以上为旧数据。The latest rebuild failed; these figures are older.</p>"
        }
        return html
    }

    static func filterForm(_ path: String, _ f: StatFilter) -> String {
        func input(_ name: String, _ label: String, _ value: String?, _ placeholder: String) -> String {
            "<label>\(label)<input name=\"\(name)\" value=\"\(Html.escape(value ?? ""))\" placeholder=\"\(placeholder)\" size=\"8\"></label>"
        }
        func select(_ name: String, _ label: String, _ value: String?, _ options: [String]) -> String {
            var s = "<label>\(label)<select name=\"\(name)\"><option value=\"\">全部 all</option>"
            for o in options { s += "<option\(o == value ? " selected" : "")>\(o)</option>" }
            return s + "</select></label>"
        }
        return """
            <form class="filters" method="get" action="\(path)">
            \(input("from", "起 from", f.from, "2026-01"))\(input("to", "止 to", f.to, "2026-12"))
            \(input("district", "区县 district", f.district, "320602"))\(input("industry", "行业 industry", f.industry, "C"))
            \(select("size", "规模 size", f.size, ["micro", "small", "medium", "large"]))
            \(select("product_kind", "产品 product", f.productKind, ["credit", "secured", "guaranteed"]))
            <button type="submit">筛选 Filter</button></form>
            """
    }

    static func tile(_ value: String, _ label: String, exact: String? = nil) -> String {
        "<div class=\"tile\"><div class=\"v\">\(exact.map { Html.figure(value, exact: $0) } ?? Html.escape(value))</div><div class=\"l\">\(Html.escape(label))</div></div>"
    }

    /// Bars of one column of a table's shown rows (hidden rows are counted in the caption).
    static func bars(_ t: StatTable, column: String, unit: StatTable.Unit) -> (bars: [Charts.Bar], hidden: Int) {
        var out: [Charts.Bar] = []
        var hidden = 0
        for r in t.rows {
            if r.suppressed {
                hidden += 1
                continue
            }
            switch value(t, r, column) {
            case .int(let n):
                out.append(
                    .init(
                        label: r.key,
                        value: n,
                        display: unit == .fen ? Html.yuanShort(n) : Html.countShort(n),
                        exact: unit == .fen ? Html.yuanExact(n) : Html.grouped(n)
                    )
                )
            case .decimal(let d):
                out.append(.init(label: r.key, value: basisPoints(d), display: unit == .ratio ? percent(.decimal(d)) : d, exact: d))
            default: continue
            }
        }
        return (out, hidden)
    }

    static func hiddenNote(_ n: Int) -> String { n > 0 ? "；\(n) 项因少于 \(Suppression.threshold) 家企业而抑制 (\(n) suppressed)" : "" }

    // MARK: Pages

}
