import Foundation

/// A versioned scorecard, stored as data (`contracts/scorecards/*.json`): for each feature,
/// bins with points; base points; the score-to-odds scaling it was built with; the grades; the
/// knock-outs; the thin-file rule. Loaded with `Scorecard.decode`, which refuses a card that
/// does not cover every value of every feature exactly once.
public struct Scorecard: Sendable, Codable, Equatable {
    public struct Scaling: Sendable, Codable, Equatable {
        /// The score at which the odds of good to bad are `baseOdds`…
        public let baseScore: Int
        public let baseOdds: Int
        /// …and every this many points doubles them.
        public let pointsToDoubleOdds: Int
        enum CodingKeys: String, CodingKey {
            case baseScore = "base_score"
            case baseOdds = "base_odds"
            case pointsToDoubleOdds = "points_to_double_odds"
        }
    }

    /// One bin: numbers in `[min, max)` (either end open when absent), or one of `values`,
    /// or the missing value.
    public struct Bin: Sendable, Codable, Equatable {
        public let min: Int64?
        public let max: Int64?
        public let values: [String]?
        public let missing: Bool?
        public let points: Int

        public init(min: Int64? = nil, max: Int64? = nil, values: [String]? = nil, missing: Bool? = nil, points: Int) {
            self.min = min
            self.max = max
            self.values = values
            self.missing = missing
            self.points = points
        }

        func matches(_ v: FeatureValue) -> Bool {
            switch v {
            case .missing: return missing == true
            case .category(let c): return values?.contains(c) ?? false
            case .number(let n):
                guard missing != true, values == nil else { return false }
                return (min.map { n >= $0 } ?? true) && (max.map { n < $0 } ?? true)
            }
        }

        var label: String {
            if missing == true { return "missing" }
            if let values { return values.joined(separator: "|") }
            return "[\(min.map(String.init) ?? "-inf"), \(max.map(String.init) ?? "+inf"))"
        }
    }

    /// Which way a feature's points must run: up with the number, down with it, or down a list
    /// of categories given best first (`order`).
    public enum Direction: String, Sendable, Codable, Equatable {
        case higherIsBetter = "higher_is_better"
        case lowerIsBetter = "lower_is_better"
        case order
    }

    public struct Characteristic: Sendable, Codable, Equatable {
        public let feature: Feature
        /// Stable reason code given when this feature costs points.
        public let reasonCode: String
        public let reasonZh: String
        public let reasonEn: String
        /// Declared by the card (cards published before 2026.3 have none).
        public let direction: Direction?
        /// For `order`: every category, best first.
        public let order: [String]?
        /// Scored 0 in every bin on purpose (shown, not counted).
        public let informational: Bool?
        public let bins: [Bin]
        enum CodingKeys: String, CodingKey {
            case feature, bins, direction, order, informational
            case reasonCode = "reason_code"
            case reasonZh = "reason_zh"
            case reasonEn = "reason_en"
        }

        /// The bins other than the missing one, worst values first along the direction: ranges
        /// by their lower end (reversed when lower is better), categories from last to first of
        /// `order`. Nil without a direction.
        public var worstFirst: [Bin]? {
            guard let direction else { return nil }
            let present = bins.filter { $0.missing != true }
            switch direction {
            case .higherIsBetter: return present.sorted { ($0.min ?? .min) < ($1.min ?? .min) }
            case .lowerIsBetter: return present.sorted { ($0.min ?? .min) > ($1.min ?? .min) }
            case .order:
                guard let order else { return nil }
                func rank(_ b: Bin) -> Int { b.values?.compactMap { order.firstIndex(of: $0) }.min() ?? order.count }
                return present.sorted { rank($0) > rank($1) }
            }
        }

        /// The bin a business aims at for full points: among the bins with values, the highest
        /// scoring, and of those the first along the direction (the least it takes).
        public var bestBin: Bin? {
            let present = worstFirst ?? bins.filter { $0.missing != true }
            guard let top = present.map(\.points).max() else { return nil }
            return present.first { $0.points == top }
        }

