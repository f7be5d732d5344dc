/// A calendar day, compared by value.
public struct Day: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Day.daysIn(year: year, month: month) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, strictly.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D,
            let y = Day.digits(u[0..<4]), let m = Day.digits(u[5..<7]), let d = Day.digits(u[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    static func digits(_ s: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for b in s {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            v = v * 10 + Int(b - 0x30)
        }
        return v
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    public var description: String {
        String(year).leftPadded(4) + "-" + String(month).leftPadded(2) + "-" + String(day).leftPadded(2)
    }
}

/// Timestamps as the providers send them (RFC 3339).
public enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    public static func isRFC3339(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 20, let _ = Day(String(decoding: u[0..<10], as: UTF8.self)),
            u[10] == 0x54 || u[10] == 0x74, u[13] == 0x3A, u[16] == 0x3A,
            let h = Day.digits(u[11..<13]), h < 24, let m = Day.digits(u[14..<16]), m < 60,
            let sec = Day.digits(u[17..<19]), sec <= 60
        else { return false }
        var i = 19
        if u[i] == 0x2E {
            i += 1
            let start = i
            while i < u.count, u[i] >= 0x30, u[i] <= 0x39 { i += 1 }
            if i == start { return false }
        }
        guard i < u.count else { return false }
        if u[i] == 0x5A || u[i] == 0x7A { return i == u.count - 1 }
        guard u[i] == 0x2B || u[i] == 0x2D, u.count - i == 6, u[i + 3] == 0x3A,
            let oh = Day.digits(u[(i + 1)..<(i + 3)]), oh < 24, let om = Day.digits(u[(i + 4)..<(i + 6)]), om < 60
        else { return false }
        return true
    }
}
