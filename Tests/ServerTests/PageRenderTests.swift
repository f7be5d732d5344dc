import Foundation
import Testing

@testable import CreditCore
@testable import Server
@testable import Store

/// Pages rendered from models built by hand, without a database: what a person reads, in both
/// languages, escaped.
@Suite struct PageRenderTests {
    static func checkUpModel(recordId: String = "P-1", penalty: CheckUp.Penalty?) -> CheckUpPage.Model {
        let reason = Scorecard.Reason(
            code: "unpaid_tax",
            feature: .unpaidTax,
            value: .number(120_000),
            points: -30,
            maxPoints: 10,
            zh: "欠税 <1,200 元>",
            en: "Unpaid tax <¥1,200>"
        )
        return CheckUpPage.Model(
            score: 612,
            grade: "C",
            grades: [.init(grade: "A", minScore: 750), .init(grade: "B", minScore: 650), .init(grade: "C", minScore: 550)],
            scorecardVersion: "xyd-test",
            asOfDay: "2026-11-30",
            thinFile: false,
            reasons: [reason],
            advice: Improvement.Advice(
                nextGrade: "B",
                pointsNeeded: 38,
                steps: [],
                reaches: false,
                blockedZh: "仅靠经营行为无法达到",
                blockedEn: "out of reach by conduct"
            ),
            features: [
                .init(
                    feature: .unpaidTax,
                    value: .number(120_000),
                    points: -30,
                    maxPoints: 10,
                    better: nil,
                    records: [RecordRef(.administrativePenalty, recordId)]
                )
            ],
            groups: [
                .init(
                    dataset: .administrativePenalty,
                    rows: [
                        .init(
                            recordId: recordId,
                            data: [
                                "decision_no": "通罚〔2026〕1号", "authority": "南通市生态环境局", "decided_on": "2026-01-05",
                                "violation": "violation <b>", "severity": "general", "fine_amount_fen": .number("5000000"),
                                "publicity_ends_on": "2027-01-05",
                            ],
                            provider: "market_regulation",
                            status: "current",
                            penalty: penalty
                        )
                    ],
                    open: true
                )
            ],
            recordCount: 1
        )
    }

    @Test func theCheckUpSpeaksBothLanguagesAndEscapesWhatItShows() {
        let until = Day(year: 2027, month: 1, day: 5)!
        let model = Self.checkUpModel(
            recordId: "P-<script>",
            penalty: .init(repairedOn: nil, published: true, publishedUntil: until, repairable: true)
        )
        let zh = CheckUpPage.render(model, lang: Lang(english: false))
        let en = CheckUpPage.render(model, lang: Lang(english: true))
        #expect(zh.contains("主要扣分原因") && zh.contains("欠税 &lt;1,200 元&gt;") && zh.contains("公示至 2027-01-05"))
        #expect(en.contains("Why not higher") && en.contains("Unpaid tax &lt;¥1,200&gt;") && en.contains("published until 2027-01-05"))
        for html in [zh, en] {
            #expect(!html.contains("<script>") && html.contains("P-&lt;script&gt;"))
            #expect(!html.contains("violation <b>"))
            #expect(html.contains("/portal/repairs/new?record=P-%3Cscript%3E"))
        }
        #expect(zh.contains("仅靠经营行为无法达到") && en.contains("out of reach by conduct"))
        // The reason links to the records behind it, and they show their fields in words.
        #expect(zh.contains("依据 1 条记录") && zh.contains("href=\"#basis-unpaid-tax\"") && zh.contains("id=\"basis-unpaid-tax\""))
        #expect(zh.contains("¥50,000.00") && zh.contains("一般") && zh.contains("violation &lt;b&gt;"))
        #expect(en.contains("1 record behind it") && !en.contains("1 records"))
    }

