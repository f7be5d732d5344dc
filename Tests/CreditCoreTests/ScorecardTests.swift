import CreditCore
import Foundation
import TestSupport
import Testing

@Suite struct ScorecardTests {
    func features(_ values: [Feature: FeatureValue], months: Int = 24) -> FeatureSet {
        var f = FeatureSet(asOf: Day("2026-06-15")!)
        f.values = values
        f.dataMonths = months
        return f
    }

    @Test func pointsFromBinsGradeFromScore() throws {
        let card = try TestCards.decode(TestCards.card())
        // Best everywhere: 600 + 100 + 80 + 50 + 40 = 870 → A, no reasons.
        let best = card.score(
            features([
                .taxOnTimeRate12m: .number(10_000), .socialInsuranceArrears12m: .number(0),
                .taxCreditGrade: .category("A"), .seriousPenalties36m: .number(0),
            ])
        )
        #expect(best.score == 870 && best.grade == "A" && best.reasons.isEmpty && !best.thinFile)
        // Bin edges: 8000 is in [8000, 10000); 7999 below.
        let edge = card.score(
            features([
                .taxOnTimeRate12m: .number(8000), .socialInsuranceArrears12m: .number(1),
                .taxCreditGrade: .category("M"), .seriousPenalties36m: .number(0),
            ])
        )
        #expect(edge.points[.taxOnTimeRate12m] == 60 && edge.points[.socialInsuranceArrears12m] == 20)
        #expect(edge.score == 600 + 60 + 20 + 30 + 40 && edge.grade == "B")
        let low = card.score(
            features([
                .taxOnTimeRate12m: .number(7999), .socialInsuranceArrears12m: .number(5),
                .taxCreditGrade: .category("D"), .seriousPenalties36m: .number(2),
            ])
        )
        #expect(low.score == 500 && low.grade == "C")
        // Missing values take the missing bin.
        let missing = card.score(features([:]))
        #expect(missing.score == 600 + 30 + 40 + 10 + 0)
    }

    @Test func reasonsByPointsBelowMaximumMostFirstAtMostFour() throws {
        let card = try TestCards.decode(TestCards.card())
        let o = card.score(
            features([
                .taxOnTimeRate12m: .number(8500), .socialInsuranceArrears12m: .number(4),
                .taxCreditGrade: .category("B"), .seriousPenalties36m: .number(1),
            ])
        )
        // Below maximum: penalties 140, arrears 80, tax late 40, grade 20.
        #expect(o.reasons.map(\.code) == ["R17_PENALTY_SERIOUS", "R10_SI_ARREARS", "R03_TAX_LATE", "R07_TAX_GRADE"])
        #expect(o.reasons[0].value == .number(1) && o.reasons[0].points == -100 && o.reasons[0].maxPoints == 40)
        #expect(o.reasons[2].zh == "近12个月按期申报率：85.00%（满分需 ≥ 100.00%）")
        #expect(o.reasons[2].en == "tax returns filed on time, 12 months: 85.00% (full points at ≥ 100.00%)")
        #expect(o.reasons[0].zh == "近36个月严重行政处罚数：1（满分需 0）")
        #expect(o.reasons[3].zh == "最近纳税信用等级：B（满分需 A）")
        // Ties keep the card's order; more than four shortfalls are cut to four.
        let five = """
            [{"feature": "unpaid_tax", "reason_code": "A1", "reason_zh": "a", "reason_en": "a", "bins": [{"max": 1, "points": 10}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]},
             {"feature": "utility_unpaid", "reason_code": "A2", "reason_zh": "b", "reason_en": "b", "bins": [{"max": 1, "points": 10}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]},
             {"feature": "contract_breaches_24m", "reason_code": "A3", "reason_zh": "c", "reason_en": "c", "bins": [{"max": 1, "points": 10}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]},
             {"feature": "listings_36m", "reason_code": "A4", "reason_zh": "d", "reason_en": "d", "bins": [{"max": 1, "points": 10}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]},
             {"feature": "other_penalties_36m", "reason_code": "A5", "reason_zh": "e", "reason_en": "e", "bins": [{"max": 1, "points": 20}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]}]
            """
        let tied = try TestCards.decode(TestCards.card(characteristics: five)).score(features([:]))
        #expect(tied.reasons.map(\.code) == ["A5", "A1", "A2", "A3"])
    }

    @Test func aCurrentListingCapsTheGradeAtD() throws {
        let card = try TestCards.decode(TestCards.card())
        let o = card.score(
            features([
                .taxOnTimeRate12m: .number(10_000), .socialInsuranceArrears12m: .number(0),
                .taxCreditGrade: .category("A"), .seriousPenalties36m: .number(0), .blacklistedNow: .number(1),
            ])
        )
        #expect(o.score == 870 && o.grade == "D" && o.knockouts == ["K01_LISTED"])
    }