        /// Whether `to` lies on the favourable side of `from` (strictly better values), by the
        /// declared direction. False without one.
        public func isBetter(_ to: Bin, than from: Bin) -> Bool {
            guard let w = worstFirst, let i = w.firstIndex(of: from), let j = w.firstIndex(of: to) else { return false }
            return j > i
        }

        public var maxPoints: Int { bins.map(\.points).max() ?? 0 }
        /// The index of the bin a value falls in (nil: none does).
        public func binIndex(_ v: FeatureValue) -> Int? { bins.firstIndex { $0.matches(v) } }
        /// Each bin as text: `[min, max)`, `A|B`, `missing`.
        public var binLabels: [String] { bins.map(\.label) }
    }

    public struct Grade: Sendable, Codable, Equatable {
        public let grade: String
        public let minScore: Int
        enum CodingKeys: String, CodingKey {
            case grade
            case minScore = "min_score"
        }
    }

    public struct Knockout: Sendable, Codable, Equatable {
        public let feature: Feature
        /// The knock-out applies when the feature has this value.
        public let equals: Int64
        /// The best grade allowed then.
        public let maxGrade: String
        public let reasonCode: String
        public let reasonZh: String
        public let reasonEn: String
        enum CodingKeys: String, CodingKey {
            case feature, equals
            case maxGrade = "max_grade"
            case reasonCode = "reason_code"
            case reasonZh = "reason_zh"
            case reasonEn = "reason_en"
        }
    }

    public let version: String
    public let description: String
    public let scaling: Scaling
    public let basePoints: Int
    public let minScore: Int
    public let maxScore: Int
    /// Under this many months of data the profile is `thin_file`: no score.
    public let minDataMonths: Int
    /// Best first.
    public let grades: [Grade]
    public let knockouts: [Knockout]
    public let characteristics: [Characteristic]
    /// How the card was built and how well it separated (documentation, not used to score).
    public let validation: [String: String]?
    /// How long repaired and unpublished penalties still count (absent: their whole window).
    public let penaltyPolicy: PenaltyPolicy?
    /// The sample the card was developed on, as the card scores it: the baseline the
    /// regulators' stability (PSI) is measured against. Absent on cards before 2026.3.
    public let development: Development?

    public struct Development: Sendable, Codable, Equatable {
        public let enterprises: Int
        public let defaults: Int
        /// Enterprises per 100-point score band (`ModelHealth.scoreBand`).
        public let scoreBands: [Int]
        /// Enterprises per bin of each characteristic, in the card's bin order.
        public let features: [String: [Int]]
        enum CodingKeys: String, CodingKey {
            case enterprises, defaults, features
            case scoreBands = "score_bands"
        }
    }

    /// The penalty policy the features are computed under.
    public var policy: PenaltyPolicy { penaltyPolicy ?? .fullWindow }

