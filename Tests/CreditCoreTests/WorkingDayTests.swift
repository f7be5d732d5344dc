import CreditCore
import Testing

@Suite struct WorkingDayTests {
    func d(_ s: String) -> Day { Day(s)! }

    @Test func weekdaysAreRight() {
        #expect(d("1970-01-01").isoWeekday == 4)  // a Thursday
        #expect(d("2026-11-28").isoWeekday == 6)  // a Saturday
        #expect(d("2026-11-30").isoWeekday == 1)
        #expect(d("2024-02-29").isoWeekday == 4)
        #expect(d("1969-12-31").isoWeekday == 3)
    }

    @Test func deadlinesSkipWeekends() {
        // Posted on a Thursday: 3 working days → Tuesday.
        #expect(d("2026-11-26").addingWorkingDays(3) == d("2026-12-01"))
        // Posted on a Saturday: Monday, Tuesday, Wednesday.
        #expect(d("2026-11-28").addingWorkingDays(3) == d("2026-12-02"))
        // Posted on a Friday: 1 working day → Monday.
        #expect(d("2026-11-27").addingWorkingDays(1) == d("2026-11-30"))
        // 10 working days from a Monday: two weeks later, Monday.
        #expect(d("2026-11-30").addingWorkingDays(10) == d("2026-12-14"))
        // Across a year end and a leap day.
        #expect(d("2027-12-30").addingWorkingDays(3) == d("2028-01-04"))
        #expect(d("2028-02-28").addingWorkingDays(1) == d("2028-02-29"))
        #expect(d("2026-11-28").addingWorkingDays(0) == d("2026-11-28"))
    }

    @Test func publicHolidaysAreSkippedAndMakeUpDaysCount() {
        // Spring Festival 2026: off from Sunday 15 to Monday 23 February; Saturday 14 and
        // Saturday 28 worked in exchange.
        #expect(d("2026-02-14").isWorkingDay)
        #expect(!d("2026-02-16").isWorkingDay && !d("2026-02-23").isWorkingDay)
        #expect(d("2026-02-28").isWorkingDay)
        // A demand posted on Friday 13 February: Saturday 14 is the first working day, then
        // Tuesday 24 — not Monday 16 as weekdays alone would say.
        #expect(d("2026-02-13").addingWorkingDays(1) == d("2026-02-14"))
        #expect(d("2026-02-13").addingWorkingDays(2) == d("2026-02-24"))
        // Ten working days from Friday 13 February: 14, 24, 25, 26, 27, 28 (a Saturday worked),
        // 2, 3, 4, 5 March.
        #expect(d("2026-02-13").addingWorkingDays(10) == d("2026-03-05"))
        // National Day 2026: 1–7 October off; Sunday 20 September and Saturday 10 October worked.
        #expect(d("2026-09-30").addingWorkingDays(1) == d("2026-10-08"))
        #expect(d("2026-09-20").isWorkingDay && d("2026-10-10").isWorkingDay)
        #expect(!d("2026-09-25").isWorkingDay)  // Mid-Autumn, a Friday
        // 2025: Spring Festival 28 January – 4 February; Sunday 26 January worked.
        #expect(d("2025-01-24").addingWorkingDays(1) == d("2025-01-26"))
        #expect(d("2025-01-27").addingWorkingDays(1) == d("2025-02-05"))
        // A year the calendar does not know counts weekdays only, and says so.
        #expect(!ChinaCalendar.covers(year: 2030))
        #expect(d("2030-10-01").isWorkingDay)  // a Tuesday; its holidays are not listed yet
        #expect(ChinaCalendar.missingYears(today: d("2026-11-28")).isEmpty)
        #expect(ChinaCalendar.missingYears(today: d("2026-12-01")) == [2027])
    }

    @Test func everyListedYearIsConsistent() {
        for (year, y) in ChinaCalendar.years {
            for range in y.holidays {
                #expect(range.lowerBound.year == year && range.upperBound.year == year, "\(range) in \(year)")
            }
            for w in y.workdays {
                #expect(w.year == year && w.isoWeekday >= 6, "a make-up day is a Saturday or Sunday: \(w)")
                #expect(!y.holidays.contains { $0.contains(w) }, "\(w) is both off and worked")
            }
        }
    }

    @Test func workingDaysUntilADeadlineCountForwardAndBack() {
        let monday = Day(year: 2026, month: 11, day: 30)!
        #expect(Day(year: 2026, month: 11, day: 27)!.workingDays(until: monday) == 1)  // Friday → Monday: the weekend skipped
        #expect(monday.workingDays(until: Day(year: 2026, month: 12, day: 4)!) == 4)
        #expect(monday.workingDays(until: monday) == 0)
        #expect(monday.workingDays(until: Day(year: 2026, month: 11, day: 27)!) == -1)  // a working day overdue
        // National Day 2026: 1–7 October off; 30 September → 8 October is one working day.
        #expect(Day(year: 2026, month: 9, day: 30)!.workingDays(until: Day(year: 2026, month: 10, day: 8)!) == 1)
    }
}
