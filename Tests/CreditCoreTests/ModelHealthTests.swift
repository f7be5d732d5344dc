import Foundation
import Testing

@testable import CreditCore

@Suite struct ModelHealthTests {
    /// PSI by hand: shares (0.5, 0.5) against (0.25, 0.75):
    /// (0.25 − 0.5)·ln(0.25/0.5) + (0.75 − 0.5)·ln(0.75/0.5) = 0.25·ln 2 + 0.25·ln 1.5.
    @Test func psiMatchesTheFormula() throws {
        let psi = try #require(ModelHealth.psi(expected: [50, 50], actual: [25, 75]))
        #expect(abs(psi - (0.25 * log(2.0) + 0.25 * log(1.5))) < 1e-12)
        #expect(ModelHealth.psi(expected: [10, 20, 30], actual: [20, 40, 60]) == 0)
        #expect(ModelHealth.psi(expected: [1, 2], actual: [1]) == nil)
        #expect(ModelHealth.psi(expected: [0, 0], actual: [1, 2]) == nil)
        // An empty bin is floored, not infinite.
        let floored = try #require(ModelHealth.psi(expected: [100, 0], actual: [50, 50]))
        #expect(floored.isFinite && floored > ModelHealth.psiAlert)
        #expect(ModelHealth.psiLevel(0.05) == "green" && ModelHealth.psiLevel(0.10) == "amber" && ModelHealth.psiLevel(0.3) == "red")
    }

    /// Against a brute-force count over every (good, bad) pair, and KS over every threshold.
    @Test func separationEqualsTheBruteForce() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<30 {
            let loans = (0..<Int.random(in: 2...60, using: &rng)).map { _ in
                (score: Int.random(in: 300...900, using: &rng) / 50 * 50, bad: Bool.random(using: &rng))
            }
            let bad = loans.filter(\.bad)
            let good = loans.filter { !$0.bad }
            guard !bad.isEmpty, !good.isEmpty else { continue }
            var wins = 0.0
            for g in good { for b in bad { wins += g.score > b.score ? 1 : g.score == b.score ? 0.5 : 0 } }
            let auc = wins / Double(good.count * bad.count)
            var ks = 0.0
            for t in Set(loans.map(\.score)) {
                let fb = Double(bad.filter { $0.score <= t }.count) / Double(bad.count)
                let fg = Double(good.filter { $0.score <= t }.count) / Double(good.count)
                ks = max(ks, abs(fb - fg))
            }
            let s = try #require(ModelHealth.separation(loans))
            #expect(abs(s.auc - auc) < 1e-12 && abs(s.ks - ks) < 1e-12)
            #expect(abs(s.gini - (2 * auc - 1)) < 1e-12)
        }
        // Perfect separation, and none.
        let perfect = try #require(ModelHealth.separation([(300, true), (400, true), (700, false), (800, false)]))
        #expect(perfect.auc == 1 && perfect.ks == 1)
        #expect(ModelHealth.separation([(300, true)]) == nil)
    }

    @Test func smallCellsAreHiddenWithAComplementWhereATotalWouldRevealThem() {
        // One small cell: hidden, and the next smallest with it.
        #expect(Suppression.hidden([3, 40, 12, 0]) == [true, false, true, false])
        // Two small cells already protect each other.
        #expect(Suppression.hidden([3, 40, 2, 9]) == [true, false, true, false])
        // No total shown: no complement needed.
        #expect(Suppression.hidden([3, 40, 12], totalShown: false) == [true, false, false])
        // Zero is not a small cell; a tiny table hides everything.
        #expect(Suppression.hidden([0, 50]) == [false, false])
        #expect(Suppression.hidden([1, 2, 0]) == [true, true, false])
        #expect(Suppression.totalHidden(4) && !Suppression.totalHidden(0) && !Suppression.totalHidden(5))
        #expect(ModelHealth.scoreBand(1000) == 9 && ModelHealth.scoreBand(0) == 0 && ModelHealth.scoreBand(655) == 6)
    }

    @Test func separationNeedsThirtyBadAndThirtyGoodLoans() {
        func loans(bad: Int, good: Int) -> [(score: Int, bad: Bool)] {
            (0..<bad).map { (score: 500 + $0, bad: true) } + (0..<good).map { (score: 600 + $0, bad: false) }
        }
        #expect(ModelHealth.separationOverEnough(loans(bad: 29, good: 100)) == nil)
        #expect(ModelHealth.separationOverEnough(loans(bad: 100, good: 29)) == nil)
        #expect(ModelHealth.separationOverEnough(loans(bad: 30, good: 30))?.auc == 1)
    }
}