    enum CodingKeys: String, CodingKey {
        case version, description, scaling, grades, knockouts, characteristics, validation, development
        case penaltyPolicy = "penalty_policy"
        case basePoints = "base_points"
        case minScore = "min_score"
        case maxScore = "max_score"
        case minDataMonths = "min_data_months"
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads and checks a card: known features once each, every bin list covering every
    /// value exactly once (numbers from −∞ to +∞ without gaps or overlaps, a missing bin),
    /// grades in descending order within the score range.
    public static func decode(_ data: Data) throws -> Scorecard {
        let card: Scorecard
        do {
            card = try JSONDecoder().decode(Scorecard.self, from: data)
        } catch let DecodingError.dataCorrupted(c) {
            throw Invalid(
                description: "not a scorecard: \(c.debugDescription) at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
            )
        } catch let DecodingError.keyNotFound(k, c) {
            throw Invalid(
                description: "not a scorecard: \(k.stringValue) missing at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
            )
        } catch let DecodingError.typeMismatch(_, c) {
            throw Invalid(description: "not a scorecard: wrong type at \(c.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw Invalid(description: "not a scorecard: \(error)")
        }
        try card.check()
        return card
    }

    public func check() throws {
        func fail(_ s: String) -> Invalid { Invalid(description: "scorecard \(version): \(s)") }
        guard !version.isEmpty, version.count <= 40, version.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
            throw fail("version must be 1–40 letters, digits, dots, dashes or underscores")
        }
        guard minScore < maxScore else { throw fail("min_score must be below max_score") }
        guard !grades.isEmpty else { throw fail("no grades") }
        for (a, b) in zip(grades, grades.dropFirst()) where a.minScore <= b.minScore {
            throw fail("grades must be listed best first with falling min_score (\(a.grade), \(b.grade))")
        }
        guard grades.last!.minScore <= minScore else { throw fail("the last grade must start at min_score") }
        var seen = Set<Feature>()
        for c in characteristics {
            guard seen.insert(c.feature).inserted else { throw fail("\(c.feature.rawValue) appears twice") }
            let unit = c.feature.definition.unit
            let missingBins = c.bins.filter { $0.missing == true }
            guard missingBins.count == 1 else { throw fail("\(c.feature.rawValue) needs exactly one bin with \"missing\": true") }
            for b in c.bins where b.missing != true {
                if b.values != nil && (b.min != nil || b.max != nil) {
                    throw fail("\(c.feature.rawValue): a bin has both values and a range")
                }
            }
            switch unit {
            case .grade, .status:
                var values = Set<String>()
                for b in c.bins where b.missing != true {
                    guard let vs = b.values, !vs.isEmpty else { throw fail("\(c.feature.rawValue) is categorical: bins need values") }
                    for v in vs where !values.insert(v).inserted { throw fail("\(c.feature.rawValue): \(v) in two bins") }
                }
                let known: Set<String> = unit == .grade ? ["A", "B", "M", "C", "D"] : ["active", "suspended", "revoked", "deregistered"]
                guard values == known else {
                    throw fail("\(c.feature.rawValue): bins must cover exactly \(known.sorted().joined(separator: ", "))")
                }
            default:
                let ranges = c.bins.filter { $0.missing != true }
                guard ranges.allSatisfy({ $0.values == nil }) else { throw fail("\(c.feature.rawValue) is numeric: bins need ranges") }
                let sorted = ranges.sorted { ($0.min ?? .min) < ($1.min ?? .min) }
                guard let first = sorted.first, first.min == nil, sorted.last?.max == nil else {
                    throw fail("\(c.feature.rawValue): the first bin must have no min and the last no max")
                }
                for (a, b) in zip(sorted, sorted.dropFirst()) where a.max == nil || a.max != b.min {
                    throw fail("\(c.feature.rawValue): bins \(a.label) and \(b.label) leave a gap or overlap")
                }
                for b in sorted {
                    if let lo = b.min, let hi = b.max, lo >= hi { throw fail("\(c.feature.rawValue): empty bin \(b.label)") }
                }
            }
        }
        for k in knockouts where !grades.contains(where: { $0.grade == k.maxGrade }) {
            throw fail("knock-out \(k.reasonCode) names an unknown grade \(k.maxGrade)")
        }
        for m in [penaltyPolicy?.repairedCountsMonths, penaltyPolicy?.unpublishedCountsMonths].compactMap({ $0 })
        where !(0...36).contains(m) {
            throw fail("penalty_policy months must be 0–36 (a penalty counts 36 months at most)")
        }
        let codes = characteristics.map(\.reasonCode) + knockouts.map(\.reasonCode)
        guard Set(codes).count == codes.count else { throw fail("reason codes must be unique") }
    }