    @Test func theCheckUpOffersRepairOnlyWhenTheRulesWouldAcceptIt() {
        let until = Day(year: 2027, month: 1, day: 5)!
        let lang = Lang(english: true)
        let tooEarly = CheckUpPage.render(
            Self.checkUpModel(penalty: .init(repairedOn: nil, published: true, publishedUntil: until, repairable: false)),
            lang: lang
        )
        #expect(tooEarly.contains("published until 2027-01-05") && !tooEarly.contains("/portal/repairs/new"))
        let repaired = CheckUpPage.render(
            Self.checkUpModel(
                penalty: .init(repairedOn: Day(year: 2026, month: 6, day: 1)!, published: false, publishedUntil: until, repairable: false)
            ),
            lang: lang
        )
        #expect(repaired.contains("repaired 2026-06-01") && !repaired.contains("/portal/repairs/new"))
        let ended = CheckUpPage.render(
            Self.checkUpModel(penalty: .init(repairedOn: nil, published: false, publishedUntil: until, repairable: false)),
            lang: lang
        )
        #expect(ended.contains("no longer published") && !ended.contains("/portal/repairs/new"))
        let pending = CheckUpPage.render(
            Self.checkUpModel(penalty: .init(repairedOn: nil, published: true, publishedUntil: until, pending: true, repairable: false)),
            lang: lang
        )
        #expect(pending.contains("repair applied for") && !pending.contains("/portal/repairs/new"))
        #expect(CheckUpPage.render(nil, lang: lang).contains("No credit profile yet"))
        #expect(CheckUpPage.render(nil, lang: Lang(english: false)).contains("还没有信用档案"))
    }

