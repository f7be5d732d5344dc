import CreditCore
import Foundation
import Testing

/// The marketplace's pure core: product rules validated when saved, demands matched with
/// explanations, near misses and ranking, on hand-made facts.
@Suite struct MatchingTests {
    func rule(_ name: String, _ value: JSONValue? = nil) -> RuleInput { RuleInput(rule: name, value: value) }

    func product(
        kind: ProductKind = .credit,
        amount: (Int64, Int64) = (10_000_000, 300_000_000),
        term: (Int, Int) = (6, 36),
        rate: (Int, Int) = (350, 600),
        rules: [RuleInput] = []
    ) -> Result<ProductTerms, ProductProblems> {
        ProductValidation.check(
            kind: kind,
            amountMinFen: amount.0,
            amountMaxFen: amount.1,
            termMinMonths: term.0,
            termMaxMonths: term.1,
            rateMinBp: rate.0,
            rateMaxBp: rate.1,
            rules: rules
        )
    }

    func valid(_ r: Result<ProductTerms, ProductProblems>) throws -> ProductTerms { try r.get() }

    func problems(_ r: Result<ProductTerms, ProductProblems>) -> [ProductProblem] {
        if case .failure(let p) = r { return p.problems }
        return []
    }

    let facts = ApplicantFacts(
        grade: "C",
        monthsInBusiness: 30,
        industryCode: "A01",
        districtCode: "320623",
        entityType: "farmer_cooperative",
        sizeClass: "micro",
        blacklistedNow: false,
        monthsSinceSeriousPenalty: 8,
        taxCreditGrade: "B",
        insuredHeadcount: 6
    )
    let demand = DemandTerms(amountFen: 50_000_000, termMonths: 12, collateralOffered: false, firstLoan: true)

    @Test func aProductWithTheWholeVocabularyIsAccepted() throws {
        let p = try valid(
            product(
                kind: .secured,
                rules: [
                    rule("min_grade", "B"), rule("min_years_in_business", 2), rule("industries_allowed", ["A", "C17"]),
                    rule("industries_excluded", ["C26"]), rule("districts_allowed", ["320602", "320623"]),
                    rule("districts_excluded", ["320685"]),
                    rule("entity_types", ["company", "farmer_cooperative"]), rule("sizes", ["micro", "small"]),
                    rule("no_current_blacklisting"),
                    rule("no_serious_penalty_within_months", 12), rule("min_tax_credit_grade", "M"), rule("min_insured_headcount", 5),
                    rule("first_loan_only", true), rule("collateral_required"),
                ]
            )
        )
        #expect(p.rules.count == 14)
        #expect(p.rules.first == .minGrade("B") && p.rules.last == .collateralRequired)
    }

    @Test func everyBadRuleGetsItsOwnProblemWithItsField() {
        let found = problems(
            product(
                amount: (5, 1),
                term: (0, 400),
                rate: (-1, 5000),
                rules: [
                    rule("min_grade", "E"),
                    rule("min_years_in_business", 0),
                    rule("industries_allowed", ["c17"]),
                    rule("districts_excluded", ["3206"]),
                    rule("entity_types", ["farmer"]),
                    rule("sizes", []),
                    rule("no_current_blacklisting", 5),
                    rule("min_grade", "A"),
                    rule("max_leverage", 3),
                    rule("collateral_required"),
                ]
            )
        )
        let fields = Set(found.map(\.field))
        for field in [
            "amount_max_fen", "term_min_months", "term_max_months", "rate_min_bp", "rate_max_bp",
            "rules[0].value", "rules[1].value", "rules[2].value[0]", "rules[3].value[0]", "rules[4].value[0]",
            "rules[5].value", "rules[6].value", "rules[7].rule", "rules[8].rule", "rules",
        ] {
            #expect(fields.contains(field), "no problem reported for \(field): \(found)")
        }
        #expect(found.contains { $0.field == "rules[8].rule" && $0.reason.contains("unknown rule") })
        #expect(found.contains { $0.field == "rules" && $0.reason.contains("cannot require collateral") })
        let overlap = problems(product(rules: [rule("districts_allowed", ["320602"]), rule("districts_excluded", ["320602"])]))
        #expect(overlap.map(\.reason) == ["a district is both allowed and excluded"])
    }

    @Test func eachCheckSaysWhatWasComparedInBothLanguages() throws {
        let p = try valid(product(rules: [rule("min_grade", "B"), rule("industries_allowed", ["A"]), rule("first_loan_only")]))
        let m = Matching.check(p, index: 0, facts: facts, demand: demand)
        #expect(m.checks.map(\.rule) == ["amount", "term", "min_grade", "industries_allowed", "first_loan_only"])
        #expect(m.failed.map(\.rule) == ["min_grade"])
        let grade = try #require(m.checks.first { $0.rule == "min_grade" })
        #expect(grade.en == "minimum grade B; yours is C")
        #expect(grade.zh == "最低信用等级 B；您的等级 C")
        #expect(m.checks[0].en == "amount ¥100,000.00–¥3,000,000.00; asked ¥500,000.00")
        // A section letter covers its divisions: A admits A01.
        #expect(m.checks[3].passed)
        #expect(m.nearMiss && !m.matched)
    }