    /// What publishing asks beyond a well-formed card: every characteristic declares its
    /// direction and its points never fall in that direction; the missing bin scores no more than
    /// the best bin; no characteristic scores 0 in every bin unless it says it is
    /// `informational`. A refusal names the feature and the bins.
    public func checkPublishable() throws {
        func fail(_ s: String) -> Invalid { Invalid(description: "scorecard \(version): \(s)") }
        for c in characteristics {
            let name = c.feature.rawValue
            guard let direction = c.direction else {
                throw fail("\(name) declares no direction (higher_is_better, lower_is_better, or order with its categories best first)")
            }
            let categorical = [.grade, .status].contains(c.feature.definition.unit)
            if categorical != (direction == .order) {
                throw fail("\(name): \(categorical ? "a categorical feature takes direction order" : "direction order is for categories")")
            }
            if direction == .order {
                let covered = Set(c.bins.compactMap(\.values).joined())
                guard let order = c.order, Set(order) == covered, order.count == covered.count else {
                    throw fail("\(name): order must list each of its categories once, best first")
                }
                // Categories sharing a bin must be neighbours in the order.
                for b in c.bins {
                    if let vs = b.values {
                        let at = vs.compactMap { order.firstIndex(of: $0) }.sorted()
                        if let lo = at.first, let hi = at.last, hi - lo != at.count - 1 {
                            throw fail("\(name): bin \(b.label) joins categories that are not neighbours in the order")
                        }
                    }
                }
            }
            let run = c.worstFirst ?? []
            for (a, b) in zip(run, run.dropFirst()) where b.points < a.points {
                throw fail(
                    "\(name) is \(direction.rawValue) but bin \(b.label) scores \(b.points), below the worse bin \(a.label) at \(a.points)"
                )
            }
            // Hiding data must not pay: no data scores at most what the best value does.
            if let missing = c.bins.first(where: { $0.missing == true }), let best = c.bestBin, missing.points > best.points {
                throw fail("\(name): the missing bin scores \(missing.points), above the best bin \(best.label) at \(best.points)")
            }
            if c.bins.allSatisfy({ $0.points == 0 }) && c.informational != true {
                throw fail("\(name) scores 0 in every bin: mark it \"informational\": true or give it points")
            }
            if c.informational == true && c.bins.contains(where: { $0.points != 0 }) {
                throw fail("\(name) is informational but has points")
            }
        }
        if let d = development {
            guard d.scoreBands.count == ModelHealth.scoreBands, d.scoreBands.reduce(0, +) == d.enterprises else {
                throw fail("development.score_bands must have \(ModelHealth.scoreBands) bands adding up to development.enterprises")
            }
            for c in characteristics {
                guard let counts = d.features[c.feature.rawValue], counts.count == c.bins.count else {
                    throw fail("development.features.\(c.feature.rawValue) must count each of its \(c.bins.count) bins")
                }
            }
        }
    }

    // MARK: Scoring

    public struct Reason: Sendable, Codable, Equatable {
        public let code: String
        public let feature: Feature
        public let value: FeatureValue
        public let points: Int
        public let maxPoints: Int
        public let zh: String
        public let en: String
        enum CodingKeys: String, CodingKey {
            case code, feature, value, points, zh, en
            case maxPoints = "max_points"
        }
    }

    public struct Outcome: Sendable, Codable, Equatable {
        public let scorecardVersion: String
        /// nil for a thin file.
        public let score: Int?
        public let grade: String?
        public let thinFile: Bool
        /// Knock-outs that capped the grade, by reason code.
        public let knockouts: [String]
        /// At most 4, most important first.
        public let reasons: [Reason]
        public let points: [Feature: Int]

        public init(
            scorecardVersion: String,
            score: Int?,
            grade: String?,
            thinFile: Bool,
            knockouts: [String],
            reasons: [Reason],
            points: [Feature: Int]
        ) {
            self.scorecardVersion = scorecardVersion
            self.score = score
            self.grade = grade
            self.thinFile = thinFile
            self.knockouts = knockouts
            self.reasons = reasons
            self.points = points
        }

        enum CodingKeys: String, CodingKey {
            case score, grade, knockouts, reasons, points
            case scorecardVersion = "scorecard_version"
            case thinFile = "thin_file"
        }
    }

    public static let maxReasons = 4

