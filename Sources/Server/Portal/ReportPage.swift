import CreditCore
import Foundation
import Store

/// A business's own signed report (`GET /portal/reports/{number}`), printable: what the signed
/// document says, section by section, and the document itself. Loaded by `ownReport`.
enum ReportPage {
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
            body += "<h2>\(lang.t("登记信息", "Register"))</h2>" + PortalRoutes.jsonTable(ent)
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
            body += "<h2>\(lang.t(zh, en))</h2>" + PortalRoutes.jsonTable(v)
        }
        body +=
            "<h2 class=\"noprint\">\(lang.t("报告全文", "The whole report"))</h2><details class=\"noprint\"><summary>JSON</summary><pre class=\"wrap\">\(e(r.canonical))</pre></details>"
        return body
    }
}
