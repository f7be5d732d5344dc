import Foundation

/// Model-health statistics for regulators: population stability of a distribution against
/// its reference, and how well scores separate loans that went bad (KS, AUC, Gini). Ratios,
/// not money: `Double` is right here.
public enum ModelHealth {
    /// PSI at or above this is a moderate shift (watch); at or above `psiAlert`, a major one.
    public static let psiWatch = 0.10
    public static let psiAlert = 0.25
    /// A share of zero is taken as this, so that an empty bin does not make PSI infinite.
    public static let psiFloor = 0.0001

    /// Population stability index of `actual` counts against `expected` counts over the same
    /// bins: Σ (a − e) · ln(a / e) over the bins' shares. Nil when either side is empty or
    /// the bins differ in number.
    public static func psi(expected: [Int], actual: [Int]) -> Double? {
        guard expected.count == actual.count, !expected.isEmpty else { return nil }
        let te = expected.reduce(0, +)
        let ta = actual.reduce(0, +)
        guard te > 0, ta > 0 else { return nil }
        var sum = 0.0
        for (e, a) in zip(expected, actual) {
            let pe = max(Double(e) / Double(te), psiFloor)
            let pa = max(Double(a) / Double(ta), psiFloor)
            sum += (pa - pe) * log(pa / pe)
        }
        return sum
    }

    /// A traffic light for a PSI: green below 0.10, amber below 0.25, red from 0.25.
    public static func psiLevel(_ psi: Double) -> String { psi >= psiAlert ? "red" : psi >= psiWatch ? "amber" : "green" }

    public struct Separation: Sendable, Equatable {
        public let loans: Int
        public let bad: Int
        /// Probability that a good loan scored higher than a bad one (ties count half).
        public let auc: Double
        /// Largest gap between the cumulative score distributions of bad and good loans.
        public let ks: Double
        public var gini: Double { 2 * auc - 1 }
    }

    /// How well `score` (higher = safer) separates bad from good. Nil without both kinds.
    /// Separation is given only over at least this many bad loans and as many good ones: over
    /// fewer it measures chance (and, over very few, names the loans).
    public static let minimumBadLoans = 30
    public static let minimumGoodLoans = 30
    /// PSI is given only when the baseline and today's distribution each cover at least this
    /// many scored businesses.
    public static let minimumPSIBusinesses = 100

    /// Separation when the sample is large enough to mean something (nil: sample too small).
    public static func separationOverEnough(_ loans: [(score: Int, bad: Bool)]) -> Separation? {
        let bad = loans.filter(\.bad).count
        guard bad >= minimumBadLoans, loans.count - bad >= minimumGoodLoans else { return nil }
        return separation(loans)
    }

    public static func separation(_ loans: [(score: Int, bad: Bool)]) -> Separation? {
        let bad = loans.filter(\.bad).count
        let good = loans.count - bad
        guard bad > 0, good > 0 else { return nil }
        // Walk scores upwards, group ties: AUC by ranks (Mann–Whitney), KS by cumulative shares.
        let sorted = loans.sorted { $0.score < $1.score }
        var i = 0
        var badBelow = 0
        var goodBelow = 0
        var concordant = 0.0
        var ks = 0.0
        while i < sorted.count {
            var j = i
            var b = 0
            var g = 0
            while j < sorted.count, sorted[j].score == sorted[i].score {
                if sorted[j].bad { b += 1 } else { g += 1 }
                j += 1
            }
            // Good loans at this score beat every bad loan below it and tie with the bad ones here.
            concordant += Double(g) * (Double(badBelow) + Double(b) / 2)
            badBelow += b
            goodBelow += g
            ks = max(ks, abs(Double(badBelow) / Double(bad) - Double(goodBelow) / Double(good)))
            i = j
        }
        return Separation(loans: loans.count, bad: bad, auc: concordant / (Double(bad) * Double(good)), ks: ks)
    }

