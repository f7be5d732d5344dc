import CreditCore
import Foundation
import HTTPTypes
import PostgresNIO
import Store

/// A business's own signed report (`GET /portal/reports/{number}`), as a bank would file it: a
/// cover (number, subject, dates, where to verify), what the report covers and how to verify it
/// (报告说明), every section with Chinese labels and values in words, and the business's earlier
/// reports. The signed document itself is downloaded, not shown. Loaded (`load`) inside the
/// handler's audited read, as the API's read of a report is.
enum ReportPage {
    struct Model {
        let report: SignedReport
        /// Where anyone verifies it: an absolute address.
        let verifyURL: String
        let earlier: [Reports.Listed]
    }

    /// The business's own report of that number (or 404), and its other reports.
    static func load(_ c: PostgresConnection, _ call: Call) async throws -> Model {
        let number = try call.parameter("number")
        let uscc = try call.ownUSCC()
        guard let found = try await Reports.find(c, logger: call.logger, number: number), found.report.uscc == uscc else {
            throw Problem(.notFound, "no report \(number) of yours")
        }
        let earlier = try await Reports.about(c, logger: call.logger, uscc: uscc).filter { $0.number != number }
        return Model(report: found.report, verifyURL: verifyURL(call, number: number, code: found.report.verifyCode), earlier: earlier)
    }

    /// The verification address as the caller reached this service (behind a proxy, its
    /// `X-Forwarded-Proto` and `Host`).
    static func verifyURL(_ call: Call, number: String, code: String?) -> String {
        let headers = call.request.headers
        let proto = headers[HTTPField.Name("X-Forwarded-Proto")!].flatMap { ["http", "https"].contains($0) ? $0 : nil } ?? "http"
        let host = call.request.head.authority ?? "localhost"
        let safeHost = host.allSatisfy { $0.isLetter || $0.isNumber || ".-:[]".contains($0) } ? host : "localhost"
        return "\(proto)://\(safeHost)/v1/reports/\(number)/verification" + (code.map { "?code=\($0)" } ?? "")
    }

    // MARK: Render

