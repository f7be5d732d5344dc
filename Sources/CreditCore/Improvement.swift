/// "What would raise my grade": from a scorecard and a business's features, the smallest set of
/// changes to features the business can act on (pay on time, clear arrears, keep commitments…)
/// that would lift its score into the next grade. Pure: the same card and features give the
/// same advice.
public enum Improvement {
    /// Features a business can change by its own conduct (not its age, size or trend).
    public static let actionable: [Feature] = [
        .taxOnTimeRate12m, .unpaidTax, .socialInsuranceArrears12m, .utilityLateRate12m, .utilityUnpaid,
        .contractFulfilmentRate24m, .contractBreaches24m, .commitmentsKept36m,
    ]

    /// One change: move a feature from its bin to a better one.
    public struct Step: Sendable, Equatable {
        public let feature: Feature
        public let current: FeatureValue
        /// The bin to reach.
        public let target: Scorecard.Bin
        /// The target bin, as text in the feature's unit (`≥ 100.00%`, `< 1 个月`).
        public let targetZh: String
        public let targetEn: String
        public let gain: Int
    }

    public struct Advice: Sendable, Equatable {
        /// The grade aimed at (nil: already the best, or no score).
        public let nextGrade: String?
        /// Points still needed to reach it.
        public let pointsNeeded: Int
        /// The changes, largest gain first: the smallest set that reaches the grade, or, when none
        /// does (`reaches` false), every change conduct can make, each at its best.
        public let steps: [Step]
        /// Whether the steps lift the score into `nextGrade`.
        public let reaches: Bool
        /// Why no steps are given, when none are (thin file, best grade, capped by a knock-out,
        /// out of reach by conduct alone).
        public let blockedZh: String?
        public let blockedEn: String?
    }

    /// The advice for one scored profile.
    public static func advise(card: Scorecard, features f: FeatureSet, outcome o: Scorecard.Outcome) -> Advice {
        guard let score = o.score, !o.thinFile else {
            return Advice(
                nextGrade: nil,
                pointsNeeded: 0,
                steps: [],
                reaches: false,
                blockedZh: "数据不足12个月，暂不评分：持续按期纳税、缴费后即可获得评分。",
                blockedEn: "Under 12 months of data: no score yet. Keep filing and paying on time and one will follow."
            )
        }
        if !o.knockouts.isEmpty {
            return Advice(
                nextGrade: nil,
                pointsNeeded: 0,
                steps: [],
                reaches: false,
                blockedZh: "当前被列入失信名单，等级最高为D：履行义务并申请移出名单是第一步。",
                blockedEn: "On a dishonesty list: the grade is capped at D. Fulfil the obligation and have the listing removed first."
            )
        }
        guard let i = card.grades.firstIndex(where: { score >= $0.minScore }), i > 0 else {
            return Advice(
                nextGrade: nil,
                pointsNeeded: 0,
                steps: [],
                reaches: false,
                blockedZh: "已是最高等级。",
                blockedEn: "Already the best grade."
            )
        }
        let next = card.grades[i - 1]
        let needed = next.minScore - score
        // The score before it is held within the card's range: gains are added there, and what a
        // change does to the shown score is worked out from it (exact even at the range's ends).
        let raw = card.basePoints + o.points.values.reduce(0, +)
        let neededRaw = next.minScore - raw
        func shown(_ points: Int) -> Int { Swift.min(card.maxScore, Swift.max(card.minScore, points)) }
        // Per actionable feature, the better bins (gain over the current bin), smallest gain first.
        var options: [(feature: Feature, current: FeatureValue, bins: [(Scorecard.Bin, Int)])] = []
        for c in card.characteristics where actionable.contains(c.feature) {
            let v = f[c.feature]
            guard let at = c.binIndex(v) else { continue }
            let now = c.bins[at].points
            // Only bins on the favourable side of where the business is (by the card's declared
            // direction; a card without one gives no advice), each with what it adds.
            let better = c.bins.filter {
                $0.missing != true && $0.points > now
                    && (c.bins[at].missing == true ? c.direction != nil : c.isBetter($0, than: c.bins[at]))
            }
            .map { ($0, $0.points - now) }.sorted { $0.1 < $1.1 }
            if !better.isEmpty { options.append((c.feature, v, better)) }
        }
        // Fewest features: take the largest possible gains first until the points are met…
        let byBest = options.sorted { ($0.bins.last!.1, $1.feature.rawValue) > ($1.bins.last!.1, $0.feature.rawValue) }
        var chosen: [(Feature, FeatureValue, [(Scorecard.Bin, Int)], Int)] = []
        var total = 0
        for o in byBest where total < neededRaw {
            chosen.append((o.feature, o.current, o.bins, o.bins.count - 1))
            total += o.bins.last!.1
        }
        guard total >= neededRaw else {
            let adds = shown(raw + total) - score
            // Out of reach by conduct alone: still say what conduct can add, each change at its best.
            return Advice(
                nextGrade: next.grade,
                pointsNeeded: needed,
                steps: steps(chosen, raw: raw, shown: shown),
                reaches: false,
                blockedZh: "仅靠可改进的行为指标不足以升到\(next.grade)级（还差 \(needed) 分，以下改进合计可加 \(adds) 分）：还需经营规模与年限的积累。",
                blockedEn:
                    "Conduct alone cannot lift the score to \(next.grade) (\(needed) points short; the changes below add \(adds)): it also takes size and years in business."
            )
        }
        // …then make each change as small as it can be while the total still reaches them.
        for k in chosen.indices {
            while chosen[k].3 > 0 {
                let smaller = chosen[k].2[chosen[k].3 - 1].1
                let now = chosen[k].2[chosen[k].3].1
                guard total - now + smaller >= neededRaw else { break }
                total += smaller - now
                chosen[k].3 -= 1
            }
        }
        return Advice(
            nextGrade: next.grade,
            pointsNeeded: needed,
            steps: steps(chosen, raw: raw, shown: shown),
            reaches: true,
            blockedZh: nil,
            blockedEn: nil
        )
    }

