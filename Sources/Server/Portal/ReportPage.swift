import CreditCore
import Foundation
import PostgresNIO
import Store

/// A business's own signed report (`GET /portal/reports/{number}`), printable: what the signed
/// document says, section by section, and the document itself. Loaded (`load`) inside the
/// handler's audited read, as the API's read of a report is.
enum ReportPage {
    /// The business's own report of that number, or 404.
    static func load(_ c: PostgresConnection, _ call: Call) async throws -> SignedReport {
        let number = try call.parameter("number")
        guard let found = try await Reports.find(c, logger: call.logger, number: number), found.report.uscc == (try call.ownUSCC()) else {
            throw Problem(.notFound, "no report \(number) of yours")
        }
        return found.report
    }

    static func render(_ r: SignedReport, lang: Lang) -> String {
        let e = Html.escape
        let report = (try? JSONParser.parse(Array(r.canonical.utf8))) ?? .null
        let content = report["content"] ?? .null
        var body = """
            <div class="card"><p><strong>\(lang.t("报告编号", "Report number"))</strong>: \(e(r.number)) · \(lang.t("出具时间", "issued")) \(PortalHtml.day(r.createdAt))
            · \(lang.t("数据截至", "as of")) \(e(content["as_of"]?.stringValue ?? ""))</p>
            <p><strong>\(lang.t("核验地址", "Verify at"))</strong>: <code>/v1/reports/\(e(r.number))/verification</code> ·
            \(lang.t("签名", "signature")) Ed25519 · \(lang.t("密钥", "key")) <code>\(e(r.keyId))</code></p>
            <p class="noprint"><a class="btn" href="/portal/reports/\(e(r.number))/download">\(lang.t("下载 JSON", "Download JSON"))</a>
            <a class="btn secondary" href="/v1/reports/\(e(r.number))/verification">\(lang.t("在线核验", "Verify online"))</a></p></div>
            """
        if let ent = content["enterprise"] {
            body += "<h2>\(lang.t("登记信息", "Register"))</h2>" + jsonTable(ent)
        }
        if let p = content["profile"] {
            body +=
                "<h2>\(lang.t("信用档案", "Profile"))</h2><p>\(lang.t("评分", "Score")) <strong>\(e(p["score"]?.jsonText ?? "–"))</strong> · \(lang.t("等级", "grade")) <strong>\(e(p["grade"]?.stringValue ?? "–"))</strong> · \(e(p["scorecard_version"]?.stringValue ?? ""))</p>"
            if case .array(let reasons)? = p["reasons"] {
                body += "<ol>" + reasons.map { "<li>\(e((lang.english ? $0["en"] : $0["zh"])?.stringValue ?? ""))</li>" }.joined() + "</ol>"
            }
        }
        for (key, zh, en) in [
            ("records_by_dataset", "记录汇总", "Records by dataset"), ("published_penalties", "公示中的行政处罚", "Published penalties"),
            ("dishonesty_listings", "失信名单", "Dishonesty listings"), ("disputed_records", "有争议的记录", "Disputed records"),
            ("commitments", "信用承诺", "Credit commitments"), ("query_history", "查询记录", "Query history"),
        ] {
            guard let v = content[key] else { continue }
            body += "<h2>\(lang.t(zh, en))</h2>" + jsonTable(v)
        }
        body +=
            "<h2 class=\"noprint\">\(lang.t("报告全文", "The whole report"))</h2><details class=\"noprint\"><summary>JSON</summary><pre class=\"wrap\">\(e(r.canonical))</pre></details>"
        return body
    }

    /// A part of a report as a table: an object as field → value, an array of objects as rows.
    static func jsonTable(_ v: JSONValue) -> String {
        let e = Html.escape
        func text(_ x: JSONValue) -> String {
            switch x {
            case .string(let s): return s
            case .null: return "–"
            default: return x.jsonText
            }
        }
        switch v {
        case .object(let o):
            guard o.count > 0 else { return "<p class=\"muted\">–</p>" }
            return PortalHtml.table("", ["·", "·"], o.pairs.map { [e($0.key), e(text($0.value))] }, empty: "–")
        case .array(let items):
            var keys: [String] = []
            for item in items { if case .object(let o) = item { for p in o.pairs where !keys.contains(p.key) { keys.append(p.key) } } }
            guard !keys.isEmpty else { return "<p class=\"muted\">–</p>" }
            return PortalHtml.table("", keys, items.map { item in keys.map { e(item[$0].map(text) ?? "–") } }, empty: "–")
        default:
            return "<p>\(e(text(v)))</p>"
        }
    }
}
