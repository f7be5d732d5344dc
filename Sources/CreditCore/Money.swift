/// Money as the providers send it: a string of yuan with at most 2 decimals.
public enum Money {
    /// Integer fen, or nil when the text is not a non-negative amount within the limit.
    public static func fen(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard !u.isEmpty else { return nil }
        var whole: Int64 = 0
        var i = 0
        var wholeDigits = 0
        while i < u.count, u[i] >= 0x30, u[i] <= 0x39 {
            whole = whole * 10 + Int64(u[i] - 0x30)
            wholeDigits += 1
            i += 1
            if wholeDigits > 13 { return nil }
        }
        guard wholeDigits > 0 else { return nil }
        var fraction: Int64 = 0
        if i < u.count {
            guard u[i] == 0x2E else { return nil }
            i += 1
            let digits = u.count - i
            guard digits == 1 || digits == 2 else { return nil }
            for k in 0..<digits {
                let b = u[i + k]
                guard b >= 0x30, b <= 0x39 else { return nil }
                fraction = fraction * 10 + Int64(b - 0x30)
            }
            if digits == 1 { fraction *= 10 }
        }
        guard whole <= ProviderLimits.moneyMaxYuan else { return nil }
        return whole * 100 + fraction
    }

    /// An amount as people write it, in yuan: `500000`, `500,000`, `500000.00`, `¥500,000`,
    /// `50万`, `50 万元`, `1.5万`, `0.5亿` — to integer fen, or nil when it is not an amount of
    /// whole fen (or is over `ProviderLimits.moneyMaxYuan`).
    public static func parseYuan(_ text: String) -> Int64? {
        // Spaces may stand around the sign and the unit, never inside the number.
        func trim(_ x: String) -> String { x.trimmingCharacters(in: .whitespacesAndNewlines) }
        var s = trim(text)
        for sign in ["¥", "￥", "RMB", "人民币"] where s.hasPrefix(sign) { s = trim(String(s.dropFirst(sign.count))) }
        if s.hasSuffix("元") { s = trim(String(s.dropLast())) }
        // Units: 万 (10^4) and 亿 (10^8) yuan, as a number of decimal places to shift.
        var shift = 0
        if s.hasSuffix("万") {
            shift = 4
            s = trim(String(s.dropLast()))
        } else if s.hasSuffix("亿") {
            shift = 8
            s = trim(String(s.dropLast()))
        }
        // Thousands separators only between groups of three digits.
        if s.contains(",") {
            let whole = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
            guard groups.count > 1, (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }) else { return nil }
            s = s.replacingOccurrences(of: ",", with: "")
        }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let w = parts.first, !w.isEmpty, w.allSatisfy(\.isASCII), w.allSatisfy(\.isNumber), w.count <= 13 else { return nil }
        let frac = parts.count > 1 ? String(parts[1]) : ""
        guard frac.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !frac.isEmpty else { return nil }
        // Fen are two places below the yuan: the digits after the point, shifted by the unit,
        // must end within them.
        let places = shift + 2
        guard frac.count <= places else {
            // Extra digits may only be zeros.
            guard frac.dropFirst(places).allSatisfy({ $0 == "0" }) else { return nil }
            return parseYuan(String(w) + "." + frac.prefix(places) + (shift == 4 ? "万" : shift == 8 ? "亿" : ""))
        }
        let digits = String(w) + frac + String(repeating: "0", count: places - frac.count)
        let trimmed = digits.drop { $0 == "0" }
        guard trimmed.count <= 18, let fen = Int64(trimmed.isEmpty ? "0" : String(trimmed)) else { return nil }
        guard fen / 100 <= ProviderLimits.moneyMaxYuan else { return nil }
        return fen
    }

    /// `1234567` → `1,234,567` (thousands separated, as Chinese pages write figures).
    public static func grouped(_ n: Int64) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// Money for people, exactly: `¥12,345.67` (`-¥…` below zero).
    public static func display(fen: Int64) -> String {
        let m = fen.magnitude
        return (fen < 0 ? "-" : "") + "¥" + grouped(Int64(m / 100)) + "." + String(m % 100).leftPadded(2)
    }

    /// `1234.50` from 123450 fen.
    public static func yuan(fen: Int64) -> String {
        let sign = fen < 0 ? "-" : ""
        let a = fen.magnitude
        return sign + String(a / 100) + "." + String(a % 100).leftPadded(2)
    }

    public static func isDecimal(_ text: String) -> Bool {
        let u = Array(text.utf8)
        guard !u.isEmpty, u.count <= ProviderLimits.decimalMaxDigits + 1 else { return false }
        var seenDot = false
        var digits = 0
        for (i, b) in u.enumerated() {
            if b == 0x2E {
                if seenDot || i == 0 || i == u.count - 1 { return false }
                seenDot = true
            } else if b >= 0x30 && b <= 0x39 {
                digits += 1
            } else {
                return false
            }
        }
        return digits > 0
    }
}
