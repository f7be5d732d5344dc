import Foundation

/// How a loan is paid back, and what it costs in fen — computed exactly: every month's interest
/// is the balance times the monthly rate (the annual rate over 12) rounded half up to the fen,
/// and the last instalment clears what is left, so the figures add up to the fen.
public enum Repayment: String, Codable, CaseIterable, Sendable {
    /// 等额本息: the same payment every month, rounded down to the fen (the last one takes the
    /// few fen left).
    case equalInstalments = "equal_instalments"
    /// 先息后本: interest every month, the principal with the last payment.
    case interestOnly = "interest_only"

    public struct Plan: Sendable, Equatable, Encodable {
        /// The regular monthly payment.
        public let monthlyFen: Int64
        /// The last payment (it clears the balance).
        public let lastFen: Int64
        public let totalInterestFen: Int64
        /// Principal plus interest.
        public let totalFen: Int64
    }

    /// The plan for `principalFen` over `months` at `rateBp` a year (basis points, simple
    /// annual rate; monthly rate = rateBp / 120,000).
    public func plan(principalFen: Int64, months: Int, rateBp: Int) -> Plan {
        precondition(principalFen > 0 && months > 0 && rateBp >= 0)
        let r = Decimal(rateBp) / Decimal(120_000)
        func fen(_ d: Decimal, down: Bool = false) -> Int64 {
            var x = d
            var out = Decimal()
            NSDecimalRound(&out, &x, 0, down ? .down : .plain)
            return NSDecimalNumber(decimal: out).int64Value
        }
        switch self {
        case .interestOnly:
            let interest = fen(Decimal(principalFen) * r)
            let total = interest * Int64(months)
            return Plan(monthlyFen: interest, lastFen: interest + principalFen, totalInterestFen: total, totalFen: principalFen + total)
        case .equalInstalments:
            // The payment of the annuity formula, rounded down to the fen (so the balance never
            // runs out before the last month on any loan of ¥1,000 or more); the last instalment
            // takes what is left.
            let payment: Int64
            if rateBp == 0 {
                payment = principalFen / Int64(months)
            } else {
                let q = pow(1 + r, months)
                payment = fen(Decimal(principalFen) * r * q / (q - 1), down: true)
            }
            var balance = principalFen
            var interestTotal: Int64 = 0
            var last = payment
            for month in 1...months {
                let interest = fen(Decimal(balance) * r)
                interestTotal += interest
                if month == months {
                    last = balance + interest
                } else {
                    balance -= min(max(payment - interest, 0), balance)
                }
            }
            return Plan(monthlyFen: payment, lastFen: last, totalInterestFen: interestTotal, totalFen: principalFen + interestTotal)
        }
    }
}
