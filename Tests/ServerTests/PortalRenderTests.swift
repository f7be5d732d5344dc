import Foundation
import Testing

@testable import CreditCore
@testable import Server
@testable import Store

/// The portal's other pages rendered from values built by hand, without a database: labels in
/// both languages, what each offers, and escaping of everything that came from outside.
@Suite struct PortalRenderTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static let zh = Lang(english: false)
    static let en = Lang(english: true)
    static let hostile = "<script>x</script>"

    static func both(_ render: (Lang) -> String, _ zh: [String], _ en: [String]) {
        let z = render(Self.zh)
        let e = render(Self.en)
        for w in zh { #expect(z.contains(w), "zh: \(w)") }
        for w in en { #expect(e.contains(w), "en: \(w)") }
        for html in [z, e] { #expect(!html.contains("<script>"), "unescaped") }
    }

    @Test func governanceFormsAndReports() {
        let objection = Objections.Objection(
            id: UUID(),
            uscc: "U",
            dataset: "tax_filing",
            recordId: Self.hostile,
            version: 1,
            reason: Self.hostile,
            evidence: nil,
            state: "open",
            createdAt: Self.now,
            dueOn: "2026-12-20",
            overdue: true,
            resolvedAt: nil,
            resolution: nil
        )
        let repair = Repairs.Application(
            id: UUID(),
            uscc: "U",
            recordId: "P-1",
            corrections: ["fine_paid"],
            evidence: "receipt",
            state: "approved",
            createdAt: Self.now,
            dueOn: "2026-12-03",
            overdue: false,
            reason: nil,
            repairedOn: "2026-12-01"
        )
        let commitment = CommitmentStore.Commitment(
            id: UUID(),
            kind: "tax_on_time",
            text: "",
            startsOn: "2026-06-01",
            endsOn: "2026-12-01",
            state: "kept",
            brokenBy: Self.hostile
        )
        Self.both(
            { GovernancePage.render([objection], [repair], [commitment], lang: $0, session: nil) },
            ["异议", "信用修复", "信用承诺", "逾期", "2026-12-01 起停止公示"],
            ["Objections", "Credit repair", "Credit commitments", "overdue", "unpublished from 2026-12-01"]
        )
        Self.both(
            { ObjectionFormPage.render(dataset: .taxFiling, record: Self.hostile, lang: $0, session: nil) },
            ["提交异议"],
            ["Raise the objection"]
        )
        Self.both(
            { RepairFormPage.render(record: Self.hostile, lang: $0, session: nil) },
            ["已缴清罚款", "提交申请"],
            ["the fine is paid", "Apply"]
        )
        Self.both(
            {
                ReportsPage.render(
                    [.init(number: "XYD-1", createdAt: Self.now, asOf: Self.now, requester: Self.hostile, requesterKind: "bank")],
                    lang: $0,
                    session: nil
                )
            },
            ["生成信用报告", "XYD-1", "已出具的报告"],
            ["Produce my credit report", "Reports so far"]
        )
        let report = SignedReport(
            number: "XYD-2026-000001",
            uscc: "U",
            canonical:
                #"{"content":{"as_of":"2026-11-30","profile":{"grade":"B","reasons":[{"en":"<script>x</script>","zh":"原因"}],"score":700}}}"#,
            signature: "s",
            keyId: "k1",
            createdAt: Self.now
        )
        let model = ReportPage.Model(
            report: report,
            verifyURL: "https://xyd.example/v1/reports/XYD-2026-000001/verification",
            earlier: [.init(number: "XYD-2025-000009", createdAt: Self.now, asOf: Self.now, requester: Self.hostile, requesterKind: "bank")]
        )
        Self.both(
            { ReportPage.render(model, lang: $0) },
            ["报告编号", "原因", "报告说明", "https://xyd.example/v1/reports/XYD-2026-000001/verification", "XYD-2025-000009"],
            ["Report number", "&lt;script&gt;", "About this report"]
        )
        let auth = Authorisation(
            id: UUID(),
            uscc: "U",
            bankOrgId: UUID(),
            bankName: Self.hostile,
            scopes: [.profile],
            purpose: .loanApplication,
            grantedAt: Self.now,
            expiresAt: Self.now,
            revokedAt: nil,
            revokedBy: nil,
            source: "business",
            status: "live"
        )
        Self.both(
            { ConfirmRevokePage.render(auth, lang: $0, session: nil) },
            ["确认撤销", auth.id.uuidString.lowercased()],
            ["Yes, revoke", "&lt;script&gt;"]
        )
    }

    /// The queue page's model as `BankQueuePage.load` makes it, from what a test gives.
    static func queue(
        _ items: [Demand],
        names: [String: String] = [:],
        today: Day,
        products: [UUID: ListedProduct] = [:],
        offerLimitFen: Int64? = nil,
        filter: BankQueueFilter = BankQueueFilter(),
        facts: [String: Disclosure.RegistryFacts] = [:],
        grades: [String: Demands.QueueGrade] = [:],
        order: [String] = ["A", "B", "C", "D"]
    ) -> BankQueuePage.Model {
        let kept = filter.apply(
            items,
            names: names,
            products: products,
            grades: grades.compactMapValues(\.grade),
            order: order,
            today: today
        )
        let (shown, page, pages) = filter.paged(kept)
        return BankQueuePage.Model(
            items: items,
            shown: shown,
            matching: kept.count,
            page: page,
            pages: pages,
            names: names,
            facts: facts,
            products: products,
            grades: grades,
            gradeOrder: order,
            offerLimitFen: offerLimitFen
        )
    }

    /// The check-up's records start collapsed but for those a business acts on.
    @Test func theCheckUpsRecordsStartCollapsedButForThoseToActOn() {
        #expect(!CheckUpPage.opensFirst(.contractPerformance, statuses: ["current", "current"]))
        #expect(!CheckUpPage.opensFirst(.enterpriseRegistry, statuses: ["current"]))
        #expect(CheckUpPage.opensFirst(.contractPerformance, statuses: ["current", "disputed"]))
        #expect(CheckUpPage.opensFirst(.administrativePenalty, statuses: ["current"]))
        #expect(CheckUpPage.opensFirst(.dishonestyListing, statuses: []))
    }

    /// The officer's queue narrowed by stage, deadline and name or code; a link's unknown values
    /// are ignored, never an error.
    @Test func theOfficersQueueFilters() {
        var taken = PageRenderTests.demand(.takenUp, purpose: "原料")
        taken.offer = PageRenderTests.offer(.takenUp, demand: taken.id)
        let open = PageRenderTests.demand(.open, purpose: "设备")
        var offered = PageRenderTests.demand(.takenUp, purpose: "设备")
        offered.offer = PageRenderTests.offer(.offered, demand: offered.id)
        let today = Day(year: 2026, month: 11, day: 30)!
        let all = [open, taken, offered]
        let names = [open.uscc: "南通海门家纺有限公司"]
        func kept(_ f: BankQueueFilter, on day: Day = today) -> [UUID] { f.apply(all, names: names, products: [:], today: day).map(\.id) }
        #expect(kept(BankQueueFilter()) == all.map(\.id))
        #expect(kept(BankQueueFilter(stage: .waiting)) == [open.id])
        #expect(kept(BankQueueFilter(stage: .held)) == [taken.id])
        #expect(kept(BankQueueFilter(stage: .offered)) == [offered.id])
        #expect(kept(BankQueueFilter(query: "家纺")).count == 3)
        #expect(kept(BankQueueFilter(query: "test01x")).count == 3)
        #expect(kept(BankQueueFilter(query: "钢铁")).isEmpty)
        // The open demand is to be taken up by 2026-12-03 (Thursday).
        #expect(!kept(BankQueueFilter(stage: .waiting, due: .soon)).contains(open.id))
        #expect(kept(BankQueueFilter(stage: .waiting, due: .soon), on: Day(year: 2026, month: 12, day: 2)!) == [open.id])
        #expect(kept(BankQueueFilter(stage: .waiting, due: .overdue), on: Day(year: 2026, month: 12, day: 2)!).isEmpty)
        #expect(kept(BankQueueFilter(stage: .waiting, due: .overdue), on: Day(year: 2026, month: 12, day: 4)!) == [open.id])
        #expect(kept(BankQueueFilter(due: .soon), on: Day(year: 2026, month: 12, day: 4)!).allSatisfy { $0 != offered.id })
        #expect(BankQueueFilter(["stage": "nonsense", "due": "later", "product": "x", "q": "  "]) == BankQueueFilter())
        #expect(BankQueueFilter(["q": String(repeating: "长", count: 100)]).query.count == BankQueueFilter.maxQuery)
        // Each card says the business's size, district and industry (public register facts), in words.
        let facts = [
            open.uscc: Disclosure.RegistryFacts(name: "南通海门家纺有限公司", districtCode: "320614", industryCode: "C17", sizeClass: "small")
        ]
        let described = BankQueuePage.render(
            Self.queue([open], names: names, today: today, facts: facts),
            today: today,
            lang: Self.zh,
            session: nil
        )
        #expect(described.contains("小型 · 海门区 · \(Names.industry("C17", chinese: true))"), "\(described.prefix(2000))")
        let english = BankQueuePage.render(
            Self.queue([open], names: names, today: today, facts: facts),
            today: today,
            lang: Self.en,
            session: nil
        )
        #expect(english.contains("small · Haimen District"))
        let page = BankQueuePage.render(
            Self.queue(all, names: names, today: today, filter: BankQueueFilter(stage: .held)),
            filter: BankQueueFilter(stage: .held),
            today: today,
            lang: Self.zh,
            session: nil
        )
        #expect(
            page.contains("符合 1 / 3 条") && page.contains("<option value=\"held\" selected>") && page.contains("href=\"/portal/bank\">清除")
        )
        let none = BankQueuePage.render(
            Self.queue(all, names: names, today: today, filter: BankQueueFilter(query: "<x>")),
            filter: BankQueueFilter(query: "<x>"),
            today: today,
            lang: Self.en,
            session: nil
        )
        #expect(none.contains("No demand matches the filter.") && none.contains("value=\"&lt;x&gt;\"") && !none.contains("<x>"))
        // Grade: "B or better" keeps A and B, never a business without a grade; a grade the scorecard
        // lacks is ignored.
        let order = ["A", "B", "C", "D"]
        let good = PageRenderTests.demand(.open, purpose: "a", uscc: "91320602MA1GOOD01X")
        let fair = PageRenderTests.demand(.open, purpose: "c", uscc: "91320602MA1FAIR01X")
        let thin = PageRenderTests.demand(.open, purpose: "-", uscc: "91320602MA1THIN01X")
        let graded = [good.uscc: "A", fair.uscc: "C"]
        func sifted(_ f: BankQueueFilter) -> [UUID] {
            f.apply([good, fair, thin], names: [:], products: [:], grades: graded, order: order, today: today).map(\.id)
        }
        #expect(sifted(BankQueueFilter(grade: "B")) == [good.id])
        #expect(sifted(BankQueueFilter(grade: "D")) == [good.id, fair.id])
        #expect(sifted(BankQueueFilter(grade: "Z")) == [good.id, fair.id, thin.id])
        #expect(BankQueueFilter(["grade": "b<"]).grade == nil && BankQueueFilter(["grade": "B"]).grade == "B")
        // Paged 20 at a time; the links keep the filter.
        let many = (0..<45).map { i in PageRenderTests.demand(.open, purpose: "p\(i)") }
        let third = BankQueueFilter(stage: .waiting, query: "家纺", grade: "C", page: 9)
        #expect(third.paged(many).shown.count == 5 && third.paged(many).page == 3 && third.paged(many).pages == 3)
        #expect(third.link(page: 2) == "/portal/bank?stage=waiting&amp;grade=C&amp;q=\(PortalHtml.percent("家纺"))&amp;page=2")
        let paged = BankQueuePage.render(
            Self.queue(many, today: today, filter: BankQueueFilter(page: 2)),
            filter: BankQueueFilter(page: 2),
            today: today,
            lang: Self.zh,
            session: nil
        )
        #expect(paged.contains("第 2 / 3 页") && paged.contains("page=1\">上一页") && paged.contains("page=3\">下一页"))
        #expect(paged.components(separatedBy: "<section class=\"card\"").count - 1 == 20)
        // Each card says the grade and score, or why there is none.
        let auth = UUID()
        let cards = BankQueuePage.render(
            Self.queue(
                [good, fair],
                today: today,
                grades: [good.uscc: Demands.QueueGrade(uscc: good.uscc, authorisationId: auth, score: 812, grade: "A")]
            ),
            today: today,
            lang: Self.zh,
            session: nil
        )
        #expect(cards.contains("信用等级 A</span> 812 分"))
        #expect(cards.contains("企业未授权本行查询信用档案，不显示等级"))
        // The profile's link only where the bank may read it.
        #expect(cards.contains("lookup?uscc=\(good.uscc)") && !cards.contains("lookup?uscc=\(fair.uscc)"))
        #expect(
            BankQueuePage.gradeLine(Demands.QueueGrade(uscc: "x", authorisationId: auth, score: nil, grade: nil), Self.en).contains(
                "Too little data"
            )
        )
    }

    /// An officer finds a business that authorised the bank by its name, and follows the link.
    @Test func theLookUpFindsAuthorisingBusinessesByName() {
        let all = [
            LookupPage.Authorised(uscc: "91320602MA1NTX016C", name: "南通海门家纺有限公司", purpose: .loanApplication),
            LookupPage.Authorised(uscc: "91350100M000100Y43", name: "如东<海产>合作社", purpose: .postLoanMonitoring),
        ]
        #expect(LookupPage.matching(all, query: "家纺").map(\.uscc) == ["91320602MA1NTX016C"])
        #expect(LookupPage.matching(all, query: "y43").map(\.uscc) == ["91350100M000100Y43"])
        #expect(LookupPage.matching(all, query: " ").count == 2)
        #expect(LookupPage.matching(all, query: "钢铁").isEmpty)
        let page = LookupPage.render(given: "", purpose: nil, result: .none, lang: Self.zh, authorised: all, query: "海")
        #expect(page.contains("href=\"/portal/bank/lookup?uscc=91320602MA1NTX016C&amp;purpose=loan_application\">南通海门家纺有限公司</a>"))
        #expect(page.contains("如东&lt;海产&gt;合作社") && page.contains("purpose=post_loan_monitoring"))
        let none = LookupPage.render(given: "", purpose: nil, result: .none, lang: Self.en, authorised: [], query: "")
        #expect(none.contains("No business has a live authorisation for this bank now."))
    }

    @Test func theBankOfficersPages() {
        var taken = PageRenderTests.demand(.takenUp, purpose: Self.hostile)
        taken.offer = PageRenderTests.offer(.takenUp, demand: taken.id)
        let open = PageRenderTests.demand(.open, purpose: "设备")
        var offered = PageRenderTests.demand(.takenUp, purpose: "设备")
        offered.offer = PageRenderTests.offer(.offered, demand: offered.id)
        let today = Day(year: 2026, month: 11, day: 30)!
        Self.both(
            {
                BankQueuePage.render(
                    Self.queue([open, taken, offered], names: [open.uscc: "甲公司 <有限>"], today: today),
                    today: today,
                    lang: $0,
                    session: nil
                )
            },
            ["受理", "报价", "拒绝", "甲公司 &lt;有限&gt;", "还款方式", "报价有效期至", "首贷", "本行报价", "等待企业选择"],
            [
                "Take up", "Make an offer", "Decline", "working days", "Repayment", "Valid until", "first loan", "This bank's offer",
                "waiting for the business",
            ]
        )
        // The offer form shows the bounds it is held to: the amount asked and the product's ranges.
        let product = ListedProduct(
            id: UUID(),
            bankOrgId: UUID(),
            bankName: "测试银行",
            name: "税易贷 <x>",
            terms: ProductTerms(
                kind: .credit,
                amountMinFen: 10_000_000,
                amountMaxFen: 300_000_000,
                termMinMonths: 6,
                termMaxMonths: 36,
                rateMinBp: 365,
                rateMaxBp: 600,
                rules: []
            )
        )
        let bounded = BankQueuePage.render(
            Self.queue([taken], today: today, products: [taken.id: product]),
            today: today,
            lang: Lang(english: false),
            session: nil
        )
        #expect(bounded.contains("税易贷 &lt;x&gt;") && bounded.contains("3.65% – 6.00%") && bounded.contains("6 至 36 个月"))
        #expect(bounded.contains("min=\"3.65\" max=\"6.00\"") && bounded.contains("name=\"product_id\""))
        #expect(bounded.contains("企业申请 \(PortalHtml.yuan(taken.amountFen))"))
        // An officer under the bank's limit sees it in the form: the field stops there and says why.
        let limited = BankQueuePage.render(
            Self.queue([taken], today: today, products: [taken.id: product], offerLimitFen: 150_000_00),
            today: today,
            lang: Lang(english: false),
            session: nil
        )
        #expect(limited.contains("max=\"150000.00\"") && limited.contains("超过 \(PortalHtml.yuan(150_000_00)) 须由审批经理报价"))
        // A limit under the product's least amount leaves the officer no offer to make: no form, the reason.
        let under = BankQueuePage.render(
            Self.queue([taken], today: today, products: [taken.id: product], offerLimitFen: 50_000_00),
            today: today,
            lang: Lang(english: false),
            session: nil
        )
        #expect(!under.contains("/offer\"") && under.contains("低于该产品的最低金额 \(PortalHtml.yuan(100_000_00))：请审批经理报价"))
        #expect(under.contains("/decline\""))
        Self.both(
            { BankQueuePage.render(Self.queue([], today: today), today: today, lang: $0, session: nil) },
            ["暂无待办需求"],
            ["Nothing waiting"]
        )
        Self.both(
            {
                BankLoansPage.render(
                    [(taken, [Demands.Outcome(month: "2026-10", status: "overdue_30", reportedAt: Self.now)])],
                    names: [:],
                    thisMonth: "2026-11",
                    lang: $0,
                    session: nil
                )
            },
            ["2026-10"],
            ["2026-10"]
        )
        // Many loans: searched by name or code, narrowed to those owing last month's report, paged.
        let many: [(Demand, [Demands.Outcome])] = (0..<45).map { i in
            (
                PageRenderTests.demand(.disbursed, purpose: "p\(i)"),
                i % 3 == 0 ? [Demands.Outcome(month: "2026-10", status: "current", reportedAt: Self.now)] : []
            )
        }
        let code = many[0].0.uscc
        let firstPage = BankLoansPage.select(many, names: [code: "家纺"], .init(), lastMonth: "2026-10")
        #expect(firstPage.shown.count == BankLoansPage.pageSize && firstPage.matching == 45 && firstPage.pages == 3)
        let last = BankLoansPage.select(many, names: [code: "家纺"], .init(page: 99), lastMonth: "2026-10")
        #expect(last.page == 3 && last.shown.count == 5)
        #expect(BankLoansPage.select(many, names: [code: "家纺"], .init(unreported: true), lastMonth: "2026-10").matching == 30)
        #expect(BankLoansPage.select(many, names: [code: "家纺"], .init(query: "钢铁"), lastMonth: "2026-10").matching == 0)
        #expect(BankLoansPage.select(many, names: [code: "家纺"], .init(query: "家纺"), lastMonth: "2026-10").matching == 45)
        #expect(BankLoansPage.Selection(["page": "-3", "q": "  x ", "unreported": "yes"]) == .init(query: "x", unreported: false, page: 1))
        let paged = BankLoansPage.render(
            many,
            names: [:],
            thisMonth: "2026-11",
            lang: Self.zh,
            session: nil,
            selection: .init(query: "<q>", page: 2),
            lastMonth: "2026-10"
        )
        #expect(paged.contains("value=\"&lt;q&gt;\"") && paged.contains("没有符合条件的贷款"))
        let second = BankLoansPage.render(
            many,
            names: [:],
            thisMonth: "2026-11",
            lang: Self.en,
            session: nil,
            selection: .init(page: 2),
            lastMonth: "2026-10"
        )
        #expect(
            second.contains("45 loans, page 2 of 3") && second.contains("/portal/bank/loans?page=1")
                && second.contains("/portal/bank/loans?page=3")
        )
        Self.both(
            { BankLoansPage.render([], names: [:], thisMonth: "2026-11", lang: $0, session: nil) },
            ["暂无已放款的贷款"],
            ["No loans disbursed yet"]
        )
        let event = Webhooks.Event(type: "record.new_penalty", uscc: "U", payload: #"{"x":"<script>x</script>"}"#, createdAt: Self.now)
        Self.both({ BankEventsPage.render([event], lang: $0) }, ["新增行政处罚"], ["new penalty"])
        if let code = event.uscc {
            let named = BankEventsPage.render([event], names: [code: "南通<海门>家纺"], lang: Self.zh)
            // To the look-up narrowed to the business: it offers the purposes the bank may read it for.
            #expect(named.contains("南通&lt;海门&gt;家纺</a>") && named.contains("/portal/bank/lookup?q=U\""))
        }
        Self.both(
            { LookupPage.render(given: Self.hostile, purpose: nil, result: .invalidCode, lang: $0) },
            ["代码无效"],
            ["Not a valid code"]
        )
        Self.both(
            { LookupPage.render(given: "", purpose: nil, result: .refused("没有有效授权 <x>"), lang: $0) },
            ["没有有效授权 &lt;x&gt;"],
            ["Look up"]
        )
    }
}