    static func render(_ m: Model, lang: Lang) -> String {
        let e = Html.escape
        let r = m.report
        let doc = (try? JSONParser.parse(Array(r.canonical.utf8))) ?? .null
        let content = doc["content"] ?? .null
        let ent = content["enterprise"] ?? .null
        let zh = !lang.english
        func s(_ v: JSONValue?) -> String { v?.stringValue ?? "–" }
        func fen(_ v: JSONValue?) -> String {
            if case .number(let n)? = v, let f = Int64(n) { return Money.display(fen: f) }
            return "–"
        }
        func moment(_ v: JSONValue?) -> String {
            let parse = ISO8601DateFormatter()
            parse.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let text = v?.stringValue, let d = parse.date(from: text) else { return s(v) }
            return PortalHtml.day(d)
        }
        func table(_ caption: String, _ head: [String], _ rows: [[String]], empty: String) -> String {
            PortalHtml.table(caption, head, rows, empty: empty)
        }

        // Cover.
        var body = """
            <section class="card cover"><h2>\(lang.t("企业信用报告", "Business credit report"))</h2>
            <dl class="facts">
            <dt>\(lang.t("报告编号", "Report number"))</dt><dd>\(e(r.number))</dd>
            <dt>\(lang.t("报告主体", "Subject"))</dt><dd>\(e(s(ent["name"]))) · \(lang.t("统一社会信用代码", "USCC")) \(e(r.uscc))</dd>
            <dt>\(lang.t("出具时间", "Issued"))</dt><dd>\(PortalHtml.day(r.createdAt))</dd>
            <dt>\(lang.t("数据截至", "Data as of"))</dt><dd>\(e(moment(content["as_of"])))</dd>
            <dt>\(lang.t("核验地址", "Verify at"))</dt><dd><a href="\(e(m.verifyURL))">\(e(m.verifyURL))</a></dd>
            \(r.verifyCode.map { "<dt>\(lang.t("核验码", "Verification code"))</dt><dd><strong translate=\"no\">\(e($0))</strong></dd>" } ?? "")
            </dl>
            <p class="noprint"><a class="btn" href="/portal/reports/\(e(r.number))/download">\(lang.t("下载签名文件", "Download the signed file"))</a>
            <span class="muted">\(lang.t("用浏览器的“打印”即可打印本报告。", "Print it with the browser's Print."))</span></p></section>
            """

        // 报告说明.
        body += """
            <section class="card"><h2>\(lang.t("报告说明", "About this report"))</h2><ol>
            <li>\(lang.t("信息来源：市场监管（登记、许可、处罚）、税务（申报、纳税信用等级）、人社（社会保险）、水电气公用事业（缴费）、合同履约平台和信用主管部门（失信名单），经本平台按统一规则采集。",
                         "Sources: market regulation (register, licences, penalties), tax (returns, taxpayer grade), human resources (social insurance), utilities (bills), the contract platform and the credit authority (dishonesty lists), gathered by this service under one set of rules."))</li>
            <li>\(lang.t("数据截至上列时刻：只包含此前已到达的记录；行政处罚只列公示期内且未经信用修复的；失信名单列出列入与移出日期。",
                         "Data as of the moment above: only records that had arrived by then; penalties only while published and not repaired; listings with the days they began and ended."))</li>
            <li>\(lang.t("个人信息已遮蔽：法定代表人证件号只显示部分位数；个人身份证号码不出现在报告中。",
                         "Personal data is masked: the legal representative's ID number shows only some digits; no resident ID number appears."))</li>
            <li>\(lang.t("核验：报告由本平台以电子签名（Ed25519）签署。访问上列核验地址（含只印在本报告上的核验码），可看到报告编号、主体、出具时间、数据截至时间、评分与等级，逐项与本报告核对即可发现改动；下载的签名文件可用本平台公钥离线验证。",
                         "To verify: the report is signed by this service (Ed25519). The address above (with the verification code printed only on this report) shows its number, subject, issue time, as-of time, score and grade: compare them with this copy to catch any change; the downloaded signed file can be checked offline with the service's public key."))</li>
            </ol></section>
            """

        // Register.
        let register: [(String, String)] = [
            (lang.t("企业名称", "Name"), s(ent["name"])),
            (lang.t("主体类型", "Entity type"), Names.entityType(s(ent["entity_type"]), chinese: zh)),
            (lang.t("行业", "Industry"), Names.industry(s(ent["industry_code"]), chinese: zh)),
            (lang.t("所在区县", "District"), Names.district(s(ent["district_code"]), chinese: zh)),
            (lang.t("企业规模", "Size"), Names.size(s(ent["size_class"]), chinese: zh)),
            (lang.t("登记状态", "Status"), Scorecard.category(s(ent["status"]), chinese: zh)),
            (lang.t("成立日期", "Established"), s(ent["established_on"])),
            (lang.t("注册资本", "Registered capital"), fen(ent["registered_capital_fen"])),
            (lang.t("法定代表人", "Legal representative"), s(ent["legal_rep_name"])),
            (lang.t("法定代表人证件号（已遮蔽）", "Their ID number (masked)"), s(ent["legal_rep_id_masked"])),
        ]
        body += "<h2>\(lang.t("登记信息", "Register"))</h2><dl class=\"facts\">"
        body += register.map { "<dt>\(e($0.0))</dt><dd>\(e($0.1))</dd>" }.joined() + "</dl>"

        // Profile.
        let p = content["profile"] ?? .null
        body += "<h2>\(lang.t("信用评价", "Credit profile"))</h2>"
        body +=
            "<p>\(lang.t("评分", "Score")) <strong>\(e(p["score"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "–"))</strong> · \(lang.t("等级", "Grade")) <strong>\(e(s(p["grade"])))</strong> · \(lang.t("评分卡", "Scorecard")) \(e(s(p["scorecard_version"])))</p>"
        if case .array(let reasons)? = p["reasons"], !reasons.isEmpty {
            body += "<h3>\(lang.t("主要扣分原因", "Why not higher"))</h3><ol>"
            body += reasons.map { "<li>\(e(s(lang.english ? $0["en"] : $0["zh"])))</li>" }.joined() + "</ol>"
        }
        if case .object(let features)? = p["features"] {
            let rows = Feature.allCases.compactMap { f -> [String]? in
                guard let v = features[f.rawValue] else { return nil }
                let value: FeatureValue =
                    switch v {
                    case .number(let n): Int64(n).map(FeatureValue.number) ?? .missing
                    case .string(let c): .category(c)
                    default: .missing
                    }
                // The records it was computed from, by dataset and record number.
                var basis = "–"
                if case .array(let refs)? = p["lineage"]?[f.rawValue], !refs.isEmpty {
                    let names = refs.compactMap(\.stringValue).map { ref -> String in
                        let parts = ref.split(separator: "/", maxSplits: 1).map(String.init)
                        let d = Dataset(rawValue: parts[0]).map { PortalHtml.dataset($0, lang) } ?? ""
                        return parts.count > 1 ? "\(d) \(parts[1])" : ref
                    }
                    basis =
                        "<details><summary>\(lang.t("\(names.count) 条记录", "\(names.count) records"))</summary><p class=\"refs\">"
                        + names.map(e).joined(separator: "<br>") + "</p></details>"
                }
                return [e(lang.english ? f.definition.en : f.definition.zh), e(Scorecard.render(value, f, chinese: zh)), basis]
            }
            body += table(
                lang.t("评价所依据的指标及其记录", "The features the profile rests on, and their records"),
                [lang.t("指标", "Feature"), lang.t("取值", "Value"), lang.t("依据", "Records")],
                rows,
                empty: ""
            )
        }

        // Records.
        if case .object(let counts)? = content["records_by_dataset"] {
            let rows = Dataset.allCases.map { d in
                [e(PortalHtml.dataset(d, lang)), e(counts[d.rawValue].map { s($0) == "–" ? $0.jsonText : s($0) } ?? "0")]
            }
            body += "<h2>\(lang.t("记录汇总", "Records by dataset"))</h2>"
            body += table(lang.t("各类记录条数", "Records of each kind"), [lang.t("数据集", "Dataset"), lang.t("条数", "Records")], rows, empty: "")
        }
        if case .array(let penalties)? = content["published_penalties"] {
            let rows = penalties.map { x in
                [
                    e(s(x["decision_no"])), e(s(x["authority"])), e(s(x["decided_on"])), e(s(x["violation"])),
                    e(Names.severities[s(x["severity"])].map { zh ? $0.zh : $0.en } ?? "–"), e(fen(x["fine_amount_fen"])),
                    e(s(x["publicity_ends_on"])),
                ]
            }
            body += "<h2>\(lang.t("公示中的行政处罚", "Published penalties"))</h2>"
            body += table(
                lang.t("公示期内、未经修复的行政处罚", "Penalties within their publicity window, not repaired"),
                [
                    lang.t("决定书文号", "Decision"), lang.t("处罚机关", "Authority"), lang.t("决定日期", "Decided"), lang.t("违法行为", "Violation"),
                    lang.t("严重程度", "Severity"), lang.t("罚款", "Fine"), lang.t("公示截止", "Published until"),
                ],
                rows,
                empty: lang.t("无", "None")
            )
        }
        if case .array(let listings)? = content["dishonesty_listings"] {
            let rows = listings.map { x in
                [
                    e(PortalHtml.code(s(x["list_type"]), lang)), e(s(x["case_no"])), e(s(x["authority"])), e(s(x["listed_on"])),
                    e(x["removed_on"]?.stringValue ?? lang.t("未移出", "not removed")), e(fen(x["amount_involved_fen"])),
                ]
            }
            body += "<h2>\(lang.t("失信名单", "Dishonesty listings"))</h2>"
            body += table(
                lang.t("列入与移出", "Listed and removed"),
                [
                    lang.t("名单", "List"), lang.t("案号", "Case"), lang.t("列入机关", "Authority"), lang.t("列入日期", "Listed"),
                    lang.t("移出日期", "Removed"), lang.t("涉及金额", "Amount involved"),
                ],
                rows,
                empty: lang.t("无", "None")
            )
        }
        if case .array(let disputed)? = content["disputed_records"] {
            let rows = disputed.map { x in
                [
                    e(Dataset(rawValue: s(x["dataset"])).map { PortalHtml.dataset($0, lang) } ?? "–"), e(s(x["record_id"])),
                    e(moment(x["disputed_since"])),
                ]
            }
            body += "<h2>\(lang.t("有异议的记录", "Records under objection"))</h2>"
            body += table(
                lang.t("企业提出异议、尚未答复的记录", "Records the business objected to, not yet answered"),
                [lang.t("数据集", "Dataset"), lang.t("记录号", "Record"), lang.t("提出时间", "Since")],
                rows,
                empty: lang.t("无", "None")
            )
        }
        if case .array(let commitments)? = content["commitments"] {
            let rows = commitments.map { x -> [String] in
                let kind = Commitments.Kind(rawValue: s(x["kind"]))
                return [
                    e(kind.map { zh ? $0.zh : $0.en } ?? "–"), e(s(x["starts_on"])), e(s(x["ends_on"])),
                    e(PortalHtml.governanceState(s(x["state"]), lang)),
                ]
            }
            body += "<h2>\(lang.t("信用承诺", "Credit commitments"))</h2>"
            body += table(
                lang.t("企业作出的信用承诺及履行情况", "The business's commitments and how they stand"),
                [lang.t("承诺内容", "Commitment"), lang.t("开始", "From"), lang.t("结束", "To"), lang.t("状态", "State")],
                rows,
                empty: lang.t("无", "None")
            )
        }
        if case .array(let queries)? = content["query_history"] {
            let rows = queries.map { x in
                [
                    e(moment(x["at"])), e(s(x["bank"])), e(Words.word(Words.actions, s(x["action"]), lang)),
                    e(s(x["purpose"]).isEmpty || s(x["purpose"]) == "–" ? "–" : Words.word(Words.purposes, s(x["purpose"]), lang)),
                ]
            }
            body += "<h2>\(lang.t("查询记录", "Who looked"))</h2>"
            body += table(
                lang.t("银行的查询与办理记录", "Banks' reads and decisions"),
                [lang.t("时间", "When"), lang.t("银行", "Bank"), lang.t("事项", "What"), lang.t("用途", "Purpose")],
                rows,
                empty: lang.t("无", "None")
            )
        }

        // Earlier reports.
        let earlier = m.earlier.map { x in
            [
                "<a href=\"/portal/reports/\(e(x.number))\">\(e(x.number))</a>", PortalHtml.day(x.createdAt), PortalHtml.day(x.asOf),
                e(x.requesterKind == "enterprise" ? lang.t("本企业", "this business") : x.requester),
            ]
        }
        body += "<h2 class=\"noprint\">\(lang.t("以往的报告", "Earlier reports"))</h2><div class=\"noprint\">"
        body += table(
            lang.t("本企业的其他信用报告", "This business's other reports"),
            [lang.t("报告编号", "Number"), lang.t("出具时间", "Issued"), lang.t("数据截至", "As of"), lang.t("申请方", "Asked for by")],
            earlier,
            empty: lang.t("没有其他报告。", "No other reports.")
        )
        return body + "</div>"
    }
}
