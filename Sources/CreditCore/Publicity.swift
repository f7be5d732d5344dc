/// How long an administrative penalty is published (行政处罚信息公示期限), the rules the
/// service applies whatever a provider sends:
/// - at least 3 months and at most 3 years after the decision;
/// - at least 1 year for food, drugs, special equipment, work safety and fire;
/// - a business may apply to end it early (信用修复) once the minimum has passed.
/// A provider's `publicity_ends_on` outside those bounds is moved inside them (and the change
/// shown). The categories are recognised by words in the deciding authority or the violation.
public enum Publicity {
    public static let minimumMonths = 3
    public static let longMinimumMonths = 12
    public static let maximumMonths = 36

    /// The categories published at least a year, and the words that identify them.
    public static let longCategories: [(category: String, words: [String])] = [
        ("food", ["食品"]),
        ("drugs", ["药品", "药监", "医疗器械"]),
        ("special_equipment", ["特种设备", "市场监督管理"]),
        ("work_safety", ["安全生产", "应急管理"]),
        ("fire", ["消防"]),
    ]

    /// The one-year category of a penalty, if it is in one.
    public static func longCategory(authority: String, violation: String) -> String? {
        longCategories.first { c in c.words.contains { authority.contains($0) || violation.contains($0) } }?.category
    }

    public static func minimumEnd(decidedOn: Day, authority: String, violation: String) -> Day {
        decidedOn.addingMonths(longCategory(authority: authority, violation: violation) != nil ? longMinimumMonths : minimumMonths)
    }

    public static func maximumEnd(decidedOn: Day) -> Day { decidedOn.addingMonths(maximumMonths) }

    public struct Window: Sendable, Equatable {
        /// The last day the penalty is published, as the rules allow.
        public let endsOn: Day
        /// What the provider said, when the rules moved it.
        public let providerEndsOn: Day?
        /// From this day a business may apply to end publication early.
        public let repairableFrom: Day
        public let category: String?
    }

    public static func window(decidedOn: Day, providerEndsOn: Day?, authority: String, violation: String) -> Window {
        let low = minimumEnd(decidedOn: decidedOn, authority: authority, violation: violation)
        let high = maximumEnd(decidedOn: decidedOn)
        let given = providerEndsOn ?? high
        let end = min(max(given, low), high)
        return Window(
            endsOn: end,
            providerEndsOn: end == providerEndsOn ? nil : providerEndsOn,
            repairableFrom: low,
            category: longCategory(authority: authority, violation: violation)
        )
    }

    /// Published on `today`: within the window and not ended early by an approved repair.
    public static func isPublished(_ w: Window, decidedOn: Day, repairedOn: Day?, today: Day) -> Bool {
        guard decidedOn <= today, today <= w.endsOn else { return false }
        if let repairedOn, repairedOn <= today { return false }
        return true
    }
}

extension History.Penalty {
    /// The publicity window the rules allow (see `Publicity`).
    public var window: Publicity.Window {
        Publicity.window(decidedOn: decidedOn, providerEndsOn: publicityEndsOn, authority: authority, violation: violation)
    }
}

extension History {
    /// The penalties published on a day — decided by then, within their window, not ended early
    /// by an approved repair known to the history — newest first.
    public func publishedPenalties(on day: Day) -> [Penalty] {
        penalties.filter { Publicity.isPublished($0.window, decidedOn: $0.decidedOn, repairedOn: $0.repairedOn, today: day) }
            .sorted { ($0.decidedOn, $0.id) > ($1.decidedOn, $1.id) }
    }
}
