import CreditCore
import Foundation
import Store

/// The business's credit check-up (`GET /portal`): loaded through Store (`CheckUp.load`: the
/// stored profile, the advice on it, the records, each penalty's publicity as the repair rules
/// read it), shaped into a `Model`, rendered by a pure function of the model and the language.
enum CheckUpPage {
    struct Better {
        let bin: Scorecard.Bin
        let gain: Int
    }

    struct FeatureRow {
        let feature: Feature
        let value: FeatureValue
        let points: Int
        let maxPoints: Int
        /// The best bin conduct can reach, when the feature is below its maximum.
        let better: Better?
        /// The records the value was computed from.
        var records: [RecordRef] = []
    }

    struct RecordRow {
        let recordId: String
        /// The record's fields (shown by `RecordFields`).
        let data: JSONValue
        let provider: String
        /// `current`, `disputed` or `suppressed`.
        let status: String
        /// For a penalty: its publicity and whether it may be repaired.
        let penalty: CheckUp.Penalty?
        /// The business's own statement on it, while live.
        var statement: String? = nil
    }

    struct Group {
        let dataset: Dataset
        let rows: [RecordRow]
        /// Shown unfolded: the datasets people look at first, or any record not current.
        let open: Bool
    }

    struct Model {
        let score: Int?
        let grade: String?
        let grades: [Scorecard.Grade]
        let scorecardVersion: String
        let asOfDay: String
        let thinFile: Bool
        let reasons: [Scorecard.Reason]
        let advice: Improvement.Advice
        let features: [FeatureRow]
        let groups: [Group]
        let recordCount: Int
    }

    // MARK: Model

    /// Records start collapsed (the summary comes first, a phone's screen is short), except those
    /// a business acts on: penalties and listings, and any group with a record not current
    /// (disputed, corrected, repaired, no longer published).
    static func opensFirst(_ d: Dataset, statuses: [String]) -> Bool {
        [.administrativePenalty, .dishonestyListing].contains(d) || statuses.contains { $0 != "current" }
    }

    static func model(_ v: CheckUp.View) -> Model {
        let features = v.card.characteristics.map { c -> FeatureRow in
            let points = v.outcome.points[c.feature] ?? 0
            var better: Better? = nil
            // Where full points are, when the business is short of them on a feature its
            // conduct moves, and only towards the favourable end (as the advice reads the card).
            if let best = c.bestBin, points < best.points, Improvement.actionable.contains(c.feature),
                let at = c.binIndex(v.features[c.feature]), c.bins[at].missing == true || c.isBetter(best, than: c.bins[at])
            {
                better = Better(bin: best, gain: best.points - points)
            }
            return FeatureRow(
                feature: c.feature,
                value: v.features[c.feature],
                points: points,
                maxPoints: c.maxPoints,
                better: better,
                records: v.lineage[c.feature] ?? []
            )
        }
        let groups = Dataset.allCases.compactMap { d -> Group? in
            let mine = v.records.filter { $0.dataset == d.rawValue }
            guard !mine.isEmpty else { return nil }
            let rows = mine.map { r -> RecordRow in
                let data = r.dataJSON.flatMap { try? JSONParser.parse(Array($0.utf8)) } ?? .null
                return RecordRow(
                    recordId: r.recordId,
                    data: data,
                    provider: d.provider.rawValue,
                    status: r.status,
                    penalty: d == .administrativePenalty ? v.penalties[r.recordId] : nil,
                    statement: r.statement
                )
            }
            return Group(dataset: d, rows: rows, open: opensFirst(d, statuses: rows.map(\.status)))
        }
        return Model(
            score: v.profile.score,
            grade: v.profile.grade,
            grades: v.card.grades,
            scorecardVersion: v.profile.scorecardVersion,
            asOfDay: v.profile.asOfDay,
            thinFile: v.profile.thinFile,
            reasons: v.profile.reasons,
            advice: v.advice,
            features: features,
            groups: groups,
            recordCount: v.records.count
        )
    }

    // MARK: Render

    /// The page's body; nil model: no profile yet.
    /// The anchor of a feature's records on the page.
    static func basisAnchor(_ f: Feature) -> String { "basis-" + f.rawValue.replacingOccurrences(of: "_", with: "-") }

