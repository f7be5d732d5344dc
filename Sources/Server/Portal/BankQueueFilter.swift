import CreditCore
import Foundation
import Store

/// The officer's queue narrowed (`GET /portal/bank?stage=&due=&product=&grade=&q=&page=`): by
/// where each demand stands for this bank, by its deadline, by the product it would be offered
/// under, by the business's grade (that grade or better), and by the business's name or code; then
/// paged. A pure function of what the queue already shows.
struct BankQueueFilter: Equatable {
    enum Stage: String, CaseIterable {
        /// Matched, not yet taken up by this bank.
        case waiting
        /// Taken up by this bank, no offer yet.
        case held
        /// Offered, waiting for the business.
        case offered
        /// Granted to this bank.
        case granted
    }

    enum Due: String, CaseIterable {
        case overdue
        /// Due within two working days (or overdue).
        case soon
    }

    var stage: Stage?
    var due: Due?
    var product: UUID?
    /// Part of the business's name, or of its code (case-insensitive), at most `maxQuery`.
    var query: String = ""
    /// That grade or better (the active scorecard's grades, best first); nil: any.
    var grade: String?
    var page: Int = 1

    static let maxQuery = 40
    static let pageSize = 20
    static let soonWorkingDays = 2

    init(stage: Stage? = nil, due: Due? = nil, product: UUID? = nil, query: String = "", grade: String? = nil, page: Int = 1) {
        self.stage = stage
        self.due = due
        self.product = product
        self.query = query
        self.grade = grade
        self.page = page
    }

