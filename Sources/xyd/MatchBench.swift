import ArgumentParser
import CreditCore
import Foundation

/// `ops/bench matching`: a demand against every product, with full explanations, on one core.
struct MatchBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match-bench",
        abstract: "Benchmark: match demands against products with explanations (prints figures)."
    )
    @Option(help: "Products.") var products = 1_000
    @Option(help: "Demands.") var demands = 10_000
    @Option(help: "Seed of the generated products and demands.") var seed: UInt64 = 7

    /// A small deterministic generator (SplitMix64).
    struct Gen {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(next() % UInt64(r.count)) }
        mutating func pick<T>(_ a: [T]) -> T { a[int(0...(a.count - 1))] }
        mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    }

    func run() throws {
        var g = Gen(state: seed)
        let industries = ["A", "A01", "A04", "C17", "C18", "C20", "C26", "C34", "C37", "E47", "F51", "H62", "I65"]
        let districts = ["320602", "320612", "320614", "320623", "320681", "320682", "320685"]
        var catalogue: [ProductTerms] = []
        while catalogue.count < products {
            var rules: [RuleInput] = []
            if g.chance(70) { rules.append(RuleInput(rule: "min_grade", value: .string(g.pick(["A", "B", "C"])))) }
            if g.chance(50) { rules.append(RuleInput(rule: "min_years_in_business", value: .number(String(g.int(1...5))))) }
            if g.chance(30) {
                rules.append(RuleInput(rule: "industries_allowed", value: .array((0..<3).map { _ in .string(g.pick(industries)) })))
            }
            if g.chance(20) { rules.append(RuleInput(rule: "districts_excluded", value: .array([.string(g.pick(districts))]))) }
            if g.chance(60) { rules.append(RuleInput(rule: "no_current_blacklisting", value: nil)) }
            if g.chance(40) { rules.append(RuleInput(rule: "no_serious_penalty_within_months", value: .number(String(g.int(6...36))))) }
            if g.chance(40) { rules.append(RuleInput(rule: "min_tax_credit_grade", value: .string(g.pick(["A", "B", "M"])))) }
            if g.chance(30) { rules.append(RuleInput(rule: "min_insured_headcount", value: .number(String(g.int(1...50))))) }
            if g.chance(20) { rules.append(RuleInput(rule: "sizes", value: .array([.string("micro"), .string("small")]))) }
            if g.chance(15) { rules.append(RuleInput(rule: "first_loan_only", value: nil)) }
            let kind = g.pick(ProductKind.allCases)
            if kind != .credit, g.chance(50) { rules.append(RuleInput(rule: "collateral_required", value: nil)) }
            let lo = Int64(g.int(1...50)) * 1_000_000
            let term = g.int(3...24)
            let rate = g.int(300...800)
            if case .success(let p) = ProductValidation.check(
                kind: kind,
                amountMinFen: lo,
                amountMaxFen: lo * Int64(g.int(2...20)),
                termMinMonths: term,
                termMaxMonths: term + g.int(0...36),
                rateMinBp: rate,
                rateMaxBp: rate + g.int(0...400),
                rules: rules
            ) {
                var p = p
                // Most products carry an indicative amount rule, computed for every match.
                if g.chance(60) {
                    let basis: Quota.Basis =
                        g.chance(50)
                        ? .taxPaidMultiple(tenths: g.int(10...100)) : .perInsuredEmployee(fen: Int64(g.int(1...20)) * 1_000_000)
                    let caps = g.chance(50) ? ["B": p.amountMaxFen / 2, "C": p.amountMaxFen / 4] : [:]
                    p.quota = Quota(basis: basis, capByGrade: caps)
                }
                catalogue.append(p)
            }
        }
        let speeds: [Int?] = catalogue.map { _ in g.chance(80) ? g.int(1...10) : nil }
        let asks: [(ApplicantFacts, DemandTerms)] = (0..<demands).map { _ in
            (
                ApplicantFacts(
                    grade: g.chance(5) ? nil : g.pick(["A", "B", "B", "C", "C", "D"]),
                    monthsInBusiness: g.int(3...240),
                    industryCode: g.pick(industries.filter { $0.count == 3 }),
                    districtCode: g.pick(districts),
                    entityType: g.pick(Rule.entityTypeValues),
                    sizeClass: g.pick(Rule.sizeValues),
                    blacklistedNow: g.chance(3),
                    monthsSinceSeriousPenalty: g.chance(10) ? g.int(0...40) : nil,
                    taxCreditGrade: g.pick(Rule.taxGrades),
                    insuredHeadcount: g.int(0...300),
                    taxPaid12mFen: g.chance(10) ? nil : Int64(g.int(0...5_000)) * 100_000
                ),
                DemandTerms(
                    amountFen: Int64(g.int(5...500)) * 1_000_000,
                    termMonths: g.int(3...60),
                    collateralOffered: g.chance(40),
                    firstLoan: g.chance(30)
                )
            )
        }
        // Baseline in the same run: only the amount range compared, no explanations.
        let clock = ContinuousClock()
        var baselineHits = 0
        let baseline = clock.measure {
            for (_, d) in asks {
                for p in catalogue where d.amountFen >= p.amountMinFen && d.amountFen <= p.amountMaxFen { baselineHits += 1 }
            }
        }
        /// One pass over every demand; `render` also renders the sentences a response shows
        /// (every check of the matches and near misses, the failed checks of the rest).
        func pass(
            render: Bool,
            catalogue: [ProductTerms]
        ) -> (total: Duration, p50: Double, p99: Double, matched: Int, near: Int, bytes: Int) {
            var times: [Duration] = []
            times.reserveCapacity(demands)
            var matched = 0
            var near = 0
            var bytes = 0
            let total = clock.measure {
                for (f, d) in asks {
                    let start = clock.now
                    let r = Matching.rank(catalogue, facts: f, demand: d, decisionDays: speeds)
                    if render {
                        for m in r.matches + r.nearMisses { for c in m.checks { bytes += c.zh.utf8.count + c.en.utf8.count } }
                        for m in r.others { for c in m.failed { bytes += c.zh.utf8.count + c.en.utf8.count } }
                    }
                    times.append(clock.now - start)
                    matched += r.matches.count
                    near += r.nearMisses.count
                }
            }
            times.sort()
            return (total, ms(times[times.count / 2]), ms(times[min(times.count - 1, times.count * 99 / 100)]), matched, near, bytes)
        }
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        // The same products without their indicative amount rules, in the same run: what quotas cost.
        let plain = pass(
            render: false,
            catalogue: catalogue.map { p in
                var p = p
                p.quota = nil
                return p
            }
        )
        let structured = pass(render: false, catalogue: catalogue)
        let sentences = pass(render: true, catalogue: catalogue)
        let (matched, near) = (structured.matched, structured.near)
        print("products               \(catalogue.count)   (\(catalogue.filter { $0.quota != nil }.count) with an indicative amount rule)")
        print("demands                \(demands)   (avg \(matched / demands) matches, \(near / demands) near misses each)")
        for (name, r) in [("no quotas           ", plain), ("checks with values  ", structured), ("+ every sentence    ", sentences)] {
            let seconds = ms(r.total) / 1000
            print(
                String(
                    format: "%@ %.2f s   %.0f demands/s on one core   p50 %.3f ms   p99 %.3f ms   (goal: p99 under 1 ms)",
                    name,
                    seconds,
                    Double(demands) / seconds,
                    r.p50,
                    r.p99
                )
            )
        }
        print("  (sentences rendered per demand: \(sentences.bytes / demands) bytes — every check of every match and near miss)")
        print(
            String(
                format: "quotas cost: p99 ratio %.2f, total ratio %.2f (with ÷ without)",
                structured.p99 / plain.p99,
                ms(structured.total) / ms(plain.total)
            )
        )
        let seconds = ms(structured.total) / 1000
        print(
            String(
                format: "baseline (amount only) %.3f s   ratio %.1f   (%d hits)",
                ms(baseline) / 1000,
                seconds / (ms(baseline) / 1000),
                baselineHits
            )
        )
    }
}
