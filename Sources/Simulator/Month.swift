import CreditCore

/// A calendar month, counted from year 0 for easy arithmetic.
struct Month: Comparable, Hashable {
    let index: Int  // year * 12 + (month - 1)

    init(year: Int, month: Int) { index = year * 12 + month - 1 }
    init(index: Int) { self.index = index }

    var year: Int { index / 12 }
    var month: Int { index % 12 + 1 }
    func adding(_ n: Int) -> Month { Month(index: index + n) }
    static func < (a: Month, b: Month) -> Bool { a.index < b.index }

    var text: String { "\(year)-\(month < 10 ? "0" : "")\(month)" }

    /// A day of this month, clamped to its length.
    func day(_ d: Int) -> Day {
        Day(year: year, month: month, day: min(max(d, 1), Day.daysIn(year: year, month: month)))!
    }
}

extension Day {
    var calendarMonth: Month { Month(year: year, month: month) }
}
