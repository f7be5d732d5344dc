/// Deadlines in working days: weekends and China's public holidays are skipped, the weekend
/// days worked in exchange count (`ChinaCalendar`).
extension Day {
    /// Days since 1970-01-01 (negative before).
    public var daysSinceEpoch: Int {
        // Howard Hinnant's days-from-civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 1 = Monday … 7 = Sunday.
    public var isoWeekday: Int {
        let d = (daysSinceEpoch + 3) % 7  // 1970-01-01 was a Thursday (3 days after Monday)
        return (d < 0 ? d + 7 : d) + 1
    }

    public var isWorkingDay: Bool { ChinaCalendar.isWorkingDay(self) }

    /// Working days from this day to `due`: positive while it is ahead (the due day counts),
    /// 0 on the day, negative once it has passed (the working days since).
    public func workingDays(until due: Day) -> Int {
        if due == self { return 0 }
        var n = 0
        var d = self
        if due > self {
            while d < due {
                d = d.addingDays(1)
                if d.isWorkingDay { n += 1 }
            }
            return n
        }
        while d > due {
            d = d.addingDays(-1)
            if d.isWorkingDay { n -= 1 }
        }
        return n
    }

    /// The day `n` working days after this one (a deadline "within n working days").
    public func addingWorkingDays(_ n: Int) -> Day {
        precondition(n >= 0)
        var d = self
        var left = n
        while left > 0 {
            d = d.addingDays(1)
            if d.isWorkingDay { left -= 1 }
        }
        return d
    }

    public func addingDays(_ n: Int) -> Day {
        var y = year
        var m = month
        var d = day + n
        while d > Day.daysIn(year: y, month: m) {
            d -= Day.daysIn(year: y, month: m)
            m += 1
            if m > 12 {
                m = 1
                y += 1
            }
        }
        while d < 1 {
            m -= 1
            if m < 1 {
                m = 12
                y -= 1
            }
            d += Day.daysIn(year: y, month: m)
        }
        return Day(year: y, month: m, day: d)!
    }
}