    /// The chosen changes as steps, largest gain first; each gain is what that change alone
    /// does to the shown score.
    static func steps(
        _ chosen: [(Feature, FeatureValue, [(Scorecard.Bin, Int)], Int)],
        raw: Int,
        shown: (Int) -> Int
    ) -> [Step] {
        chosen.map { feature, current, bins, at in
            Step(
                feature: feature,
                current: current,
                target: bins[at].0,
                targetZh: describe(bins[at].0, feature, chinese: true),
                targetEn: describe(bins[at].0, feature, chinese: false),
                gain: shown(raw + bins[at].1) - shown(raw)
            )
        }.sorted { ($0.gain, $1.feature.rawValue) > ($1.gain, $0.feature.rawValue) }
    }

    /// A bin in words: `≥ 95.00%`, `< ¥1,000.00`, `0`, `2 – 3`, one of `A|B`.
    public static func describe(_ b: Scorecard.Bin, _ f: Feature, chinese: Bool) -> String {
        if let vs = b.values { return vs.map { Scorecard.category($0, chinese: chinese) }.joined(separator: chinese ? "或" : " or ") }
        func r(_ n: Int64) -> String { Scorecard.render(.number(n), f, chinese: chinese) }
        // Counts, months, persons and flags are whole and never below zero: [lo, hi) is lo to
        // hi − 1, and "below 1" is 0.
        let whole = [.count, .months, .persons, .flag].contains(f.definition.unit)
        switch (b.min, b.max) {
        case (let lo?, let hi?) where whole:
            return hi == lo + 1 ? r(lo) : "\(r(lo)) – \(r(hi - 1))"
        case (let lo?, let hi?): return "\(r(lo)) – \(chinese ? "不足" : "under ")\(r(hi))"
        case (let lo?, nil): return f.definition.unit == .flag ? r(lo) : "≥ \(r(lo))"
        case (nil, let hi?) where whole: return hi <= 1 ? r(0) : "≤ \(r(hi - 1))"
        case (nil, 1) where f.definition.unit == .fen: return r(0)  // amounts owed: none
        case (nil, let hi?): return "< \(r(hi))"
        case (nil, nil): return chinese ? "任意" : "any"
        }
    }
}
