/// How long negative information is kept (征信业管理条例 第十六条): five years from the day the
/// behaviour ended; after that it is no longer provided — not shown in reports, not disclosed,
/// not used in scores. Behaviour that has not ended (a listing not removed, tax or a bill still
/// unpaid, arrears not cleared) is kept as long as it lasts.
///
/// The day each kind of behaviour ended, as the providers' fields allow:
/// - administrative penalty: the decision day (providers send no day the violation was corrected);
/// - dishonesty listing: the day it was removed (still listed: not ended);
/// - tax return filed late: the filing day; unfiled or not paid in full: not ended;
/// - social-insurance month in arrears: not ended while the provider says it is in arrears (a
///   month no longer in arrears is not negative);
/// - utility bill paid late: the payment day; unpaid: not ended;
/// - contract breached or overdue: the settlement day, or its due day when none is given.
///
/// The features never look back further than 36 months (every window is shorter than five years,
/// `Retention.featureWindowsWithin` is tested), so scores already leave aged-out records out; this
/// filter is what reports read.
public enum Retention {
    public static let years = 5

    /// The last day a behaviour that ended on `ended` may still be provided.
    public static func lastDay(ended: Day) -> Day { ended.addingMonths(12 * years) }

    /// Kept on `day`: not negative, not ended, or ended at most five years before.
    static func kept(_ ended: Day?, on day: Day) -> Bool { ended.map { day <= lastDay(ended: $0) } ?? true }

    /// Whether every feature window is within the retention period (so scores cannot use a record
    /// past it). A feature without a window reads a current state only (a listing in force now,
    /// the latest rating, the registration): behaviour that has not ended.
    public static var featureWindowsWithin: Bool {
        Feature.allCases.allSatisfy { ($0.definition.windowMonths ?? 0) <= 12 * years }
    }
}

extension History {
    /// The history as it may be provided on `day`: negative records whose behaviour ended more than
    /// five years before are left out (see `Retention`).
    public func retained(on day: Day) -> History {
        var h = self
        h.penalties = penalties.filter { Retention.kept($0.decidedOn, on: day) }
        h.listings = listings.filter { Retention.kept($0.removedOn, on: day) }
        h.taxFilings = taxFilings.filter { t in
            // Late but filed and paid in full: ended on filing; otherwise not negative, or not ended.
            guard let filed = t.filedOn, filed > t.dueOn, t.taxPaidFen >= t.taxPayableFen else { return true }
            return Retention.kept(filed, on: day)
        }
        h.utilityBills = utilityBills.filter { b in
            guard let paid = b.paidOn, paid > b.dueOn, b.paidFen >= b.billedFen else { return true }
            return Retention.kept(paid, on: day)
        }
        h.contracts = contracts.filter { c in
            guard ["breached", "overdue"].contains(c.status) else { return true }
            return Retention.kept(c.settledOn ?? c.dueOn, on: day)
        }
        return h
    }
}