    /// Scores one feature set: base points plus each feature's bin, clamped to the score
    /// range; the grade from the score, capped by knock-outs; reasons by points below the
    /// feature's maximum, most first (ties in the card's order). A thin file gets no score.
    public func score(_ f: FeatureSet) -> Outcome {
        var total = basePoints
        var points: [Feature: Int] = [:]
        var shortfalls: [(index: Int, below: Int, reason: Reason)] = []
        for (i, c) in characteristics.enumerated() {
            let v = f[c.feature]
            let p = c.bins.first { $0.matches(v) }?.points ?? 0
            points[c.feature] = p
            total += p
            let below = c.maxPoints - p
            if below > 0 {
                shortfalls.append(
                    (
                        i, below,
                        Reason(
                            code: c.reasonCode,
                            feature: c.feature,
                            value: v,
                            points: p,
                            maxPoints: c.maxPoints,
                            zh: Scorecard.reasonText(c, v, chinese: true),
                            en: Scorecard.reasonText(c, v, chinese: false)
                        )
                    )
                )
            }
        }
        let reasons = shortfalls.sorted { ($1.below, $0.index) < ($0.below, $1.index) }.prefix(Scorecard.maxReasons).map(\.reason)
        let hits = knockouts.filter { f[$0.feature] == .number($0.equals) }
        let thin = f.dataMonths < minDataMonths
        let score = Swift.min(maxScore, Swift.max(minScore, total))
        var grade = grades.first { score >= $0.minScore }?.grade ?? grades.last!.grade
        for k in hits { grade = worse(grade, k.maxGrade) }
        if thin {
            // No guess from too little data; a knock-out still speaks.
            let capped = hits.reduce(nil as String?) { g, k in g.map { worse($0, k.maxGrade) } ?? k.maxGrade }
            return Outcome(
                scorecardVersion: version,
                score: nil,
                grade: capped,
                thinFile: true,
                knockouts: hits.map(\.reasonCode),
                reasons: Array(reasons),
                points: points
            )
        }
        return Outcome(
            scorecardVersion: version,
            score: score,
            grade: grade,
            thinFile: false,
            knockouts: hits.map(\.reasonCode),
            reasons: Array(reasons),
            points: points
        )
    }

    func worse(_ a: String, _ b: String) -> String {
        let ia = grades.firstIndex { $0.grade == a } ?? 0
        let ib = grades.firstIndex { $0.grade == b } ?? 0
        return ia >= ib ? a : b
    }

    /// Why a feature cost points, in words that follow its value: the feature, its value with
    /// sign and unit, and what full points take — `近12个月按期申报率：85.00%（满分需 ≥ 100.00%）`.
    /// Built from the value, never from a fixed phrase that could contradict it.
    public static func reasonText(_ c: Characteristic, _ v: FeatureValue, chinese: Bool) -> String {
        let d = c.feature.definition
        let label = chinese ? d.zh : d.en
        let value = render(v, c.feature, chinese: chinese)
        guard let best = c.bestBin else { return chinese ? "\(label)：\(value)" : "\(label): \(value)" }
        let target = Improvement.describe(best, c.feature, chinese: chinese)
        return chinese ? "\(label)：\(value)（满分需 \(target)）" : "\(label): \(value) (full points at \(target))"
    }

    /// The registration statuses in words (tax credit grades are read as they are).
    static let statusNames: [String: (String, String)] = [
        "active": ("存续", "active"), "suspended": ("停业", "suspended"), "revoked": ("吊销", "revoked"),
        "deregistered": ("注销", "deregistered"),
    ]

    /// A category in words.
    public static func category(_ c: String, chinese: Bool) -> String {
        statusNames[c].map { chinese ? $0.0 : $0.1 } ?? c
    }

    /// A feature value in words: 85.00%, +4.78% for a change, ¥1,234.50, 27 个月 / 27 months.
    public static func render(_ v: FeatureValue, _ f: Feature, chinese: Bool) -> String {
        switch v {
        case .missing: return chinese ? "无数据" : "no data"
        case .category(let c): return category(c, chinese: chinese)
        case .number(let n):
            switch f.definition.unit {
            case .bp:
                let sign = n < 0 ? "-" : (f.isChange && n > 0 ? "+" : "")
                let a = n.magnitude
                return sign + String(a / 100) + "." + String(a % 100).leftPadded(2) + "%"
            case .fen: return Money.display(fen: n)
            case .months: return chinese ? "\(n) 个月" : "\(n) months"
            case .persons: return chinese ? "\(n) 人" : "\(n) persons"
            case .flag: return n == 1 ? (chinese ? "是" : "yes") : (chinese ? "否" : "no")
            case .count, .grade, .status: return Money.grouped(n)
            }
        }
    }
}
