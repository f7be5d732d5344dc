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
}