    @Test func theAccessPageSaysWhyAnAuthorisationEndedAndOffersRevokingOnlyLiveOnes() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        func auth(_ status: String, by: String?, bank: String) -> Authorisation {
            Authorisation(
                id: UUID(),
                uscc: "91320602MA1TEST01X",
                bankOrgId: UUID(),
                bankName: bank,
                scopes: [.profile],
                purpose: .loanApplication,
                grantedAt: now,
                expiresAt: now.addingTimeInterval(86_400 * 30),
                revokedAt: by == nil ? nil : now,
                revokedBy: by,
                source: "demand",
                status: status
            )
        }
        let live = auth("live", by: nil, bank: "江苏银行 <&>")
        let model = AccessPage.Model(
            authorisations: [live, auth("revoked", by: "demand_taken_up", bank: "中国银行")],
            log: [
                Authorisations.Access(
                    at: now,
                    bankOrgId: live.bankOrgId,
                    bankName: "江苏银行 <&>",
                    action: "profile.read",
                    purpose: "loan_application",
                    result: "allowed",
                    authorisationId: live.id.uuidString
                )
            ],
            banks: [Organisation(id: UUID(), kind: .bank, name: "Bank \"Q\"", uscc: nil, createdAt: now)],
            csrf: "<input type=\"hidden\" name=\"csrf\" value=\"t\">"
        )
        let zh = AccessPage.render(model, lang: Lang(english: false))
        let en = AccessPage.render(model, lang: Lang(english: true))
        #expect(zh.contains("受理的银行已满") && en.contains("places on the demand were taken"))
        #expect(zh.contains("谁查看了我") && en.contains("Who looked at me"))
        for html in [zh, en] {
            // One revoke link: the live authorisation's.
            #expect(html.components(separatedBy: "/revoke\"").count == 2)
            #expect(html.contains("/portal/authorisations/\(live.id.uuidString.lowercased())/revoke"))
            #expect(html.contains("江苏银行 &lt;&amp;&gt;") && !html.contains("江苏银行 <&>") && html.contains("Bank &quot;Q&quot;"))
            #expect(html.contains("name=\"csrf\""))
        }
    }

    /// A bank's part in a demand: taken up, or an offer of ¥500,000 for 12 months at `rateBp`.
    static func offer(_ state: Offer.State, bank: String = "测试银行", rateBp: Int = 435, demand: UUID = UUID()) -> Offer {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let terms = state != .takenUp && state != .declined
        return Offer(
            id: UUID(),
            demandId: demand,
            bankOrgId: UUID(),
            bankName: bank,
            state: state,
            takenUpAt: now,
            decisionDueOn: "2026-12-14",
            decidedAt: terms ? now : nil,
            productId: nil,
            productName: terms ? "税易贷" : nil,
            amountFen: terms ? 50_000_000 : nil,
            termMonths: terms ? 12 : nil,
            rateBp: terms ? rateBp : nil,
            repayment: terms ? .equalInstalments : nil,
            conditions: terms ? "按月付息 <b>" : nil,
            validUntil: terms ? "2099-12-31" : nil,
            firstLoanAttested: terms ? false : nil,
            declineReason: state == .declined ? "high_existing_debt" : nil,
            declineText: nil,
            lapsedAt: state == .lapsed ? now : nil,
            lapseReason: state == .lapsed ? "other_accepted" : nil,
            plan: terms ? Repayment.equalInstalments.plan(principalFen: 50_000_000, months: 12, rateBp: rateBp) : nil,
            overdue: false
        )
    }

    static func demand(_ state: DemandState, purpose: String, declineText: String? = nil, uscc: String = "91320602MA1TEST01X") -> Demand {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        return Demand(
            id: UUID(),
            uscc: uscc,
            amountFen: 50_000_000,
            termMonths: 12,
            purpose: purpose,
            collateralOffered: false,
            firstLoan: true,
            state: state,
            takenUpBy: nil,
            createdAt: now,
            expiresAt: now,
            updatedAt: now,
            takeUpDueOn: "2026-12-03",
            takenUpAt: nil,
            decisionDueOn: nil,
            decidedAt: nil,
            grantedAmountFen: nil,
            grantedTermMonths: nil,
            grantedRateBp: nil,
            declineReason: state == .declined ? "high_existing_debt" : nil,
            declineText: declineText,
            disbursedAmountFen: nil,
            disbursedOn: nil,
            overdue: false,
            maxBanks: 3,
            referAfterDecline: true,
            repayment: nil,
            firstLoanVerified: nil
        )
    }

    @Test func theFinancingAndDemandPagesShowTheAnswerInBothLanguagesEscaped() {
        let declined = Self.demand(.declined, purpose: "原材料 <img src=x>", declineText: "负债 \"过高\"")
        let open = Self.demand(.open, purpose: "设备")
        for (lang, words) in [
            (Lang(english: false), ["发布融资需求", "我的需求", "¥500,000.00"]),
            (Lang(english: true), ["Post a financing demand", "My demands", "¥500,000.00"]),
        ] {
            let html = FinancingPage.render(
                [declined, open],
                values: ["amount_yuan": "\"><script>"],
                error: "金额 <无效>",
                lang: lang,
                session: nil
            )
            for w in words { #expect(html.contains(w), "\(w)") }
            #expect(!html.contains("<img") && !html.contains("<script>") && html.contains("金额 &lt;无效&gt;"))
            #expect(html.contains("/portal/demands/\(open.id.uuidString.lowercased())"))
        }
        let answer = DemandActions.Answer(demand: open, matches: [], nearMisses: [], notMatched: 0, transitions: [])
        let zh = DemandPage.render(answer, lang: Lang(english: false), session: nil)
        let en = DemandPage.render(answer, lang: Lang(english: true), session: nil)
        #expect(zh.contains("银行应在 2026-12-03 前受理或放弃") && en.contains("Banks should take it up or pass by 2026-12-03"))
        #expect(zh.contains("撤回需求") && en.contains("Withdraw the demand"))
        let no = DemandPage.render(
            DemandActions.Answer(demand: declined, matches: [], nearMisses: [], notMatched: 0, transitions: []),
            lang: Lang(english: true),
            session: nil
        )
        #expect(no.contains("Reason declined") && no.contains("负债 &quot;过高&quot;") && !no.contains("Withdraw the demand"))
    }
}