    @Test func aThinFileIsFlaggedNotScored() throws {
        let card = try TestCards.decode(TestCards.card())
        let thin = card.score(features([.taxOnTimeRate12m: .number(10_000)], months: 11))
        #expect(thin.thinFile && thin.score == nil && thin.grade == nil)
        let listed = card.score(features([.blacklistedNow: .number(1)], months: 3))
        #expect(listed.thinFile && listed.score == nil && listed.grade == "D")
        #expect(!card.score(features([:], months: 12)).thinFile)
    }

    @Test func scoresStayWithinTheRange() throws {
        let high = try TestCards.decode(TestCards.card(base: 990)).score(features([.taxOnTimeRate12m: .number(10_000)]))
        #expect(high.score == 1000)
        let low = try TestCards.decode(TestCards.card(base: 0)).score(
            features([.seriousPenalties36m: .number(3), .taxOnTimeRate12m: .number(0)])
        )
        #expect(low.score == 0)
    }

    @Test func badCardsAreRefusedWithTheReason() throws {
        func refused(_ chars: String, _ expected: String) {
            do {
                _ = try TestCards.decode(TestCards.card(characteristics: chars))
                Issue.record("accepted a card that should fail: \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        refused(
            #"[{"feature": "tax_paid_12m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "bins": [{"max": 10, "points": 1}, {"min": 20, "points": 0}, {"missing": true, "points": 0}]}]"#,
            "gap or overlap"
        )
        refused(
            #"[{"feature": "tax_paid_12m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "bins": [{"max": 10, "points": 1}, {"min": 10, "points": 0}]}]"#,
            "missing"
        )
        refused(
            #"[{"feature": "tax_paid_12m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "bins": [{"min": 0, "points": 1}, {"missing": true, "points": 0}]}]"#,
            "no min"
        )
        refused(
            #"[{"feature": "tax_credit_grade", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "bins": [{"values": ["A", "B"], "points": 1}, {"missing": true, "points": 0}]}]"#,
            "cover exactly"
        )
        refused(#"[{"feature": "no_such_feature", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "bins": []}]"#, "not a scorecard")
        refused(
            #"[{"feature": "tax_paid_12m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "bins": [{"points": 1}, {"missing": true, "points": 0}]}, {"feature": "tax_paid_12m", "reason_code": "Y", "reason_zh": "x", "reason_en": "x", "bins": [{"points": 1}, {"missing": true, "points": 0}]}]"#,
            "appears twice"
        )
        #expect(throws: Scorecard.Invalid.self) { try TestCards.decode("{\"version\": 1}") }
    }

    @Test func reasonsFollowTheSignAndUnitOfTheValue() throws {
        let trend = """
            [{"feature": "headcount_trend", "reason_code": "R09", "reason_zh": "x", "reason_en": "x", "direction": "higher_is_better",
              "bins": [{"max": 0, "points": 0}, {"min": 0, "max": 509, "points": 10}, {"min": 509, "points": 17}, {"missing": true, "points": 0}]},
             {"feature": "unpaid_tax", "reason_code": "R06", "reason_zh": "x", "reason_en": "x", "direction": "lower_is_better",
              "bins": [{"max": 1, "points": 20}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]},
             {"feature": "registration_status", "reason_code": "R02", "reason_zh": "x", "reason_en": "x", "direction": "order",
              "order": ["active", "suspended", "revoked", "deregistered"],
              "bins": [{"values": ["active"], "points": 5}, {"values": ["suspended", "revoked", "deregistered"], "points": -50}, {"missing": true, "points": 0}]}]
            """
        let card = try TestCards.decode(TestCards.card(characteristics: trend))
        try card.checkPublishable()
        let rose = card.score(
            features([.headcountTrend: .number(478), .unpaidTax: .number(115_970_645), .registrationStatus: .category("suspended")])
        )
        let text = Dictionary(uniqueKeysWithValues: rose.reasons.map { ($0.code, ($0.zh, $0.en)) })
        // A headcount that rose is said to have risen, never "falling".
        #expect(text["R09"]?.0 == "参保人数变化（近6个月比前6个月）：+4.78%（满分需 ≥ +5.09%）")
        #expect(text["R09"]?.1 == "insured headcount, last 6 months against the 6 before: +4.78% (full points at ≥ +5.09%)")
        // Money the Chinese way, with separators.
        #expect(text["R06"]?.0 == "欠缴税款：¥1,159,706.45（满分需 ¥0.00）")
        // Categories in words.
        #expect(text["R02"]?.0 == "登记状态：停业（满分需 存续）")
        let fell = card.score(features([.headcountTrend: .number(-478)]))
        #expect(fell.reasons.first { $0.code == "R09" }?.zh == "参保人数变化（近6个月比前6个月）：-4.78%（满分需 ≥ +5.09%）")
    }

    @Test func publishingRefusesPointsAgainstTheDeclaredDirection() throws {
        func refused(_ chars: String, _ expected: String) {
            do {
                try TestCards.decode(TestCards.card(characteristics: chars)).checkPublishable()
                Issue.record("published a card that should be refused: \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        // Full contract fulfilment scoring below 85 % (the card 2026.2 did this).
        refused(
            #"[{"feature": "contract_fulfilment_rate_24m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "direction": "higher_is_better", "bins": [{"max": 8461, "points": -13}, {"min": 8461, "max": 10000, "points": 20}, {"min": 10000, "points": 13}, {"missing": true, "points": 0}]}]"#,
            "contract_fulfilment_rate_24m is higher_is_better but bin [10000, +inf) scores 13, below the worse bin [8461, 10000) at 20"
        )
        // More licences, fewer points.
        refused(
            #"[{"feature": "valid_licences", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "direction": "higher_is_better", "bins": [{"max": 1, "points": 4}, {"min": 1, "points": -2}, {"missing": true, "points": 0}]}]"#,
            "valid_licences is higher_is_better"
        )
        // A penalty that pays.
        refused(
            #"[{"feature": "serious_penalties_36m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "direction": "lower_is_better", "bins": [{"max": 1, "points": -11}, {"min": 1, "points": 1}, {"missing": true, "points": 0}]}]"#,
            "serious_penalties_36m is lower_is_better"
        )
        refused(
            #"[{"feature": "tax_credit_grade", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "direction": "order", "order": ["A", "B", "M", "C", "D"], "bins": [{"values": ["A"], "points": 0}, {"values": ["B", "M"], "points": 10}, {"values": ["C", "D"], "points": -5}, {"missing": true, "points": 0}]}]"#,
            "tax_credit_grade is order but bin A scores 0, below the worse bin B|M at 10"
        )
        refused(
            #"[{"feature": "tax_credit_grade", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "direction": "order", "order": ["A", "B", "M", "C", "D"], "bins": [{"values": ["A", "C"], "points": 10}, {"values": ["B", "M", "D"], "points": 0}, {"missing": true, "points": 0}]}]"#,
            "not neighbours"
        )
        refused(
            #"[{"feature": "listings_36m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "direction": "lower_is_better", "bins": [{"max": 1, "points": 0}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]}]"#,
            "listings_36m scores 0 in every bin"
        )
        refused(
            #"[{"feature": "listings_36m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "bins": [{"max": 1, "points": 5}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]}]"#,
            "declares no direction"
        )
        refused(
            #"[{"feature": "unpaid_tax", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "direction": "lower_is_better", "bins": [{"max": 1, "points": 5}, {"min": 1, "points": 0}, {"missing": true, "points": 9}]}]"#,
            "the missing bin scores 9"
        )
        // Informational: zero everywhere, said so — accepted; the standard test card too.
        try TestCards.decode(
            TestCards.card(
                characteristics:
                    #"[{"feature": "listings_36m", "reason_code": "X", "reason_zh": "x", "reason_en": "x", "direction": "lower_is_better", "informational": true, "bins": [{"max": 1, "points": 0}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]}]"#
            )
        ).checkPublishable()
        try TestCards.decode(TestCards.card()).checkPublishable()
    }

    @Test func theCommittedScorecardsAreValid() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../contracts/scorecards")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        #expect(!files.isEmpty)
        for f in files {
            let card = try Scorecard.decode(try Data(contentsOf: folder.appendingPathComponent(f)))
            #expect(f == card.version + ".json", "a card's file is named after its version")
            // Every feature that existed when the card was made; a feature added later is for later cards.
            let existing = Set(Feature.allCases.filter { $0.since <= card.version })
            #expect(Set(card.characteristics.map(\.feature)) == existing, "\(f) scores every feature of its time")
            #expect(card.knockouts.contains { $0.feature == .blacklistedNow && $0.maxGrade == "D" })
        }
        // The newest card scores every feature there is.
        let newest = try Scorecard.decode(try Data(contentsOf: folder.appendingPathComponent(files.sorted().last!)))
        #expect(Set(newest.characteristics.map(\.feature)) == Set(Feature.allCases))
        #expect(newest.policy.repairedCountsMonths != nil, "the newest card states how long a repaired penalty counts")
        // The newest card may be published: monotone in every declared direction, with the
        // development sample that is the regulators' stability baseline.
        try newest.checkPublishable()
        #expect(newest.development.map { $0.enterprises > 1_000 && $0.defaults > 30 } == true)
        // The cards before 2026.3 were not monotone: they stay readable (profiles scored by them
        // are shown as scored) but cannot be published again.
        for f in files.sorted().dropLast() {
            let old = try Scorecard.decode(try Data(contentsOf: folder.appendingPathComponent(f)))
            #expect(throws: Scorecard.Invalid.self) { try old.checkPublishable() }
        }
    }
}
