import CreditCore
import Testing

/// Indicative amounts (参考额度): the vocabulary banks set per product, read and computed exactly.
@Suite struct QuotaTests {
    static func facts(grade: String = "B", tax: Int64? = 12_000_000, headcount: Int? = 8) -> ApplicantFacts {
        ApplicantFacts(
            grade: grade,
            monthsInBusiness: 60,
            industryCode: "C17",
            districtCode: "320602",
            entityType: "company",
            sizeClass: "small",
            blacklistedNow: false,
            monthsSinceSeriousPenalty: nil,
            taxCreditGrade: "A",
            insuredHeadcount: headcount,
            taxPaid12mFen: tax
        )
    }

    @Test func aTaxMultipleIsCappedByGradeAndTheProductAndRoundedDownToAThousandYuan() throws {
        let q = try Quota.parse(
            ["basis": "tax_paid_multiple", "multiple": "5.5", "cap_by_grade": ["B": 50_000_000]],
            maxAmountFen: 300_000_000
        )
        .get()
        // ¥120,000 tax × 5.5 = ¥660,000, under B's cap of ¥500,000 → ¥500,000.
        #expect(q.indicative(Self.facts(), productMaxFen: 300_000_000) == 50_000_000)
        // Grade A has no cap: ¥660,000; a product maximum of ¥300,000 caps it.
        #expect(q.indicative(Self.facts(grade: "A"), productMaxFen: 300_000_000) == 66_000_000)
        #expect(q.indicative(Self.facts(grade: "A"), productMaxFen: 30_000_000) == 30_000_000)
        // ¥12,345.67 × 5.5 = ¥67,901.185 → ¥67,000.
        #expect(q.indicative(Self.facts(grade: "A", tax: 1_234_567), productMaxFen: 300_000_000) == 6_700_000)
        // No tax on file: no figure rather than a wrong one.
        #expect(q.indicative(Self.facts(tax: nil), productMaxFen: 300_000_000) == nil)
    }

    @Test func anAmountPerInsuredEmployee() throws {
        let q = try Quota.parse(["basis": "per_insured_employee", "fen_per_employee": 5_000_000], maxAmountFen: 300_000_000).get()
        #expect(q.indicative(Self.facts(headcount: 8), productMaxFen: 300_000_000) == 40_000_000)
        #expect(q.indicative(Self.facts(headcount: nil), productMaxFen: 300_000_000) == nil)
        #expect(q.jsonValue["basis"] == "per_insured_employee")
    }

    @Test func everyBadPartIsNamed() {
        func fields(_ v: JSONValue) -> [String] {
            if case .failure(let p) = Quota.parse(v, maxAmountFen: 1_000_000) { return p.problems.map(\.field) }
            return []
        }
        #expect(fields(["basis": "revenue_multiple"]) == ["quota.basis"])
        #expect(fields(["basis": "tax_paid_multiple", "multiple": "0"]) == ["quota.multiple"])
        #expect(fields(["basis": "tax_paid_multiple", "multiple": "50.1"]) == ["quota.multiple"])
        #expect(fields(["basis": "tax_paid_multiple", "multiple": "1.25"]) == ["quota.multiple"])
        #expect(fields(["basis": "per_insured_employee", "fen_per_employee": 0]) == ["quota.fen_per_employee"])
        #expect(fields(["basis": "tax_paid_multiple", "multiple": "3", "cap_by_grade": ["E": 1]]) == ["quota.cap_by_grade"])
        #expect(fields(["basis": "tax_paid_multiple", "multiple": "3", "cap_by_grade": ["A": 2_000_000]]) == ["quota.cap_by_grade.A"])
        #expect(fields("x") == ["quota"])
        #expect(fields(["basis": "tax_paid_multiple", "multiple": 50]).isEmpty)
    }
}