extension PortalRenderTests {
    @Test func theSignInPagesCarryTheirTokenAndEscapeWhatTheyEcho() {
        Self.both(
            { PortalRoutes.loginPage(lang: $0, next: "/portal\"><script>x</script>", error: Self.hostile, token: "tok<1>") },
            ["账号", "密码", "动态验证码", "autocomplete=\"one-time-code\"", "value=\"tok&lt;1&gt;\""],
            ["Login", "Password", "authenticator", "&lt;script&gt;"]
        )
        Self.both(
            {
                SignInForms.passwordForm(
                    $0,
                    action: "/portal/password",
                    csrf: "c<1>",
                    next: "/portal\"><script>",
                    forced: true,
                    error: Self.hostile
                )
            },
            ["当前密码", "请先设置您自己的密码", "value=\"c&lt;1&gt;\"", "autocomplete=\"new-password\""],
            ["Current password", "choose your own", "&lt;script&gt;"]
        )
        let dashboard = DashboardRoutes.loginPage(
            next: "/dashboard\"><script>",
            error: Self.hostile,
            token: "t2",
            lang: Lang(english: false)
        )
        #expect(dashboard.contains("监管看板登录") && dashboard.contains("name=\"login_csrf\" value=\"t2\"") && !dashboard.contains("<script>"))
    }

