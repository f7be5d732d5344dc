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
    /// The pages are computed here (a fresh replica, else `db`); the audit row is written on `db`.
    let reads: Reads
    let cache: StatCache
    /// The statistics' rebuild period: a page says its figures are late after `Stats.latePeriods`.
    let statsIntervalSeconds: Int
    let passwords: Passwords

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
        SignInForms.registerLogin(
            api,
            db: db,
            passwords: passwords,
            area: "/dashboard",
            limit: Self.maxFormBytes,
            allowed: [.regulator],
            target: { _, next in WebSession.safeNext(next) },
            page: { lang, next, error, token in Self.loginPage(next: next, error: error, token: token, lang: lang) }
        )
        SignInForms.registerPassword(api, db: db, passwords: passwords, area: "/dashboard", limit: Self.maxFormBytes) { call, lang, body in
            Html.page(
                title: lang.t("修改密码", "Change the password"),
                current: "",
                session: call.session,
                lang: lang,
                here: "/dashboard/password",
                body: "<h1>\(lang.t("修改密码", "Change the password"))</h1>" + body
            )
        }
        page(api, "/dashboard", title: ("总览", "Overview")) { c, call, f, lang in
            OverviewPage.render(try await OverviewPage.load(c, call, f), lang: lang)
        }
        page(api, "/dashboard/inclusion", title: ("普惠金融", "Inclusion")) { c, call, f, lang in
            InclusionPage.render(try await InclusionPage.load(c, call, f), lang: lang)
        }
        page(api, "/dashboard/banks", title: ("银行服务", "Bank service")) { c, call, f, lang in
            BanksPage.render(try await BanksPage.load(c, call, f), lang: lang)
        }
        page(api, "/dashboard/quality", title: ("数据质量", "Data quality"), rounded: false) { c, call, f, lang in
            QualityPage.render(try await QualityPage.load(c, call, f), lang: lang)
        }
        page(api, "/dashboard/model", title: ("模型健康", "Model health")) { c, call, f, lang in
            ModelPage.render(try await ModelPage.load(c, call, f), lang: lang)
        }
    }

    /// Above every page whose figures are not current: since when, and from when they date.
    static func staleBanner(_ f: Stats.Freshness, _ lang: Lang) -> String {
        guard f.stale else { return "" }
        let good = f.lastGood.map { lang.t(PortalHtml.day($0) + "（北京时间）", PortalHtml.day($0) + " China time") } ?? lang.t("从未成功", "never")
        let why =
            f.failing.isEmpty
            ? lang.t("统计已超过 \(Stats.latePeriods) 个更新周期未能更新。", "The statistics have not been rebuilt for \(Stats.latePeriods) periods.")
            : lang.t(
                "最近一次统计更新失败（\(f.failedAt.map(PortalHtml.day) ?? "")），\(f.failing.count) 张统计表未能更新。",
                "The latest rebuild failed (\(f.failedAt.map(PortalHtml.day) ?? "")): \(f.failing.count) tables were not rebuilt."
            )
        return
            "<div class=\"banner stale\" role=\"alert\"><strong>⚠ \(lang.t("数据不是最新的。", "Figures not current."))</strong> \(Html.escape(why))"
            + " \(Html.escape(lang.t("以下为 \(good) 的数据。", "What follows dates from \(good).")))</div>"
    }

    /// What every page of rounded figures says under them (see `Rounding`).
    static func roundingNote(_ lang: Lang) -> String {
        "<p class=\"note\">"
            + lang.t(
                "为保护企业隐私，计数按 \(Rounding.countBase)、金额按 \(Rounding.fenBase / 1_000_000) 万元各自修约（合计可能与分项之和略有不同），比率按修约后的数字计算；少于 \(Suppression.threshold) 家企业的格子不显示。",
                "To protect businesses, counts are rounded to the nearest \(Rounding.countBase) and amounts to the nearest ¥\(Money.grouped(Rounding.fenBase / 100)), each on its own (a total may differ slightly from the sum of its rows); ratios use the rounded figures; cells of fewer than \(Suppression.threshold) businesses are not shown."
            ) + "</p>"
    }

    func page(
        _ api: API,
        _ path: String,
        title: (zh: String, en: String),
        rounded: Bool = true,
        _ body: @escaping @Sendable (PostgresConnection, Call, StatFilter, Lang) async throws -> String
    ) {
        api.on(.get, path) { call in
            let lang = Lang(call.request)
            let title = lang.t(title.zh, title.en)
            let here = path + (call.request.uri.query.map { "?" + $0 } ?? "")
            let filter: StatFilter
            do { filter = try RegulatorRoutes.filter(call) } catch let p as Problem {
                let field = p.errors.first?.field ?? ""
                return WebSession.html(
                    Html.page(
                        title: title,
                        current: path,
                        session: call.session,
                        lang: lang,
                        here: path,
                        body:
                            "<h1>\(Html.escape(title))</h1><p class=\"error\">\(Html.escape(lang.t("筛选条件有误：", "A filter is wrong: ") + Self.filterField(field, lang)))</p>"
                    ),
                    status: .unprocessableContent
                )
            }
            let key = StatCache.key("page", path, lang.english ? "en" : "zh", filter: filter)
            let content = try await cache.read(db, source: reads, call, key: key, detail: ["page": path]) { c in
                try await body(c, call, filter, lang)
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
                    lang: lang,
                    here: here,
                    body: Self.staleBanner(freshness, lang) + content + (rounded ? Self.roundingNote(lang) : "")
                )
            )
        }
    }

    /// A filter's field as the form labels it.
    static func filterField(_ field: String, _ lang: Lang) -> String {
        let names: [String: (String, String)] = [
            "from": ("起始月份（年-月）", "from (year-month)"), "to": ("截止月份（年-月）", "to (year-month)"),
            "district": ("区县", "district"), "industry": ("行业", "industry"), "size": ("规模", "size"),
            "product_kind": ("产品类型", "product kind"), "bank": ("银行", "bank"),
        ]
        return names[field].map { lang.t($0.0, $0.1) } ?? lang.t("请检查输入", "check what was entered")
    }

    // MARK: The breakdowns the inclusion and model pages show

    static let inclusionBreakdowns: [(StatDimension, zh: String, en: String)] = [
        (.size, "企业规模", "size"), (.farmer, "农户", "farmers"), (.entityType, "主体类型", "entity type"),
        (.firstLoan, "首贷与续贷", "first loan or repeat"), (.productKind, "信用、抵押与保证", "unsecured, secured, guaranteed"),
        (.industry, "行业", "industry"), (.grade, "发布时的信用等级", "grade at posting"),
    ]
    static let segmentBreakdowns: [(StatDimension, zh: String, en: String)] = [
        (.district, "区县", "district"), (.industry, "行业", "industry"), (.size, "规模", "size"),
    ]

    static func loginPage(next: String, error: String?, token: String, lang: Lang) -> String {
        Html.page(
            title: lang.t("登录", "Sign in"),
            current: "",
            session: nil,
            lang: lang,
            here: "/dashboard/login" + (next == "/dashboard" ? "" : "?next=" + PortalHtml.percent(next)),
            body: SignInForms.box(
                lang,
                area: "/dashboard",
                next: next,
                error: error,
                token: token,
                intro: "<h1>\(lang.t("监管看板登录", "Regulators' dashboard — sign in"))</h1>"
            )
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
    static func percent(_ v: StatTable.Value, _ lang: Lang) -> String {
        guard case .decimal(let d) = v else { return v == .suppressed ? lang.t("已抑制", "suppressed") : "–" }
        // Rounded half up to a tenth of a percent (0.4286 → 42.9%), never cut off.
        let tenths = (basisPoints(d) + 5) / 10
        return "\(tenths / 10).\(tenths % 10)%"
    }

    /// A ratio to its full precision as a percentage: `0.4286` → `42.86%`.
    static func exactPercent(_ d: String) -> String {
        let bp = basisPoints(d)
        return "\(bp / 100).\(String(bp % 100).leftPadded(2))%"
    }

    /// A yearly rate as people read it: `0.0435` → "4.35%" (to the basis point, as stored).
    static func ratePercent(_ d: String) -> String { PortalHtml.rate(Int(basisPoints(d))) }

    /// `0.9232` → 9232 (ratios to 4 places).
    static func basisPoints(_ d: String) -> Int64 {
        let parts = d.split(separator: ".", maxSplits: 1)
        let whole = Int64(parts.first ?? "0") ?? 0
        let frac = parts.count > 1 ? String(parts[1].prefix(4)).padding(toLength: 4, withPad: "0", startingAt: 0) : "0000"
        return whole * 10_000 + (Int64(frac) ?? 0)
    }

    static func cell(_ v: StatTable.Value, _ unit: StatTable.Unit, _ lang: Lang) -> String {
        switch v {
        case .suppressed:
            return
                "<span class=\"sup\" title=\"\(lang.t("少于 \(Suppression.threshold) 家企业", "fewer than \(Suppression.threshold) businesses"))\">\(lang.t("已抑制", "suppressed"))</span>"
        case .null: return unit == .index ? "<span class=\"muted\">\(lang.t("样本不足", "sample too small"))</span>" : "–"
        case .text(let s):
            if ["green", "amber", "red"].contains(s) {
                return "<span class=\"rag \(s)\">\(Html.escape(DashboardWords.text(s, lang)))</span>"
            }
            if unit == .time, let d = ISO8601DateFormatter().date(from: s) { return PortalHtml.day(d) }
            return Html.escape(DashboardWords.text(s, lang))
        case .decimal(let d):
            // A share in a text column (the banks' total "connected") reads as one too.
            if unit == .rate { return Html.escape(ratePercent(d)) }
            return unit == .ratio || unit == .text ? Html.figure(percent(v, lang), exact: exactPercent(d)) : Html.escape(d)
        case .int(let n):
            switch unit {
            case .fen: return Html.figure(Html.yuanShort(n), exact: Html.yuanExact(n))
            default: return Html.figure(Html.countShort(n), exact: Html.grouped(n))
            }
        }
    }

    /// A table with exact figures (the charts' numbers, readable without them).
    static func table(_ t: StatTable, caption: String, keyHeading: String, lang: Lang) -> String {
        var html =
            "<div class=\"scroll\"><table><caption class=\"note\">\(Html.escape(caption))</caption><thead><tr><th scope=\"col\">\(Html.escape(keyHeading))</th>"
        for c in t.columns { html += "<th scope=\"col\">\(Html.escape(DashboardWords.column(c.name, lang)))</th>" }
        html += "</tr></thead><tbody>"
        for r in t.rows + (t.total.map { [$0] } ?? []) {
            html += "<tr><th scope=\"row\">\(Html.escape(DashboardWords.key(r.key, lang, by: t.by ?? "")))</th>"
            for (c, v) in zip(t.columns, r.values) { html += "<td>\(cell(v, c.unit, lang))</td>" }
            html += "</tr>"
        }
        html += "</tbody></table></div>"
        if let at = t.refreshedAt {
            html += "<p class=\"note\">\(lang.t("统计更新于", "Rebuilt")) \(PortalHtml.day(at))</p>"
        }
        if let failed = t.rebuildFailedAt {
            html +=
                "<p class=\"note stale\" role=\"alert\">⚠ \(lang.t("最近一次统计更新失败（\(PortalHtml.day(failed))），以上为旧数据。", "The latest rebuild failed (\(PortalHtml.day(failed))); these figures are older."))</p>"
        }
        return html
    }

    static func filterForm(_ path: String, _ f: StatFilter, _ lang: Lang) -> String {
        let zh = !lang.english
        func month(_ name: String, _ label: String, _ value: String?) -> String {
            "<label>\(label)<input name=\"\(name)\" type=\"month\" value=\"\(Html.escape(value ?? ""))\"></label>"
        }
        func select(_ name: String, _ label: String, _ value: String?, _ options: [(String, String)]) -> String {
            var s = "<label>\(label)<select name=\"\(name)\"><option value=\"\">\(lang.t("全部", "all"))</option>"
            for (code, text) in options {
                s += "<option value=\"\(code)\"\(code == value ? " selected" : "")>\(Html.escape(text))</option>"
            }
            return s + "</select></label>"
        }
        let districts = Names.districts.filter { ["320602", "320612", "320614", "320623", "320681", "320682", "320685"].contains($0.key) }
            .sorted { $0.key < $1.key }.map { ($0.key, zh ? $0.value.zh : $0.value.en) }
        let sections = Names.industrySections.sorted { $0.key < $1.key }.map { ($0.key, zh ? $0.value.zh : $0.value.en) }
        let sizes = ["micro", "small", "medium", "large"].map { ($0, Names.size($0, chinese: zh)) }
        let kinds = ProductKind.allCases.map { ($0.rawValue, Words.word(Words.productKinds, $0.rawValue, lang)) }
        return """
            <form class="filters" method="get" action="\(path)">
            \(month("from", lang.t("起", "from"), f.from))\(month("to", lang.t("止", "to"), f.to))
            \(select("district", lang.t("区县", "district"), f.district, districts))\(select("industry", lang.t("行业", "industry"), f.industry, sections))
            \(select("size", lang.t("规模", "size"), f.size, sizes))
            \(select("product_kind", lang.t("产品", "product"), f.productKind, kinds))
            <button type="submit">\(lang.t("筛选", "Filter"))</button></form>
            """
    }

    /// What the share of banks connected is a share of: the city's licensed branches (the
    /// operator's roster) or, without a roster, the banks registered here.
    static func connectedLabel(_ banks: StatTable, _ lang: Lang) -> String {
        let roster = banks.notes.first { $0.hasPrefix(Stats.rosterNotePrefix) }
        let branches = roster.flatMap { $0.dropFirst(Stats.rosterNotePrefix.count).split(separator: " ").first }.map(String.init)
        if let branches {
            return lang.t(
                "已接入网点占全市 \(branches) 个持牌银行网点（目标 > 50%）",
                "of the city's \(branches) licensed bank branches, connected (target > 50%)"
            )
        }
        return lang.t(
            "已接入银行占本平台登记的银行（未导入全市网点名录；目标 > 50%）",
            "banks connected, of those registered here (no roster of the city's branches; target > 50%)"
        )
    }

    static func tile(_ value: String, _ label: String, exact: String? = nil) -> String {
        "<div class=\"tile\"><div class=\"v\">\(exact.map { Html.figure(value, exact: $0) } ?? Html.escape(value))</div><div class=\"l\">\(Html.escape(label))</div></div>"
    }

    /// Bars of one column of a table's shown rows (hidden rows are counted in the caption).
    static func bars(_ t: StatTable, column: String, unit: StatTable.Unit, lang: Lang) -> (bars: [Charts.Bar], hidden: Int) {
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
                        label: DashboardWords.key(r.key, lang, by: t.by ?? ""),
                        value: n,
                        display: unit == .fen ? Html.yuanShort(n) : Html.countShort(n),
                        exact: unit == .fen ? Html.yuanExact(n) : Html.grouped(n)
                    )
                )
            case .decimal(let d):
                out.append(
                    .init(
                        label: DashboardWords.key(r.key, lang, by: t.by ?? ""),
                        value: basisPoints(d),
                        display: unit == .ratio ? percent(.decimal(d), lang) : unit == .rate ? ratePercent(d) : d,
                        exact: unit == .ratio ? exactPercent(d) : unit == .rate ? ratePercent(d) : d
                    )
                )
            default: continue
            }
        }
        return (out, hidden)
    }

    static func hiddenNote(_ n: Int, _ lang: Lang) -> String {
        n > 0
            ? lang.t(
                "；\(n) 项因少于 \(Suppression.threshold) 家企业而抑制",
                "; \(n) hidden for counting fewer than \(Suppression.threshold) businesses"
            ) : ""
    }

    // MARK: Pages

}