    @Test func rulesPassAndFailAtTheirEdges() throws {
        func passes(_ r: RuleInput, _ f: ApplicantFacts? = nil, _ d: DemandTerms? = nil, kind: ProductKind = .secured) throws -> Bool {
            let p = try valid(product(kind: kind, rules: [r]))
            return Matching.check(p, index: 0, facts: f ?? facts, demand: d ?? demand).failed.isEmpty
        }
        #expect(try passes(rule("min_grade", "C")))
        #expect(try !passes(rule("min_grade", "B")))
        var noGrade = facts
        noGrade.grade = nil  // a thin file has no grade: not eligible where a grade is required
        #expect(try !passes(rule("min_grade", "D"), noGrade))
        #expect(try passes(rule("min_years_in_business", 2)))  // 30 months
        #expect(try !passes(rule("min_years_in_business", 3)))
        #expect(try passes(rule("no_serious_penalty_within_months", 8)))  // 8 months ago: just outside
        #expect(try !passes(rule("no_serious_penalty_within_months", 9)))
        var clean = facts
        clean.monthsSinceSeriousPenalty = nil
        #expect(try passes(rule("no_serious_penalty_within_months", 60), clean))
        #expect(try passes(rule("min_tax_credit_grade", "M")))  // B is better than M
        #expect(try !passes(rule("min_tax_credit_grade", "A")))
        #expect(try passes(rule("min_insured_headcount", 6)))
        #expect(try !passes(rule("min_insured_headcount", 7)))
        #expect(try passes(rule("industries_excluded", ["C"])))
        #expect(try !passes(rule("industries_excluded", ["A01"])))
        #expect(try passes(rule("districts_allowed", ["320623"])))
        #expect(try !passes(rule("districts_excluded", ["320623"])))
        #expect(try passes(rule("entity_types", ["farmer_cooperative", "family_farm"])))
        #expect(try !passes(rule("sizes", ["small", "medium"])))
        var listed = facts
        listed.blacklistedNow = true
        #expect(try !passes(rule("no_current_blacklisting"), listed))
        #expect(try passes(rule("first_loan_only")))
        #expect(try !passes(rule("collateral_required")))
        #expect(
            try passes(
                rule("collateral_required"),
                nil,
                DemandTerms(amountFen: 50_000_000, termMonths: 12, collateralOffered: true, firstLoan: false)
            )
        )
        // The product's ranges, inclusive at both ends.
        let p = try valid(product())
        #expect(
            Matching.check(
                p,
                index: 0,
                facts: facts,
                demand: DemandTerms(amountFen: 10_000_000, termMonths: 36, collateralOffered: false, firstLoan: false)
            ).matched
        )
        #expect(
            !Matching.check(
                p,
                index: 0,
                facts: facts,
                demand: DemandTerms(amountFen: 9_999_999, termMonths: 36, collateralOffered: false, firstLoan: false)
            ).matched
        )
    }

    @Test func matchesRankByFitThenRateThenSpeedAndNearMissesShowTheOneRule() throws {
        let products = try [
            valid(product(amount: (10_000_000, 100_000_000), rate: (400, 600))),  // 0: matches, amount near the middle
            valid(product(amount: (40_000_000, 60_000_000), term: (11, 13), rate: (500, 600))),  // 1: matches at the very middle
            valid(product(amount: (10_000_000, 100_000_000), rate: (350, 600))),  // 2: as 0, cheaper
            valid(product(amount: (10_000_000, 100_000_000), rate: (350, 600))),  // 3: as 2, slower bank
            valid(product(rules: [rule("min_grade", "B")])),  // 4: near miss (grade)
            valid(product(amount: (100_000_000, 200_000_000), rules: [rule("min_grade", "B")])),  // 5: two failures
        ]
        let ranked = Matching.rank(products, facts: facts, demand: demand, decisionDays: [5, 2, 3, 8, nil, nil])
        #expect(ranked.matches.map(\.productIndex) == [1, 2, 3, 0])
        #expect(ranked.nearMisses.map(\.productIndex) == [4])
        #expect(ranked.nearMisses[0].failed.map(\.rule) == ["min_grade"])
        #expect(ranked.others.map(\.productIndex) == [5])
        #expect(ranked.matches[0].fitBp == 10_000)
        // A product that fails twice is checked no further; a near miss is checked to the end.
        let twice = try valid(
            product(amount: (100_000_000, 200_000_000), rules: [rule("min_grade", "A"), rule("no_current_blacklisting", nil)])
        )
        let other = Matching.check(twice, index: 0, facts: facts, demand: demand)
        #expect(other.checks.map(\.rule) == ["amount", "term", "min_grade"] && other.failed.count == 2)
        // Codes in a check's sentence read as names.
        let sized = try valid(product(rules: [rule("sizes", ["small", "medium"])]))
        let sizeCheck = try #require(Matching.check(sized, index: 0, facts: facts, demand: demand).failed.first)
        #expect(sizeCheck.zh == "规模限于 小型、中型；您是 微型" && sizeCheck.en == "sizes small, medium; yours is micro")
        let near = try valid(product(rules: [rule("min_grade", "A"), rule("no_current_blacklisting", nil)]))
        #expect(Matching.check(near, index: 0, facts: facts, demand: demand).checks.count == 4)
    }
}
