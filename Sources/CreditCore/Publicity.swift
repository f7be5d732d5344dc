/// How long an administrative penalty is published (行政处罚信息公示期限) and from when its
/// publication may be ended early (信用修复), as versioned rule sets: the set in force on the
/// penalty's decision day applies, so a penalty's window never changes once decided, and a report
/// as of any moment reads the same window the service read then.
///
/// - **Before 2026-04-01** (the rules this service applied under the 2023 trial measures,
///   国家发展改革委《失信行为纠正后的信用信息修复管理办法（试行）》, and the publicity periods of
///   发改办财金〔2019〕527号): any penalty at least 3 months and at most 3 years after the decision;
///   at least 1 year in the fields of food, drugs and medical devices, special equipment, work
///   safety and fire — recognised by those words in the violation or in the authority's name
///   where the name states the field of law (消防 in 消防救援支队), never by a bureau's general
///   name (a 市场监督管理局 decides in many fields).
/// - **From 2026-04-01** (国家发展改革委《信用修复管理办法》, published 2025-11-26): by the
///   provider's `severity` — **minor** (轻微) in principle not published: published only when the
///   provider's `publicity_ends_on` is after the decision (the authority deemed it necessary), and
///   then at most 3 months; repairable from the decision day (once the legal duty is done);
///   **general** (一般) at least 3 months, at most 1 year; **serious** (严重) at least 1 year, at
///   most 3 years. A severity the provider does not name is read as general.
///
/// Within a set, a provider's `publicity_ends_on` outside the bounds is moved inside them (and
/// the change shown). Repair is possible from the minimum; at the maximum publication ends.
public enum Publicity {
    /// One rule set and the day it came into force.
    public struct Rules: Sendable, Equatable {
        public let id: String
        /// In force for penalties decided on or after this day (nil: since always).
        public let effectiveFrom: Day?
        public let source: String
        /// The period a penalty of this kind is published: at least `minMonths`, at most
        /// `maxMonths`; `optIn`: published only if the provider's date says so.
        public struct Bounds: Sendable, Equatable {
            public let minMonths: Int
            public let maxMonths: Int
            public let optIn: Bool
            public let category: String?
        }
        let bounds: @Sendable (_ severity: String, _ authority: String, _ violation: String) -> Bounds

        public static func == (a: Rules, b: Rules) -> Bool { a.id == b.id }
    }

    /// The one-year fields of the rules before 2026-04-01, and the words that name them in a
    /// violation or in the authority's statement of its field.
    public static let longCategories: [(category: String, words: [String])] = [
        ("food", ["食品"]),
        ("drugs", ["药品", "医疗器械"]),
        ("special_equipment", ["特种设备"]),
        ("work_safety", ["安全生产"]),
        ("fire", ["消防"]),
    ]

    /// The one-year field of a penalty under the rules before 2026-04-01, if it is in one.
    public static func longCategory(authority: String, violation: String) -> String? {
        longCategories.first { c in c.words.contains { authority.contains($0) || violation.contains($0) } }?.category
    }

    public static let trial2023 = Rules(
        id: "trial-2023",
        effectiveFrom: nil,
        source: "国家发展改革委《失信行为纠正后的信用信息修复管理办法（试行）》（2023）；发改办财金〔2019〕527号",
        bounds: { _, authority, violation in
            let category = longCategory(authority: authority, violation: violation)
            return .init(minMonths: category == nil ? 3 : 12, maxMonths: 36, optIn: false, category: category)
        }
    )

    public static let measures2026 = Rules(
        id: "measures-2026",
        effectiveFrom: Day(year: 2026, month: 4, day: 1)!,
        source: "国家发展改革委《信用修复管理办法》（2025年11月26日公布，2026年4月1日起施行）",
        bounds: { severity, _, _ in
            switch severity {
            case "minor": .init(minMonths: 0, maxMonths: 3, optIn: true, category: nil)
            case "serious": .init(minMonths: 12, maxMonths: 36, optIn: false, category: nil)
            default: .init(minMonths: 3, maxMonths: 12, optIn: false, category: nil)
            }
        }
    )

    /// Every rule set, oldest first.
    public static let sets: [Rules] = [trial2023, measures2026]

    /// The set in force on a day (a penalty's decision day).
    public static func rules(on day: Day) -> Rules {
        sets.last { $0.effectiveFrom.map { $0 <= day } ?? true }!
    }

    public struct Window: Sendable, Equatable {
        /// The last day the penalty is published, as the rules allow (the decision day itself
        /// for a penalty not published at all).
        public let endsOn: Day
        /// What the provider said, when the rules moved it.
        public let providerEndsOn: Day?
        /// From this day a business may apply to end publication early.
        public let repairableFrom: Day
        public let category: String?
        /// Published at all (a minor penalty under the 2026 rules only when the authority said so).
        public let published: Bool
        /// The rule set applied (`Rules.id`).
        public let rules: String
    }

    public static func window(
        decidedOn: Day,
        providerEndsOn: Day?,
        severity: String = "general",
        authority: String,
        violation: String
    ) -> Window {
        let set = rules(on: decidedOn)
        let b = set.bounds(severity, authority, violation)
        let low = decidedOn.addingMonths(b.minMonths)
        let high = decidedOn.addingMonths(b.maxMonths)
        if b.optIn, (providerEndsOn ?? decidedOn) <= decidedOn {
            // Not published: the authority did not ask for it.
            return Window(
                endsOn: decidedOn,
                providerEndsOn: nil,
                repairableFrom: decidedOn,
                category: b.category,
                published: false,
                rules: set.id
            )
        }
        let given = providerEndsOn ?? high
        let end = min(max(given, low), high)
        return Window(
            endsOn: end,
            providerEndsOn: end == providerEndsOn ? nil : providerEndsOn,
            repairableFrom: low,
            category: b.category,
            published: true,
            rules: set.id
        )
    }

    /// Published on `today`: within the window and not ended early by an approved repair.
    public static func isPublished(_ w: Window, decidedOn: Day, repairedOn: Day?, today: Day) -> Bool {
        guard w.published, decidedOn <= today, today <= w.endsOn else { return false }
        if let repairedOn, repairedOn <= today { return false }
        return true
    }
}

extension History.Penalty {
    /// The publicity window the rules allow (see `Publicity`).
    public var window: Publicity.Window {
        Publicity.window(
            decidedOn: decidedOn,
            providerEndsOn: publicityEndsOn,
            severity: severity,
            authority: authority,
            violation: violation
        )
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
