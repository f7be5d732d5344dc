import CreditCore
import Foundation
import Simulator
import Testing

/// The simulated market's past: a pure function of the seed whose demands follow the rules the
/// live market enforces — other banks' parts (referrals, competing offers) included.
@Suite struct MarketHistoryTests {
    static let today = Day("2026-11-28")!
    static let city = City(seed: 11, enterprises: 300, asOf: today)
    static let grades: [String: String] = {
        var g: [String: String] = [:]
        for i in 0..<city.enterpriseCount { g[city.enterprise(i).uscc] = ["A", "B", "B", "C", "D"][i % 5] }
        return g
    }()

    static func plan(seed: UInt64 = 3) -> [HistoricalDemand] {
        MarketHistory.plan(city: city, grades: grades, banks: 3, months: 12, perMonth: 60, today: today, seed: seed)
    }

    @Test func theSameSeedPlansTheSamePast() {
        let a = Self.plan()
        let b = Self.plan()
        #expect(a.count == b.count && a.map(\.state) == b.map(\.state) && a.map(\.others.count) == b.map(\.others.count))
    }

    @Test func otherBanksPartsFollowTheMarketsRules() {
        let demands = Self.plan()
        var referrals = 0
        var rivals = 0
        for d in demands {
            var seen: Set<Int> = []
            for o in d.others {
                #expect(o.bank != d.bank, "a part of the lender's own")
                #expect(d.matched.contains(o.bank) && !d.passed.contains(o.bank), "only a matched bank that did not pass")
                #expect(seen.insert(o.bank).inserted, "one part per bank")
                #expect(o.takenUpAt >= d.postedAt && o.decidedAt >= o.takenUpAt)
                if o.declineReason != nil {
                    referrals += 1
                    // Declined before the lender took the demand up.
                    #expect(d.takenUpAt.map { o.decidedAt < $0 } == true)
                    #expect(o.rateBp == nil)
                } else {
                    rivals += 1
                    // A competing offer: only on a demand whose business accepted another offer, and dearer.
                    #expect(["granted", "disbursed"].contains(d.state))
                    #expect(o.rateBp.map { r in d.rateBp.map { r > $0 } ?? false } == true)
                    #expect(d.decidedAt.map { o.decidedAt <= $0 } == true)
                }
            }
        }
        // Enough of each for the regulators' tables to have something to show.
        #expect(referrals > 20 && rivals > 20, "\(referrals) referrals, \(rivals) competing offers")
    }
}
