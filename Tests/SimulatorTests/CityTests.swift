import CreditCore
import Testing

@testable import Simulator

@Suite struct CityTests {
    let city = City(seed: 11, enterprises: 150, asOf: Day("2026-11-28")!)

    @Test func theCityIsAPureFunctionOfTheSeed() {
        let again = City(seed: 11, enterprises: 150, asOf: Day("2026-11-28")!)
        for i in [0, 7, 149] {
            #expect(city.enterprise(i).uscc == again.enterprise(i).uscc)
            #expect(city.items(city.enterprise(i), .taxFiling).map(\.json) == again.items(again.enterprise(i), .taxFiling).map(\.json))
        }
        #expect(City(seed: 12, enterprises: 150, asOf: Day("2026-11-28")!).enterprise(3).uscc != city.enterprise(3).uscc)
    }

    @Test func everyGeneratedItemPassesTheProvidersRulesAndCodesAreUnique() throws {
        var usccs = Set<String>()
        let today = city.asOf
        for i in 0..<city.enterpriseCount {
            let e = city.enterprise(i)
            #expect(USCC(e.uscc) != nil)
            #expect(ResidentID.validate(e.legalRepID) != nil)
            usccs.insert(e.uscc)
            for d in Dataset.allCases {
                for item in city.items(e, d) {
                    let parsed = try JSONParser.parse(item.json)
                    let r = ItemValidator.validate(parsed, dataset: d, today: today)
                    if case .failure(let why) = r { Issue.record("\(d.rawValue) \(item.recordId): \(why)") }
                }
            }
        }
        #expect(usccs.count == city.enterpriseCount)
    }

    @Test func faultsSlipInItemsThatBreakTheRulesAndOnlyThose() throws {
        var invalid = 0
        for i in 0..<60 {
            let e = city.enterprise(i)
            for d in Dataset.allCases {
                for item in city.items(e, d, faultRate: 0.3) {
                    let ok: Bool
                    if let parsed = try? JSONParser.parse(item.json),
                        case .success = ItemValidator.validate(parsed, dataset: d, today: city.asOf)
                    {
                        ok = true
                    } else {
                        ok = false
                    }
                    #expect(ok == item.valid, "\(d.rawValue) \(item.json)")
                    if !item.valid { invalid += 1 }
                }
            }
        }
        #expect(invalid > 50)
    }

    @Test func theCityLooksLikeNantong() {
        let all = (0..<city.enterpriseCount).map(city.enterprise)
        let districts = Set(all.map(\.districtCode))
        #expect(districts.isSubset(of: ["320602", "320612", "320614", "320623", "320681", "320682", "320685"]))
        #expect(districts.count >= 5)
        #expect(all.contains { $0.entityType == "farmer_cooperative" } && all.contains { $0.entityType == "family_farm" })
        #expect(all.contains { $0.industryCode == "C17" })
        // Riskier firms default more often.
        let risky = all.filter { $0.risk > 0.5 }
        let safe = all.filter { $0.risk < 0.2 }
        let rate = { (g: [SimEnterprise]) in Double(g.filter(\.wouldDefault).count) / Double(max(1, g.count)) }
        #expect(rate(risky) > rate(safe))
    }

    @Test func pagesCoverTheFeedExactlyOnce() async {
        let index = await FeedIndex(city: city, faultRate: 0.1)
        for d in [Dataset.taxFiling, .dishonestyListing] {
            var all: [String] = []
            var position = 0
            while position < index.total(d) {
                let page = index.page(d, from: position, limit: 97)
                all += page.map(\.json)
                position += page.count
            }
            let expected = (0..<city.enterpriseCount).flatMap { city.items(city.enterprise($0), d, faultRate: 0.1).map(\.json) }
            #expect(all == expected)
        }
    }

    @Test func cursorsRoundTripAndRefuseForgeries() {
        let c = Cursor.encode(dataset: .utilityBill, position: 1234, issued: 1_764_300_000)
        #expect(Cursor.decode(c)?.1 == 1234)
        #expect(Cursor.decode(c)?.0 == .utilityBill)
        #expect(Cursor.decode("not/base64") == nil)
        #expect(Cursor.decode(Array("9:1:1".utf8).base64URLString) != nil)
        #expect(Cursor.decode(Array("99:1:1".utf8).base64URLString) == nil)
    }
}
