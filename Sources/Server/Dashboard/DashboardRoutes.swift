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
        page(api, "/dashboard", title: "总览 Overview") { c, call, f in Self.renderOverview(try await Self.load("overview", c, call, f)) }
        page(api, "/dashboard/inclusion", title: "普惠金融 Inclusion") { c, call, f in
            Self.renderInclusion(try await Self.load("inclusion", c, call, f))
        }
        page(api, "/dashboard/banks", title: "银行服务 Bank service") { c, call, f in Self.renderBanks(try await Self.load("banks", c, call, f))
        }
        page(api, "/dashboard/quality", title: "数据质量 Data quality", rounded: false) { c, call, f in
            Self.renderQuality(try await Self.load("quality", c, call, f))
        }
        page(api, "/dashboard/model", title: "模型健康 Model health") { c, call, f in Self.renderModel(try await Self.load("model", c, call, f))
        }
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
            let key = StatCache.key("page", path, filter: filter)
            let content = try await db.withTransaction { c in
                let generation = try await StatCache.generation(c, logger: call.logger)
                let html = try await cache.text(key, generation: generation) { try await body(c, call, filter) }
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    call.auditEntry(action: "stats.read", result: .allowed, detail: RegulatorRoutes.auditDetail(call, ["page": path]))
                )
                return html
            }
            return WebSession.html(
                Html.page(title: title, current: path, session: call.session, body: content + (rounded ? Self.roundingNote : ""))
            )
        }
    }

    // MARK: Loaders: the statistics tables each page reads, by name (see `DashboardModel`).

    static let inclusionBreakdowns: [(StatDimension, String)] = [
        (.size, "企业规模 size"), (.farmer, "农户 farmers"), (.entityType, "主体类型 entity type"), (.firstLoan, "首贷与续贷 first loan or repeat"),
        (.productKind, "信用与抵押担保 credit, secured, guaranteed"), (.industry, "行业 industry"), (.grade, "信用等级 grade at posting"),
    ]
    static let segmentBreakdowns: [(StatDimension, String)] = [(.district, "区县 district"), (.industry, "行业 industry"), (.size, "规模 size")]

    static func load(_ page: String, _ c: PostgresConnection, _ call: Call, _ f: StatFilter) async throws -> DashboardModel {
        let l = call.logger
        var t: [String: StatTable] = [:]
        switch page {
        case "overview":
            t["funnel.month"] = try await Stats.funnel(c, logger: l, by: .month, filter: f)
            t["funnel.district"] = try await Stats.funnel(c, logger: l, by: .district, filter: f)
            t["timing.month"] = try await Stats.timing(c, logger: l, by: .month, filter: f)
            t["banks"] = try await Stats.banks(c, logger: l, filter: f)
        case "inclusion":
            for (dimension, _) in inclusionBreakdowns {
                t["funnel.\(dimension.rawValue)"] = try await Stats.funnel(c, logger: l, by: dimension, filter: f)
            }
            t["timing.month"] = try await Stats.timing(c, logger: l, by: .month, filter: f)
            t["declines"] = try await Stats.declines(c, logger: l, filter: f)
        case "banks":
            t["banks"] = try await Stats.banks(c, logger: l, filter: f)
        case "quality":
            t["quality"] = try await Stats.quality(c, logger: l)
            t["governance"] = try await Stats.governance(c, logger: l)
            t["commitments"] = try await Stats.commitments(c, logger: l)
        case "model":
            t["grades"] = try await Stats.gradesByMonth(c, logger: l)
            t["applicant_grades"] = try await Stats.applicantGrades(c, logger: l, filter: f)
            t["stability"] = try await Stats.stability(c, logger: l)
            t["separation"] = try await Stats.separation(c, logger: l, filter: f)
            for (dimension, _) in segmentBreakdowns {
                t["segments.\(dimension.rawValue)"] = try await Stats.segments(c, logger: l, by: dimension, filter: f)
            }
        default: preconditionFailure("no dashboard page \(page)")
        }
        return DashboardModel(filter: f, tables: t)
    }

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

    static func renderOverview(_ m: DashboardModel) -> String {
        let f = m.filter
        let byMonth = m.table("funnel.month")
        let byDistrict = m.table("funnel.district")
        let timing = m.table("timing.month")
        let banks = m.table("banks")
        let t = byMonth.total
        let posted = Self.int(byMonth, t, "posted")
        let postedFen = Self.int(byMonth, t, "posted_fen")
        let disbursedFen = Self.int(byMonth, t, "disbursed_fen")
        var html =
            "<h1>总览 Overview</h1><p class=\"note\">信贷是否公平、及时地流向小微企业和农户？Is credit reaching small firms and farmers, fairly and fast?</p>"
        html += Self.filterForm("/dashboard", f)
        html += "<h2>关键指标 Key figures</h2><div class=\"tiles\">"
        html += Self.tile(posted.map(Html.countShort) ?? "–", "融资需求 demands posted", exact: posted.map(Html.grouped))
        html += Self.tile(postedFen.map(Html.yuanShort) ?? "–", "需求金额 amount asked", exact: postedFen.map(Html.yuanExact))
        html += Self.tile(disbursedFen.map(Html.yuanShort) ?? "–", "放款金额 amount disbursed", exact: disbursedFen.map(Html.yuanExact))
        html += Self.tile(Self.percent(Self.value(byMonth, t, "solve_rate")), "解决率 solve rate (disbursed ÷ asked)")
        html += Self.tile(Self.percent(Self.value(banks, banks.total, "connected")), "银行接入率 banks connected (target > 50%)")
        let median: String = if case .decimal(let d) = Self.value(timing, timing.total, "take_up_hours_median") { "\(d) h" } else { "–" }
        html += Self.tile(median, "受理时长中位数 median hours to take-up")
        html += "</div>"

        // The funnel.
        if let t, !t.suppressed {
            let steps: [(String, String, String?)] = [
                ("发布 posted", "posted", "posted_fen"), ("受理 taken up", "taken_up", nil),
                ("授信 granted", "granted", "granted_fen"), ("放款 disbursed", "disbursed", "disbursed_fen"),
            ]
            let bars = steps.map { (label, count, amount) -> Charts.Bar in
                let n = Self.int(byMonth, t, count) ?? 0
                let fen = amount.flatMap { Self.int(byMonth, t, $0) }
                return .init(
                    label: label,
                    value: n,
                    display: Html.countShort(n) + (fen.map { " · " + Html.yuanShort($0) } ?? ""),
                    exact: Html.grouped(n) + " 笔" + (fen.map { " · " + Html.yuanExact($0) } ?? "")
                )
            }
            html +=
                "<h2>融资漏斗 The funnel</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "融资漏斗：发布 → 受理 → 授信 → 放款 (笔数)",
                        description:
                            "Demands posted, taken up, granted and disbursed: "
                            + bars.map { "\($0.label) \($0.exact)" }.joined(separator: "; "),
                        axis: "需求笔数 number of demands",
                        bars: bars,
                        colors: ["#1f5fa8", "#3c7cc4", "#5f9be0", "#2e7d32"]
                    ),
                    caption: "每一步的笔数与金额；悬停查看精确数字。Count and amount at each step; hover for exact figures."
                )
        }

        // Trend by month.
        let shown = byMonth.rows.filter { !$0.suppressed }
        if !shown.isEmpty {
            let asked = shown.map { Self.int(byMonth, $0, "posted_fen") ?? 0 }
            let paid = shown.map { Self.int(byMonth, $0, "disbursed_fen") ?? 0 }
            html +=
                "<h2>月度趋势 Trend by month</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: "每月需求金额与放款金额 (元)",
                        description: "Amount asked and amount disbursed by month of posting.",
                        yAxis: "金额 amount (元)",
                        categories: shown.map(\.key),
                        series: [
                            .init(name: "需求 asked", color: "#1f5fa8", values: asked, exact: asked.map(Html.yuanExact)),
                            .init(name: "放款 disbursed", color: "#2e7d32", values: paid, exact: paid.map(Html.yuanExact)),
                        ],
                        tick: Html.yuanTick
                    ),
                    caption: "按需求发布月份统计\(Self.hiddenNote(byMonth.rows.count - shown.count))。By month the demand was posted."
                )
        }

        // Districts, ranked by amount disbursed.
        let (districtBars, hidden) = Self.bars(byDistrict, column: "disbursed_fen", unit: .fen)
        if !districtBars.isEmpty {
            html +=
                "<h2>各区县放款 Disbursed by district</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "各区县放款金额排名",
                        description: "Amount disbursed by district, largest first.",
                        axis: "放款金额 amount disbursed (元)",
                        bars: districtBars.sorted { $0.value > $1.value }
                    ),
                    caption: "按行政区划代码\(Self.hiddenNote(hidden))。By district code."
                )
        }
        html += "<h2>按月明细 By month, exact figures</h2>" + Self.table(byMonth, caption: "融资漏斗按月 The funnel by month", keyHeading: "月份 month")
        html += "<h2>按区县明细 By district</h2>" + Self.table(byDistrict, caption: "融资漏斗按区县 The funnel by district", keyHeading: "区县 district")
        return html
    }

    static func renderInclusion(_ m: DashboardModel) -> String {
        let f = m.filter
        var html = "<h1>普惠金融 Inclusion</h1>" + Self.filterForm("/dashboard/inclusion", f)
        for (dimension, title) in Self.inclusionBreakdowns {
            let t = m.table("funnel.\(dimension.rawValue)")
            let (bars, hidden) = Self.bars(t, column: "solve_rate", unit: .ratio)
            html += "<h2>\(Html.escape(title))</h2>"
            if !bars.isEmpty {
                html += Charts.figure(
                    Charts.horizontalBars(
                        title: "解决率：\(title)",
                        description: "Solve rate (amount disbursed over amount asked) by \(dimension.rawValue).",
                        axis: "解决率 solve rate (%, 10000 = 100%)",
                        bars: bars,
                        color: "#2e7d32"
                    ),
                    caption: "放款金额 ÷ 需求金额\(Self.hiddenNote(hidden))。"
                )
            }
            html += Self.table(t, caption: "融资漏斗 The funnel by \(dimension.rawValue)", keyHeading: title)
        }
        let timing = m.table("timing.month")
        html +=
            "<h2>办理时效 Time to take-up and decision</h2>"
            + Self.table(
                timing,
                caption: "小时 hours; 截止：受理 \(Demands.takeUpWorkingDays) 个工作日，审批 \(Demands.decisionWorkingDays) 个工作日",
                keyHeading: "月份 month"
            )
        let declines = m.table("declines")
        let (bars, hidden) = Self.bars(declines, column: "declined", unit: .count)
        html += "<h2>拒绝原因 Decline reasons</h2>"
        if !bars.isEmpty {
            html += Charts.figure(
                Charts.horizontalBars(
                    title: "拒绝原因",
                    description: "Declined demands by reason.",
                    axis: "笔数 demands",
                    bars: bars,
                    color: "#c62828"
                ),
                caption: "按拒绝原因\(Self.hiddenNote(hidden))。"
            )
        }
        html += Self.table(declines, caption: "拒绝原因 Decline reasons", keyHeading: "原因 reason")
        return html
    }

    static func renderBanks(_ m: DashboardModel) -> String {
        let f = m.filter
        let t = m.table("banks")
        var html = "<h1>银行服务 Bank service</h1>" + Self.filterForm("/dashboard/banks", f)
        html +=
            "<div class=\"tiles\">" + Self.tile(Self.percent(Self.value(t, t.total, "connected")), "银行接入率 banks connected (target > 50%)")
        html += Self.tile(String(t.rows.count), "银行 banks") + "</div>"
        let (taken, hidden) = Self.bars(t, column: "taken_up", unit: .count)
        if !taken.isEmpty {
            html +=
                "<h2>受理笔数 Demands taken up</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "各银行受理笔数",
                        description: "Demands each bank took up.",
                        axis: "笔数 demands",
                        bars: taken.sorted { $0.value > $1.value }
                    ),
                    caption: "银行排行\(Self.hiddenNote(hidden))。"
                )
        }
        let (overdue, _) = Self.bars(t, column: "take_up_overdue", unit: .count)
        if overdue.contains(where: { $0.value > 0 }) {
            html +=
                "<h2>受理超时 Overdue take-ups</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "各银行受理超时笔数（\(Demands.takeUpWorkingDays) 个工作日）",
                        description: "Matched demands a bank neither took up nor passed within \(Demands.takeUpWorkingDays) working days.",
                        axis: "笔数 demands",
                        bars: overdue.sorted { $0.value > $1.value },
                        color: "#b26a00"
                    ),
                    caption: "超过 \(Demands.takeUpWorkingDays) 个工作日未受理也未放弃。"
                )
        }
        html += "<h2>银行服务排行 League table</h2>" + Self.table(t, caption: "银行服务 Bank service", keyHeading: "银行 bank")
        return html
    }

    static func renderQuality(_ m: DashboardModel) -> String {
        let t = m.table("quality")
        var html = "<h1>数据质量 Data quality</h1><p class=\"note\">" + t.notes.map(Html.escape).joined(separator: "<br>") + "</p>"
        html += Self.table(t, caption: "各数据集 Per dataset", keyHeading: "数据集 dataset")
        let governance = m.table("governance")
        html +=
            "<h2>异议与信用修复 Objections and repairs</h2>"
            + Self.table(
                governance,
                caption: "超时：异议 \(Objections.deadlineDays) 天，修复申请 \(Repairs.decisionWorkingDays) 个工作日",
                keyHeading: "类别 kind"
            )
        let commitments = m.table("commitments")
        html += "<h2>信用承诺 Credit commitments</h2>" + Self.table(commitments, caption: "履约率 = 已履约 ÷ (已履约 + 已违诺)", keyHeading: "承诺 kind")
        return html
    }

    static func renderModel(_ m: DashboardModel) -> String {
        var html = "<h1>模型健康 Model health</h1>"
        let grades = m.table("grades")
        if !grades.rows.isEmpty {
            let colors = ["#2e7d32", "#1f5fa8", "#d9822b", "#c62828", "#8a96a3"]
            let series = Stats.grades.enumerated().map { (i, g) in
                let values = grades.rows.map { Self.int(grades, $0, g) ?? 0 }
                return Charts.Series(name: g, color: colors[i], values: values, exact: values.map(Html.grouped))
            }
            html +=
                "<h2>信用等级分布 Grades over time</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: "各月企业信用等级分布",
                        description: "Enterprises by grade, one snapshot per month.",
                        yAxis: "企业数 enterprises",
                        categories: grades.rows.map(\.key),
                        series: series,
                        tick: Html.countShort
                    ),
                    caption: "每月一个快照（按评分卡版本）。"
                )
        }
        let applicants = m.table("applicant_grades")
        let shownApplicants = applicants.rows.filter { !$0.suppressed }
        if !shownApplicants.isEmpty {
            let colors = ["#2e7d32", "#1f5fa8", "#d9822b", "#c62828", "#8a96a3"]
            let series = Stats.grades.enumerated().map { (i, g) in
                // A hidden cell draws no bar, and says so on hover (never "0").
                let cells = shownApplicants.map { Self.int(applicants, $0, g) }
                return Charts.Series(
                    name: g,
                    color: colors[i],
                    values: cells.map { $0 ?? 0 },
                    exact: cells.map { $0.map(Html.grouped) ?? "已抑制（少于 \(Suppression.threshold) 家）suppressed" }
                )
            }
            html +=
                "<h2>申请企业的信用等级 Grades of businesses seeking credit</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: "各月发布融资需求企业的信用等级",
                        description: "Businesses posting demands each month, by their grade at posting.",
                        yAxis: "企业数 enterprises",
                        categories: shownApplicants.map(\.key),
                        series: series,
                        tick: Html.countShort
                    ),
                    caption: "按发布月份与发布时等级\(Self.hiddenNote(applicants.rows.count - shownApplicants.count))。"
                )
            html += Self.table(applicants, caption: "申请企业等级 Grades at posting", keyHeading: "月份 month")
        }
        let stability = m.table("stability")
        let (psiBars, _) = Self.bars(stability, column: "psi", unit: .text)
        if !psiBars.isEmpty {
            let levels = stability.rows.filter { !$0.suppressed }.map { r -> String in
                if case .text(let l) = Self.value(stability, r, "level") {
                    return l == "red" ? "#c62828" : l == "amber" ? "#b26a00" : "#2e7d32"
                }
                return "#8a96a3"
            }
            html +=
                "<h2>群体稳定性 Population stability (PSI)</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "评分与各特征的 PSI",
                        description:
                            "PSI of the score and each feature against the version's baseline; lines at \(ModelHealth.psiWatch) and \(ModelHealth.psiAlert).",
                        axis: "PSI × 10000",
                        bars: psiBars,
                        markers: [
                            .init(
                                value: Int64((ModelHealth.psiWatch * 10_000).rounded()),
                                label: String(format: "%.2f", ModelHealth.psiWatch),
                                color: "#b26a00"
                            ),
                            .init(
                                value: Int64((ModelHealth.psiAlert * 10_000).rounded()),
                                label: String(format: "%.2f", ModelHealth.psiAlert),
                                color: "#c62828"
                            ),
                        ],
                        colors: levels
                    ),
                    caption: "PSI ≥ 0.10 关注 (amber)，≥ 0.25 需处置 (red)。"
                )
        }
        html += Self.table(stability, caption: "稳定性 Stability", keyHeading: "特征 characteristic")
        let separation = m.table("separation")
        html +=
            "<h2>区分能力 Separation on loan outcomes</h2>" + Self.table(separation, caption: "KS, AUC, Gini 按评分卡版本", keyHeading: "版本 version")
        for (dimension, title) in Self.segmentBreakdowns {
            let t = m.table("segments.\(dimension.rawValue)")
            html += "<h2>分群：\(Html.escape(title))</h2>" + Self.table(t, caption: "评分 PSI 与违约率 by \(dimension.rawValue)", keyHeading: title)
        }
        return html
    }
}

/// What a dashboard page shows: the statistics tables it read (by name: `funnel.month`,
/// `banks`, …) and the filter it was asked with. Loaded by `DashboardRoutes.load`, rendered by
/// the page's `render…` function, which reads nothing else.
struct DashboardModel {
    let filter: StatFilter
    let tables: [String: StatTable]

    func table(_ name: String) -> StatTable {
        guard let t = tables[name] else { preconditionFailure("the dashboard's loader did not read \(name)") }
        return t
    }
}
