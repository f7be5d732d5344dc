import CreditCore
import Foundation
import Store

/// Server-rendered HTML: escaping, Chinese number conventions, the page layout.
enum Html {
    static func escape(_ s: String) -> String {
        // Most text has nothing to escape: check the bytes first.
        guard s.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return s }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 16)
        for b in s.utf8 {
            switch b {
            case 0x26: out += Array("&amp;".utf8)
            case 0x3C: out += Array("&lt;".utf8)
            case 0x3E: out += Array("&gt;".utf8)
            case 0x22: out += Array("&quot;".utf8)
            case 0x27: out += Array("&#39;".utf8)
            default: out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ n: Int64) -> String { Money.grouped(n) }

    /// Money in fen, exactly: `¥12,345.67`.
    static func yuanExact(_ fen: Int64) -> String { Money.display(fen: fen) }

    /// Money in fen the Chinese way: `3.52亿元` from 1 亿 yuan, `86.30万元` from 1 万, else `¥9,876`.
    static func yuanShort(_ fen: Int64) -> String {
        let m = fen.magnitude
        let sign = fen < 0 ? "-" : ""
        func hundredths(_ unit: UInt64) -> String {
            let h = (m * 100 + unit / 2) / unit
            return "\(grouped(Int64(h / 100))).\(String(h % 100).leftPadded(2))"
        }
        if m >= 10_000_000_000 { return sign + hundredths(10_000_000_000) + "亿元" }  // 1 亿 yuan = 10^10 fen
        if m >= 1_000_000 { return sign + hundredths(1_000_000) + "万元" }  // 1 万 yuan = 10^6 fen
        return sign + "¥" + grouped(Int64((m + 50) / 100))
    }

    /// An axis tick: money rounded to whole 万 or tenths of 亿 (`6,199万`, `3.5亿`).
    static func yuanTick(_ fen: Int64) -> String {
        let m = fen.magnitude
        if m >= 10_000_000_000 {
            let t = (m + 500_000_000) / 1_000_000_000
            return "\(t / 10).\(t % 10)亿"
        }
        if m >= 1_000_000 { return grouped(Int64((m + 500_000) / 1_000_000)) + "万" }
        return "¥" + grouped(Int64((m + 50) / 100))
    }

    /// A count the Chinese way: `12.3万` from 10,000, else grouped.
    static func countShort(_ n: Int64) -> String {
        guard n.magnitude >= 10_000 else { return grouped(n) }
        let t = (n.magnitude * 10 + 5_000) / 10_000
        return (n < 0 ? "-" : "") + "\(grouped(Int64(t / 10))).\(t % 10)万"
    }

    /// A short figure with its exact value on hover.
    static func figure(_ short: String, exact: String) -> String {
        "<span class=\"fig\" title=\"\(escape(exact))\">\(escape(short))</span>"
    }

    static let css = """
        :root{--ink:#1d2733;--muted:#5b6775;--line:#d5dbe3;--bg:#f6f8fa;--accent:#1f5fa8;--accent2:#d9822b;--green:#2e7d32;--amber:#b26a00;--red:#c62828}
        *{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:var(--ink);background:var(--bg)}
        header{background:#14365e;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center}
        header a{color:#fff;text-decoration:none;padding:.2rem .4rem;border-radius:3px}header a[aria-current]{background:#2c5a8f}
        header .who{margin-left:auto;font-size:.9rem}header form{display:inline}header button{font:inherit;background:none;border:1px solid #fff;color:#fff;border-radius:3px;cursor:pointer}
        main{max-width:1200px;margin:0 auto;padding:1rem}h1{font-size:1.4rem;margin:.5rem 0}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
        .tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:.8rem}.tile{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.7rem}
        .tile .v{font-size:1.5rem;font-weight:600}.tile .l{color:var(--muted);font-size:.85rem}
        figure{background:#fff;border:1px solid var(--line);border-radius:6px;margin:.8rem 0;padding:.6rem;overflow-x:auto}figcaption{color:var(--muted);font-size:.85rem}
        svg{max-width:100%;height:auto}svg text{font:12px system-ui,"Noto Sans CJK SC",sans-serif;fill:var(--ink)}svg .axis{stroke:#8a96a3}svg .grid{stroke:#e4e8ee}
        table{border-collapse:collapse;background:#fff;width:100%;font-size:.9rem}th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}
        th{background:#eef2f6}.sup{color:var(--muted);font-style:italic}.rag{display:inline-block;min-width:4.5em;text-align:center;border-radius:3px;color:#fff;padding:0 .3rem}
        .rag.green{background:var(--green)}.rag.amber{background:var(--amber)}.rag.red{background:var(--red)}
        form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;background:#fff;border:1px solid var(--line);padding:.5rem;border-radius:6px}
        form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted)}input,select,button{font:inherit}
        .scroll{overflow-x:auto}.note{color:var(--muted);font-size:.85rem}.error{color:var(--red)}.note.stale{color:var(--red)}.banner.stale{background:#fff4e5;border:1px solid #f0a020;border-left:6px solid #d9480f;padding:.75rem 1rem;margin:0 0 1rem;border-radius:4px}.login{max-width:420px;margin:3rem auto;background:#fff;padding:1.5rem;border:1px solid var(--line);border-radius:6px}
        .login input{width:100%;padding:.4rem}.login button{margin-top:.8rem;padding:.4rem 1rem;background:var(--accent);color:#fff;border:0;border-radius:3px}
        .skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;color:#000;padding:.3rem}
        """

    struct Nav {
        let path: String
        let zh: String
        let en: String
    }

    static let nav = [
        Nav(path: "/dashboard", zh: "总览", en: "Overview"),
        Nav(path: "/dashboard/inclusion", zh: "普惠金融", en: "Inclusion"),
        Nav(path: "/dashboard/banks", zh: "银行服务", en: "Banks"),
        Nav(path: "/dashboard/quality", zh: "数据质量", en: "Data quality"),
        Nav(path: "/dashboard/model", zh: "模型健康", en: "Model health"),
    ]

    /// A whole page for a signed-in regulator, in one language with a switch to the other
    /// (`here`: the page to come back to, with its query).
    static func page(title: String, current: String, session: Sessions.Session?, lang: Lang, here: String? = nil, body: String) -> String {
        var links = ""
        for n in nav {
            links += "<a href=\"\(n.path)\"\(n.path == current ? " aria-current=\"page\"" : "")>\(escape(lang.t(n.zh, n.en)))</a>"
        }
        var who = ""
        if let s = session {
            who = """
                <span class="who">\(escape(s.principal.user.map { $0.name + " · " } ?? ""))\(escape(s.principal.orgName)) · \(lang.t("监管", "regulator"))
                \(s.principal.user == nil ? "" : "<a href=\"/dashboard/password\">\(lang.t("修改密码", "Password"))</a>")
                <form method="post" action="/dashboard/logout"><input type="hidden" name="csrf" value="\(escape(s.csrfToken))">
                <button type="submit">\(lang.t("退出", "Sign out"))</button></form></span>
                """
        }
        let back = PortalHtml.percent(here ?? (current.isEmpty ? "/dashboard/login" : current))
        let switchTo =
            "<a class=\"lang\" href=\"/portal/lang?to=\(lang.english ? "zh" : "en")&amp;next=\(escape(back))\" lang=\"\(lang.english ? "zh-CN" : "en")\">\(lang.english ? "中文" : "English")</a>"
        return """
            <!doctype html>
            <html lang="\(lang.code)"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
            <title>\(escape(title)) · \(lang.t("信易贷", "Xinyidai"))</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/dashboard.css"></head>
            <body><a class="skip" href="#main">\(lang.t("跳到正文", "Skip to content"))</a>
            <header><strong>\(lang.t("信易贷 · 监管看板", "Xinyidai · regulators' dashboard"))</strong><nav aria-label="\(lang.t("看板导航", "dashboard"))">\(links)</nav>\(who)\(switchTo)</header>
            <main id="main">\(body)</main></body></html>
            """
    }
}
