/// China's public holidays and the weekend days worked in exchange (调休), as the State
/// Council's General Office publishes them each year for the next (国务院办公厅关于 YYYY 年部分
/// 节假日安排的通知). Deadlines counted in working days — a bank's take-up and decision, the
/// operator's answer to a credit repair — skip the holidays and count the make-up days.
///
/// A year not listed counts weekdays only; `covers(year:)` tells, and `xyd serve` warns at
/// start-up while the current or (in December) the next year is missing. When the notice for
/// a new year appears, add its year here: the list is law, not configuration.
public enum ChinaCalendar {
    public struct Year: Sendable {
        /// Days off that would otherwise be working days (and the weekend days inside a holiday).
        public let holidays: [ClosedRange<Day>]
        /// Saturdays and Sundays worked in exchange.
        public let workdays: [Day]
    }

    static func d(_ s: String) -> Day { Day(s)! }
    static func r(_ a: String, _ b: String) -> ClosedRange<Day> { d(a)...d(b) }

    public static let years: [Int: Year] = [
        // 国办发明电〔2024〕12号
        2025: Year(
            holidays: [
                r("2025-01-01", "2025-01-01"),  // 元旦
                r("2025-01-28", "2025-02-04"),  // 春节
                r("2025-04-04", "2025-04-06"),  // 清明节
                r("2025-05-01", "2025-05-05"),  // 劳动节
                r("2025-05-31", "2025-06-02"),  // 端午节
                r("2025-10-01", "2025-10-08"),  // 国庆节、中秋节
            ],
            workdays: [d("2025-01-26"), d("2025-02-08"), d("2025-04-27"), d("2025-09-28"), d("2025-10-11")]
        ),
        // 国办发明电〔2025〕7号
        2026: Year(
            holidays: [
                r("2026-01-01", "2026-01-03"),  // 元旦
                r("2026-02-15", "2026-02-23"),  // 春节
                r("2026-04-04", "2026-04-06"),  // 清明节
                r("2026-05-01", "2026-05-05"),  // 劳动节
                r("2026-06-19", "2026-06-21"),  // 端午节
                r("2026-09-25", "2026-09-27"),  // 中秋节
                r("2026-10-01", "2026-10-07"),  // 国庆节
            ],
            workdays: [d("2026-01-04"), d("2026-02-14"), d("2026-02-28"), d("2026-05-09"), d("2026-09-20"), d("2026-10-10")]
        ),
    ]

    /// Whether the calendar knows `year`'s holidays.
    public static func covers(year: Int) -> Bool { years[year] != nil }

    /// A working day: a weekday that is not a public holiday, or a make-up weekend day.
    public static func isWorkingDay(_ day: Day) -> Bool {
        guard let year = years[day.year] else { return day.isoWeekday <= 5 }
        if year.workdays.contains(day) { return true }
        if year.holidays.contains(where: { $0.contains(day) }) { return false }
        return day.isoWeekday <= 5
    }

    /// The years a service running on `today` should have and does not: this year, and in
    /// December the next.
    public static func missingYears(today: Day) -> [Int] {
        (today.month == 12 ? [today.year, today.year + 1] : [today.year]).filter { !covers(year: $0) }
    }
}