    /// From the page's query string: unknown values are ignored (a shared link never fails).
    init(_ q: [String: String]) {
        stage = q["stage"].flatMap(Stage.init(rawValue:))
        due = q["due"].flatMap(Due.init(rawValue:))
        product = q["product"].flatMap(UUID.init(uuidString:))
        query = String((q["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(Self.maxQuery))
        // A grade is a few capital letters; one the scorecard does not have is ignored later.
        grade = q["grade"].flatMap { g in g.count <= 3 && !g.isEmpty && g.allSatisfy { $0.isASCII && $0.isUppercase } ? g : nil }
        page = max(1, min(Int(q["page"] ?? "") ?? 1, 10_000))
    }

    var isEmpty: Bool { stage == nil && due == nil && product == nil && query.isEmpty && grade == nil }

    /// The grade filter when the scorecard knows the grade (nil otherwise: the link's value is ignored).
    func gradeFilter(order: [String]) -> String? { grade.flatMap { order.contains($0) ? $0 : nil } }

    /// Whether a business of grade `g` is kept by the grade filter (`order`: best first).
    func keepsGrade(_ g: String?, order: [String]) -> Bool {
        guard let wanted = gradeFilter(order: order) else { return true }
        guard let g, let i = order.firstIndex(of: g), let w = order.firstIndex(of: wanted) else { return false }
        return i <= w
    }

    /// The page asked for (clamped to those there are), and how many pages there are.
    func paged(_ kept: [Demand]) -> (shown: [Demand], page: Int, pages: Int) {
        let pages = max(1, (kept.count + Self.pageSize - 1) / Self.pageSize)
        let page = min(self.page, pages)
        return (Array(kept.dropFirst((page - 1) * Self.pageSize).prefix(Self.pageSize)), page, pages)
    }

    /// The link to another page of the same selection.
    func link(page: Int) -> String {
        var parts: [String] = []
        if let stage { parts.append("stage=\(stage.rawValue)") }
        if let due { parts.append("due=\(due.rawValue)") }
        if let product { parts.append("product=\(product.uuidString.lowercased())") }
        if let grade { parts.append("grade=" + PortalHtml.percent(grade)) }
        if !query.isEmpty { parts.append("q=" + PortalHtml.percent(query)) }
        parts.append("page=\(page)")
        return "/portal/bank?" + parts.joined(separator: "&amp;")
    }

    static func stage(of d: Demand) -> Stage {
        switch d.offer?.state {
        case .offered?: .offered
        case .takenUp?: .held
        default: d.state == .granted ? .granted : .waiting
        }
    }

    /// Working days left to this bank's deadline (negative: overdue).
    static func left(_ d: Demand, today: Day) -> Int {
        let due = d.offer?.state == .takenUp ? d.offer!.decisionDueOn : d.takeUpDueOn
        return Day(due).map { today.workingDays(until: $0) } ?? 0
    }

    func keeps(_ d: Demand, name: String?, product p: ListedProduct?, today: Day) -> Bool {
        if let stage, Self.stage(of: d) != stage { return false }
        if let due {
            guard Self.stage(of: d) == .waiting || Self.stage(of: d) == .held else { return false }
            let left = Self.left(d, today: today)
            if due == .overdue && left >= 0 { return false }
            if due == .soon && left > Self.soonWorkingDays { return false }
        }
        if let product, p?.id != product { return false }
        if !query.isEmpty {
            let q = query.lowercased()
            guard (name ?? "").lowercased().contains(q) || d.uscc.lowercased().contains(q) else { return false }
        }
        return true
    }

    /// The demands kept; the grade filter applies when `order` knows its grade (`grades`: by code).
    func apply(
        _ items: [Demand],
        names: [String: String],
        products: [UUID: ListedProduct],
        grades: [String: String] = [:],
        order: [String] = [],
        today: Day
    ) -> [Demand] {
        items.filter {
            keeps($0, name: names[$0.uscc], product: products[$0.id], today: today) && keepsGrade(grades[$0.uscc], order: order)
        }
    }

    /// The filter form (GET), with the products the queue's demands would be offered under.
    func form(products: [ListedProduct], grades: [String], lang: Lang, shown: Int, of total: Int, page: Int = 1, pages: Int = 1) -> String {
        let e = Html.escape
        func option(_ value: String, _ label: String, _ selected: Bool) -> String {
            "<option value=\"\(e(value))\"\(selected ? " selected" : "")>\(e(label))</option>"
        }
        let stages: [(Stage, String, String)] = [
            (.waiting, "待受理", "Waiting"), (.held, "已受理待报价", "Taken up"), (.offered, "已报价", "Offered"), (.granted, "已获批", "Granted"),
        ]
        let stageOptions =
            option("", lang.t("全部", "All"), stage == nil) + stages.map { option($0.0.rawValue, lang.t($0.1, $0.2), stage == $0.0) }.joined()
        let dueOptions =
            option("", lang.t("全部", "All"), due == nil) + option(Due.overdue.rawValue, lang.t("已逾期", "Overdue"), due == .overdue)
            + option(
                Due.soon.rawValue,
                lang.t("\(Self.soonWorkingDays) 个工作日内到期", "Due within \(Self.soonWorkingDays) working days"),
                due == .soon
            )
        let productOptions =
            option("", lang.t("全部", "All"), product == nil)
            + products.map { option($0.id.uuidString.lowercased(), $0.name, product == $0.id) }.joined()
        let wanted = gradeFilter(order: grades)
        let gradeOptions =
            option("", lang.t("全部", "All"), wanted == nil)
            + grades.map { g in
                option(g, lang.t("\(g) 及以上", "\(g) or better"), wanted == g)
            }.joined()
        return """
            <form class="filters" method="get" action="/portal/bank" role="search">
            <div><label for="fq">\(lang.t("企业名称或代码", "Business name or code"))</label><input id="fq" name="q" type="search" maxlength="\(Self.maxQuery)" value="\(e(query))"></div>
            <div><label for="fs">\(lang.t("进度", "Stage"))</label><select id="fs" name="stage">\(stageOptions)</select></div>
            <div><label for="fd">\(lang.t("期限", "Deadline"))</label><select id="fd" name="due">\(dueOptions)</select></div>
            <div><label for="fp">\(lang.t("产品", "Product"))</label><select id="fp" name="product">\(productOptions)</select></div>
            <div><label for="fg">\(lang.t("信用等级", "Grade"))</label><select id="fg" name="grade">\(gradeOptions)</select></div>
            <button class="btn secondary" type="submit">\(lang.t("筛选", "Filter"))</button>
            \(isEmpty ? "" : "<a href=\"/portal/bank\">\(lang.t("清除", "Clear"))</a>")
            </form>
            <p class="muted" role="status">\(lang.t("符合 \(shown) / \(total) 条", "\(shown) of \(total) match"))\(pages > 1 ? lang.t("，第 \(page) / \(pages) 页", ", page \(page) of \(pages)") : "")</p>
            """
    }
}