    /// A link to the records behind a feature ("依据 12 条记录"), or nothing when there are none.
    static func basisLink(_ row: FeatureRow?, _ lang: Lang) -> String {
        guard let row, !row.records.isEmpty else { return "" }
        return
            " <a class=\"basis\" href=\"#\(basisAnchor(row.feature))\">\(lang.t("依据 \(row.records.count) 条记录", row.records.count == 1 ? "1 record behind it" : "\(row.records.count) records behind it"))</a>"
    }

    static func render(_ model: Model?, lang: Lang) -> String {
        guard let m = model else {
            return
                "<p>\(lang.t("还没有信用档案：数据到达后几秒内生成。", "No credit profile yet: it is made within seconds of the first records arriving."))</p>"
        }
        let e = Html.escape
        var body = ""

        // Score, grade and reasons.
        let rowsByFeature = Dictionary(uniqueKeysWithValues: m.features.map { ($0.feature, $0) })
        var reasons = ""
        for r in m.reasons {
            reasons +=
                "<li>\(e(lang.english ? r.en : r.zh)) <span class=\"muted\">(\(r.points)/\(r.maxPoints) \(lang.t("分", "points")))</span>\(basisLink(rowsByFeature[r.feature], lang))</li>"
        }
        if m.thinFile { reasons += "<li>\(lang.t("数据不足12个月：暂不评分。", "Under 12 months of data: no score yet."))</li>" }
        body += """
            <div class="grid2"><div class="card">\(PortalHtml.gauge(score: m.score, grade: m.grade, grades: m.grades, lang: lang))
            <p class="muted">\(lang.t("评分卡", "Scorecard")) \(e(m.scorecardVersion)) · \(lang.t("数据截至", "data as of")) \(e(m.asOfDay))</p></div>
            <div class="card"><h2>\(lang.t("主要扣分原因", "Why not higher"))</h2><ol>\(reasons.isEmpty ? "<li>\(lang.t("无", "none"))</li>" : reasons)</ol></div></div>
            """

        // What would raise the grade.
        let advice = m.advice
        body += "<section class=\"card\"><h2 id=\"raise\">\(lang.t("如何提升等级", "What would raise my grade"))</h2>"
        if let next = advice.nextGrade, advice.reaches {
            body +=
                "<p>\(lang.t("距 \(next) 级还差 \(advice.pointsNeeded) 分。做到以下几点即可：", "\(advice.pointsNeeded) points short of grade \(next). These changes would do it:"))</p>"
        } else {
            body += "<p>\(e((lang.english ? advice.blockedEn : advice.blockedZh) ?? ""))</p>"
        }
        for s in advice.steps {
            let def = s.feature.definition
            body +=
                "<div class=\"step\"><strong>\(e(lang.english ? def.en : def.zh))</strong>: \(e(Scorecard.render(s.current, s.feature, chinese: !lang.english))) → \(e(lang.english ? s.targetEn : s.targetZh)) <span class=\"muted\">(+\(s.gain) \(lang.t("分", "points")))</span></div>"
        }
        body += "</section>"

        // Features against what would improve them.
        let rows = m.features.map { f -> [String] in
            [
                e(lang.english ? f.feature.definition.en : f.feature.definition.zh),
                e(PortalHtml.code(Scorecard.render(f.value, f.feature, chinese: !lang.english), lang)),
                "\(f.points) / \(f.maxPoints)",
                f.better.map { e(Improvement.describe($0.bin, f.feature, chinese: !lang.english)) + " (+\($0.gain))" } ?? "",
                basisLink(f, lang).trimmingCharacters(in: .whitespaces),
            ]
        }
        body +=
            "<h2>\(lang.t("指标", "Features"))</h2>"
            + PortalHtml.table(
                lang.t("每个指标的取值、得分和可改进的方向", "Each feature's value, points and what would improve it"),
                [
                    lang.t("指标", "Feature"), lang.t("取值", "Value"), lang.t("得分/满分", "Points / max"), lang.t("可改进到", "Would improve at"),
                    lang.t("依据", "Records"),
                ],
                rows,
                empty: ""
            )

        // The records behind each feature, with the fields the value was computed from.
        let byRef = Dictionary(
            m.groups.flatMap { g in g.rows.map { (RecordRef(g.dataset, $0.recordId), $0) } },
            uniquingKeysWith: { a, _ in a }
        )
        let today = Day(m.asOfDay) ?? Day.todayInChina()
        let withRecords = m.features.filter { !$0.records.isEmpty }
        if !withRecords.isEmpty {
            body +=
                "<h2 id=\"basis\">\(lang.t("指标的依据", "The records behind each feature"))</h2><p class=\"muted\">\(lang.t("每个指标由下列记录计算得出；对有误的记录可提出异议。", "Each feature is computed from the records below; object to any that is wrong."))</p>"
            for f in withRecords {
                let def = f.feature.definition
                var tables = ""
                for d in Dataset.allCases {
                    let refs = f.records.filter { $0.dataset == d }
                    guard !refs.isEmpty else { continue }
                    let rows = refs.map { ref -> [String] in
                        let cells =
                            byRef[ref].map { RecordFields.cells(d, $0.data, lang: lang, today: today) }
                            ?? RecordFields.columns(d).map { _ in "–" }
                        return [e(ref.recordId)] + cells
                    }
                    tables += PortalHtml.table(
                        PortalHtml.dataset(d, lang),
                        [lang.t("记录号", "Record")] + RecordFields.headings(d, lang),
                        rows,
                        empty: ""
                    )
                }
                body +=
                    "<details id=\"\(basisAnchor(f.feature))\"><summary>\(e(lang.english ? def.en : def.zh))：\(e(Scorecard.render(f.value, f.feature, chinese: !lang.english))) · \(lang.t("\(f.records.count) 条记录", f.records.count == 1 ? "1 record" : "\(f.records.count) records"))</summary>\(tables)</details>"
            }
        }

        // Records, by dataset, with their status and actions.
        body +=
            "<h2 id=\"records\">\(lang.t("记录", "Records")) (\(m.recordCount))</h2><p class=\"muted\">\(lang.t("每条记录的来源、日期和状态；对有误的记录可提出异议，对符合条件的行政处罚可申请信用修复。", "Each record's source, date and status; object to a wrong record, or apply to repair an eligible penalty."))</p>"
        for g in m.groups {
            let rows = g.rows.map { r -> [String] in
                var status =
                    r.status == "disputed"
                    ? PortalHtml.badge("disputed", lang.t("有争议", "disputed"))
                    : r.status == "unverified"
                        ? PortalHtml.badge("disputed", lang.t("异议经核查无法确认", "objected: could not be verified"))
                        : r.status == "suppressed"
                            ? PortalHtml.badge("suppressed", lang.t("已更正", "corrected")) : PortalHtml.badge("", lang.t("正常", "current"))
                var actions =
                    "<a href=\"/portal/objections/new?dataset=\(g.dataset.rawValue)&amp;record=\(e(PortalHtml.percent(r.recordId)))\">\(lang.t("提出异议", "Object"))</a>"
                if let s = r.statement {
                    status += "<br><span class=\"hint\">\(lang.t("本企业说明：", "Our statement: "))\(e(s))</span>"
                } else {
                    actions +=
                        " · <a href=\"/portal/statements/new?dataset=\(g.dataset.rawValue)&amp;record=\(e(PortalHtml.percent(r.recordId)))\">\(lang.t("添加说明", "Add a statement"))</a>"
                }
                if let p = r.penalty {
                    if let on = p.repairedOn {
                        status += " " + PortalHtml.badge("repaired", lang.t("已修复 \(on)", "repaired \(on)"))
                    } else if p.neverPublished {
                        status += " " + PortalHtml.badge("unpublished", lang.t("轻微违法，不公示", "minor: not published"))
                    } else if !p.published {
                        status += " " + PortalHtml.badge("unpublished", lang.t("已停止公示", "no longer published"))
                    } else {
                        status += " " + PortalHtml.badge("", lang.t("公示至 \(p.publishedUntil)", "published until \(p.publishedUntil)"))
                        if p.pending {
                            status += " " + PortalHtml.badge("disputed", lang.t("修复申请处理中", "repair applied for"))
                        } else if p.repairable {
                            actions +=
                                " · <a href=\"/portal/repairs/new?record=\(e(PortalHtml.percent(r.recordId)))\">\(lang.t("申请信用修复", "Apply for repair"))</a>"
                        }
                    }
                }
                return [e(r.recordId)] + RecordFields.cells(g.dataset, r.data, lang: lang, today: today) + [status, actions]
            }
            body +=
                "<details\(g.open ? " open" : "")><summary>\(e(PortalHtml.dataset(g.dataset, lang))) (\(g.rows.count))</summary>"
                + PortalHtml.table(
                    PortalHtml.dataset(g.dataset, lang),
                    [lang.t("记录号", "Record")] + RecordFields.headings(g.dataset, lang) + [lang.t("状态", "Status"), lang.t("操作", "Actions")],
                    rows,
                    empty: ""
                ) + "</details>"
        }
        return body
    }
}