    @Test func theBusinessSeesOffersSideBySideWithTheirCost() {
        // A held demand with three banks' parts.
        let d = PageRenderTests.demand(.takenUp, purpose: "设备")
        let parts = [
            PageRenderTests.offer(.offered, bank: "甲银行 <x>", rateBp: 500, demand: d.id),
            PageRenderTests.offer(.offered, bank: "乙银行", rateBp: 435, demand: d.id),
            PageRenderTests.offer(.declined, bank: "丙银行", demand: d.id),
        ]
        var a = DemandActions.Answer(demand: d, matches: [], nearMisses: [], notMatched: 0, transitions: [])
        a.offers = parts
        let cheap = Repayment.equalInstalments.plan(principalFen: 50_000_000, months: 12, rateBp: 435)
        Self.both(
            { DemandPage.render(a, lang: $0, session: nil) },
            [
                "银行报价", "甲银行 &lt;x&gt;", "每月还款", "总利息", PortalHtml.yuan(cheap.monthlyFen), PortalHtml.yuan(cheap.totalInterestFen),
                "总利息最低", "接受这份报价", "现有负债过高", "按月付息 &lt;b&gt;",
            ],
            ["Banks' offers", "Monthly payment", "Total interest", "Lowest interest", "Accept this offer", "existing debt too high"]
        )
        let html = DemandPage.render(a, lang: Self.zh, session: nil)
        // Two offers open, two accept buttons; the cheapest marked once.
        #expect(html.components(separatedBy: "/accept\"").count == 3)
        #expect(html.components(separatedBy: "总利息最低").count == 2)
    }
}