    /// The 100-point band of a score (0…9; 1000 falls in the top band).
    public static func scoreBand(_ score: Int) -> Int { min(9, max(0, score / 100)) }
    public static let scoreBands = 10
}

/// Small-cell suppression for statistics shown to regulators: a cell counting fewer than
/// `threshold` (but more than zero) enterprises is not shown, and when a table with a shown
/// total would then have exactly one hidden cell — which the total minus the others would
/// reveal — the next smallest non-empty cell is hidden too (a complementary suppression).
public enum Suppression {
    public static let threshold = 5

    /// Which cells to hide, given each cell's count of distinct enterprises. `totalShown`:
    /// whether the table shows a total over these cells (the total itself is hidden when it is
    /// under the threshold: then every cell is).
    public static func hidden(_ counts: [Int], totalShown: Bool = true) -> [Bool] {
        var hide = counts.map { $0 > 0 && $0 < threshold }
        let total = counts.reduce(0, +)
        if totalShown, total > 0, total < threshold { return counts.map { $0 > 0 } }
        if totalShown, hide.filter({ $0 }).count == 1 {
            let candidates = counts.indices.filter { !hide[$0] && counts[$0] > 0 }
            if let next = candidates.min(by: { counts[$0] < counts[$1] }) { hide[next] = true }
        }
        return hide
    }

    /// Whether a table's total must be hidden (fewer than `threshold` enterprises in all).
    public static func totalHidden(_ total: Int) -> Bool { total > 0 && total < threshold }
}

/// Rounding of the figures regulators may filter (by date range, district, industry, size, bank,
/// product kind): every count is published as a multiple of `countBase` and every amount as a
/// multiple of `fenBase`, each figure on its own. Suppression alone is not enough there: two
/// shown totals that differ by one small cell (two date ranges, or a total and the other rows
/// fetched one by one) would give the cell back by subtraction. Rounded, any sum or difference
/// of published figures is again a multiple of the base, so it never reads a count of 1–4
/// businesses nor an amount finer than ¥1,000,000. Ratios are computed from the rounded figures
/// (a ratio of exact small counts would give them back). Half rounds up: 1, 2 → 0; 3, 4 → 5.
public enum Rounding {
    public static let countBase: Int64 = 5
    /// ¥1,000,000 in fen.
    public static let fenBase: Int64 = 100_000_000
    /// Decimal places of model statistics (AUC, KS, Gini, PSI): four would name the counts behind
    /// them (an AUC of 0.7333 is 11/15; a PSI of 0.0003 against an empty bin is one business in
    /// 3,000).
    public static let modelPlaces = 2
    /// A median or percentile is given only over at least this many values (over 1 or 2 it names
    /// how many there are, and what they are). (AUC, KS and Gini: `ModelHealth.minimumBadLoans`.)
    public static let minimumValues = 10
    public static let percentileNote =
        "medians and percentiles are given only over at least 10 values (null otherwise), since over fewer they would name the values"

    public static func count(_ n: Int64) -> Int64 { nearest(n, countBase) }
    public static func count(_ n: Int) -> Int64 { nearest(Int64(n), countBase) }
    public static func fen(_ n: Int64) -> Int64 { nearest(n, fenBase) }
    /// A model statistic as published (to `modelPlaces`); its traffic light is read from this.
    public static func model(_ x: Double) -> Double {
        let scale = (0..<modelPlaces).reduce(1.0) { scale, _ in scale * 10 }
        return (x * scale).rounded() / scale
    }

    static func nearest(_ n: Int64, _ base: Int64) -> Int64 {
        n >= 0 ? (n + base / 2) / base * base : -((-n + base / 2) / base * base)
    }

    /// The note every rounded table carries.
    public static let note =
        "counts are rounded to the nearest 5 and amounts to the nearest ¥1,000,000, each figure on its own (a total may differ from the sum of its rows); ratios are computed from the rounded figures"
}
