import CreditCore
import Foundation

/// One item of a provider's change feed, rendered once.
public struct SimItem: Sendable {
    public let recordId: String
    public let version: Int
    public let isDelete: Bool
    public let uscc: String
    public let updatedAt: String
    /// The `data` object as JSON text (nil on delete).
    public let data: String?
    /// False for an item slipped in to break the rules (it must be quarantined).
    public let valid: Bool
    /// Money fields in fen, for the simulator's own truth.
    public let moneyFen: Int64

    /// The item as JSON text.
    public var json: String {
        var out = "{\"record_id\":"
        JSONValue.writeString(recordId, into: &out)
        out += ",\"version\":\(version),\"op\":\"\(isDelete ? "delete" : "upsert")\",\"uscc\":"
        JSONValue.writeString(uscc, into: &out)
        out += ",\"updated_at\":\"\(updatedAt)\""
        if let data { out += ",\"data\":" + data }
        return out + "}"
    }
}

/// Builds a `data` object field by field.
struct DataWriter {
    var text = "{"
    var first = true
    var moneyFen: Int64 = 0

    mutating func key(_ k: String) {
        if !first { text += "," }
        first = false
        text += "\"\(k)\":"
    }
    mutating func string(_ k: String, _ v: String) {
        key(k)
        JSONValue.writeString(v, into: &text)
    }
    mutating func optional(_ k: String, _ v: String?) {
        if let v {
            string(k, v)
        } else {
            key(k)
            text += "null"
        }
    }
    mutating func int(_ k: String, _ v: Int) {
        key(k)
        text += String(v)
    }
    mutating func bool(_ k: String, _ v: Bool) {
        key(k)
        text += v ? "true" : "false"
    }
    mutating func money(_ k: String, _ fen: Int64) {
        moneyFen += fen
        string(k, Money.yuan(fen: fen))
    }
    mutating func optionalMoney(_ k: String, _ fen: Int64?) {
        if let fen {
            money(k, fen)
        } else {
            key(k)
            text += "null"
        }
    }
    mutating func finish() -> String { text + "}" }
}

func timestamp(_ day: Day, hour: Int = 10) -> String {
    "\(day.description)T\(hour < 10 ? "0" : "")\(hour):00:00+08:00"
}

extension City {
    /// Every item the providers publish about one enterprise in one dataset, in change order,
    /// with the content faults (re-deliveries, stale versions, withdrawals, invalid items)
    /// slipped in at `faultRate`.
    public func items(_ e: SimEnterprise, _ dataset: Dataset, faultRate: Double = 0) -> [SimItem] {
        let base: [SimItem] =
            switch dataset {
            case .enterpriseRegistry: registryItems(e)
            case .taxFiling: taxFilingItems(e)
            case .taxCreditRating: ratingItems(e)
            case .socialInsurance: socialItems(e)
            case .utilityBill: utilityItems(e)
            case .contractPerformance: contractItems(e)
            case .administrativeLicence: licenceItems(e)
            case .administrativePenalty: penaltyItems(e)
            case .dishonestyListing: listingItems(e)
            }
        guard faultRate > 0 else { return base }
        return withFaults(base, e, dataset, rate: faultRate)
    }

    /// The months of history in which the enterprise existed.
    func activeMonths(_ e: SimEnterprise) -> [Month] {
        let start = max(firstMonth, e.established.calendarMonth)
        guard start <= lastMonth else { return [] }
        return (start.index...lastMonth.index).map { Month(index: $0) }
    }

    func rng(_ e: SimEnterprise, _ stream: Stream) -> SplitMix64 {
        SplitMix64(seed: seed, stream.rawValue, UInt64(e.index))
    }

    /// Revenue trend: sound firms grow slowly, fragile ones shrink over the last year.
    func activity(_ e: SimEnterprise, _ m: Month) -> Double {
        let fromEnd = Double(lastMonth.index - m.index)
        let decline = e.risk > 0.5 ? max(0, 12 - fromEnd) * (e.risk - 0.5) * 0.06 : 0
        let season = 1 + 0.08 * sin(Double(m.month) / 12 * 2 * .pi)
        return max(0.05, (1 + (0.5 - e.risk) * 0.004 * (Double(months) - fromEnd)) * season - decline)
    }

    func registryItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .registry)
        func render(status: String, capital: Int64) -> (String, Int64) {
            var w = DataWriter()
            w.string("name", e.name)
            w.string("entity_type", e.entityType)
            w.string("legal_rep_name", e.legalRepName)
            w.string("legal_rep_id_no", e.legalRepID)
            w.string("established_on", e.established.description)
            w.money("registered_capital", capital)
            w.string("industry_code", e.industryCode)
            w.string("district_code", e.districtCode)
            w.string("size_class", e.sizeClass)
            w.string("status", status)
            return (w.finish(), w.moneyFen)
        }
        let first = max(e.established, firstMonth.day(1))
        let (d1, m1) = render(status: "active", capital: e.registeredCapitalFen)
        var items = [
            SimItem(
                recordId: e.uscc,
                version: 1,
                isDelete: false,
                uscc: e.uscc,
                updatedAt: timestamp(first),
                data: d1,
                valid: true,
                moneyFen: m1
            )
        ]
        if r.chance(0.15 + e.risk * 0.2) {
            let status = e.risk > 0.85 && r.chance(0.5) ? "suspended" : "active"
            let capital = status == "active" ? e.registeredCapitalFen * Int64(r.int(1...3)) : e.registeredCapitalFen
            let (d2, m2) = render(status: status, capital: capital)
            let when = lastMonth.adding(-r.int(0...11)).day(r.int(1...28))
            if when > first {
                items.append(
                    SimItem(
                        recordId: e.uscc,
                        version: 2,
                        isDelete: false,
                        uscc: e.uscc,
                        updatedAt: timestamp(when),
                        data: d2,
                        valid: true,
                        moneyFen: m2
                    )
                )
            }
        }
        return items
    }

    func taxFilingItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .tax)
        var items: [SimItem] = []
        for m in activeMonths(e) {
            items += taxReturn(e, m, type: "vat", rate: 0.03, &r)
            if m.month % 3 == 0 { items += taxReturn(e, m, type: "corporate_income", rate: 0.05, &r) }
            if e.headcount >= 10 && r.chance(0.3) { items += taxReturn(e, m, type: "individual_income_withholding", rate: 0.01, &r) }
        }
        return items
    }

    func taxReturn(_ e: SimEnterprise, _ m: Month, type: String, rate: Double, _ r: inout SplitMix64) -> [SimItem] {
        let revenue = Int64(Double(e.monthlyRevenueFen) * activity(e, m) * (0.85 + 0.3 * r.unit())) / 100 * 100
        let payable = Int64(Double(revenue) * rate) / 100 * 100
        let due = m.adding(1).day(15)
        let late = r.chance(0.03 + 0.45 * e.risk * e.risk)
        let filed: Day? = late ? due.addingDays(r.int(3...60)) : due.addingDays(-r.int(0...12))
        let underpaid = r.chance(0.02 + 0.35 * e.risk * e.risk)
        let paid = underpaid ? payable * Int64(r.int(0...80)) / 100 : payable
        let id = "\(e.uscc)-\(type)-\(m.text)"
        func render(filedOn: Day?, paid: Int64) -> (String, Int64) {
            var w = DataWriter()
            w.string("period", m.text)
            w.string("tax_type", type)
            w.money("declared_revenue", type == "individual_income_withholding" ? 0 : revenue)
            w.money("tax_payable", payable)
            w.money("tax_paid", paid)
            w.string("due_on", due.description)
            w.optional("filed_on", filedOn?.description)
            return (w.finish(), w.moneyFen)
        }
        guard let filedOn = filed, filedOn <= asOf else {
            // Not filed yet at the end of the history: published as unfiled once due.
            guard due <= asOf else { return [] }
            let (d, mf) = render(filedOn: nil, paid: 0)
            return [
                SimItem(
                    recordId: id,
                    version: 1,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(due),
                    data: d,
                    valid: true,
                    moneyFen: mf
                )
            ]
        }
        let (d, mf) = render(filedOn: filedOn, paid: paid)
        if late && due <= asOf {
            let (d0, m0) = render(filedOn: nil, paid: 0)
            return [
                SimItem(
                    recordId: id,
                    version: 1,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(due),
                    data: d0,
                    valid: true,
                    moneyFen: m0
                ),
                SimItem(
                    recordId: id,
                    version: 2,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(filedOn),
                    data: d,
                    valid: true,
                    moneyFen: mf
                ),
            ]
        }
        return [
            SimItem(
                recordId: id,
                version: 1,
                isDelete: false,
                uscc: e.uscc,
                updatedAt: timestamp(filedOn),
                data: d,
                valid: true,
                moneyFen: mf
            )
        ]
    }

    func ratingItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .rating)
        var items: [SimItem] = []
        for year in (lastMonth.year - 3)..<lastMonth.year where year >= e.established.year {
            let published = Month(year: year + 1, month: 4).day(20)
            guard published <= asOf else { continue }
            let young = year - e.established.year < 1
            let x = e.risk + (r.unit() - 0.5) * 0.3
            let grade = young ? "M" : x < 0.2 ? "A" : x < 0.5 ? "B" : x < 0.75 ? "C" : "D"
            var w = DataWriter()
            w.int("year", year)
            w.string("grade", grade)
            items.append(
                SimItem(
                    recordId: "\(e.uscc)-rating-\(year)",
                    version: 1,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(published),
                    data: w.finish(),
                    valid: true,
                    moneyFen: 0
                )
            )
        }
        return items
    }

    func socialItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .social)
        var items: [SimItem] = []
        var head = Double(e.headcount)
        var arrears = false
        for m in activeMonths(e) {
            head = max(0, head * (1 + (0.4 - e.risk) * 0.02 + (r.unit() - 0.5) * 0.06))
            let count = Int(head.rounded())
            let due = Int64(count) * Int64(r.int(900...1300)) * 100
            arrears = arrears ? r.chance(0.6 + e.risk * 0.3) : r.chance(0.01 + 0.25 * e.risk * e.risk)
            let paid = arrears ? due * Int64(r.int(0...70)) / 100 : due
            var w = DataWriter()
            w.string("period", m.text)
            w.int("insured_headcount", count)
            w.money("contribution_due", due)
            w.money("contribution_paid", paid)
            w.bool("in_arrears", arrears)
            let when = m.adding(1).day(10)
            guard when <= asOf else { continue }
            items.append(
                SimItem(
                    recordId: "\(e.uscc)-si-\(m.text)",
                    version: 1,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(when),
                    data: w.finish(),
                    valid: true,
                    moneyFen: w.moneyFen
                )
            )
        }
        return items
    }

    func utilityItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .utility)
        var utilities = ["electricity"]
        if r.chance(0.5) { utilities.append("water") }
        if ["C26", "C17", "H62"].contains(e.industryCode) || r.chance(0.15) { utilities.append("gas") }
        var items: [SimItem] = []
        for utility in utilities {
            let account = "\(utility.prefix(1).uppercased())\(e.districtCode)\(String(e.index, radix: 10))"
            let scale = Double(e.monthlyRevenueFen) / 100 / (utility == "electricity" ? 8 : 60)
            for m in activeMonths(e) {
                let consumption = max(1, scale * activity(e, m) * (0.9 + 0.2 * r.unit()))
                let price: Double = utility == "electricity" ? 0.75 : utility == "water" ? 4.1 : 3.3
                let billed = Int64(consumption * price * 100)
                let due = m.adding(1).day(20)
                let issued = m.adding(1).day(5)
                guard issued <= asOf else { continue }
                let unpaid = r.chance(0.005 + 0.15 * e.risk * e.risk)
                let late = !unpaid && r.chance(0.03 + 0.4 * e.risk * e.risk)
                var paidOn: Day? = unpaid ? nil : (late ? due.addingDays(r.int(5...45)) : due.addingDays(-r.int(0...14)))
                if let p = paidOn, p > asOf { paidOn = nil }
                let id = "\(account)-\(m.text)"
                func render(_ paid: Day?) -> (String, Int64) {
                    var w = DataWriter()
                    w.string("utility", utility)
                    w.string("account_no", account)
                    w.string("period", m.text)
                    w.string("consumption", String(format: "%.1f", consumption))
                    w.money("amount_billed", billed)
                    w.money("amount_paid", paid == nil ? 0 : billed)
                    w.string("due_on", due.description)
                    w.optional("paid_on", paid?.description)
                    return (w.finish(), w.moneyFen)
                }
                let (d, mf) = render(paidOn)
                if let paid = paidOn, late {
                    // Issued unpaid, then updated when paid.
                    let (d0, m0) = render(nil)
                    items.append(
                        SimItem(
                            recordId: id,
                            version: 1,
                            isDelete: false,
                            uscc: e.uscc,
                            updatedAt: timestamp(issued),
                            data: d0,
                            valid: true,
                            moneyFen: m0
                        )
                    )
                    items.append(
                        SimItem(
                            recordId: id,
                            version: 2,
                            isDelete: false,
                            uscc: e.uscc,
                            updatedAt: timestamp(paid),
                            data: d,
                            valid: true,
                            moneyFen: mf
                        )
                    )
                } else {
                    items.append(
                        SimItem(
                            recordId: id,
                            version: 1,
                            isDelete: false,
                            uscc: e.uscc,
                            updatedAt: timestamp(paidOn ?? issued),
                            data: d,
                            valid: true,
                            moneyFen: mf
                        )
                    )
                }
            }
        }
        return items
    }

    func contractItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .contracts)
        let months = activeMonths(e)
        guard !months.isEmpty else { return [] }
        let count =
            switch e.sizeClass {
            case "micro": r.int(0...4)
            case "small": r.int(2...12)
            case "medium": r.int(8...30)
            default: r.int(20...50)
            }
        var items: [SimItem] = []
        for k in 0..<count {
            let signedMonth = r.pick(months)
            let signed = signedMonth.day(r.int(1...28))
            guard signed <= asOf else { continue }
            let due = signed.addingDays(r.int(60...540))
            let amount = Int64(Double(e.monthlyRevenueFen) * (0.2 + 2 * r.unit())) / 100 * 100
            let role = r.pick(["supplier", "buyer", "contractor", "client"])
            let bad = r.chance(0.02 + 0.4 * e.risk * e.risk)
            let finalStatus: String =
                due > asOf
                ? (bad ? "overdue" : "performing")
                : bad ? r.pick(["breached", "overdue", "disputed"]) : (r.chance(0.97) ? "fulfilled" : "terminated")
            let settled: Day? = finalStatus == "fulfilled" ? min(due.addingDays(-r.int(0...30)), asOf) : nil
            let counterparty =
                r.chance(0.7) ? City.makeUSCC(authority: "9", type: "1", district: "320602", index: r.int(0...900_000), r: &r) : nil
            let id = "\(e.uscc)-HT\(signed.year)\(k)"
            func render(_ status: String, _ settledOn: Day?) -> (String, Int64) {
                var w = DataWriter()
                w.string("contract_no", "HT-\(signed.year)-\(e.index)-\(k)")
                w.string("role", role)
                w.optional("counterparty_uscc", counterparty)
                w.string("signed_on", signed.description)
                w.money("amount", amount)
                w.string("due_on", due.description)
                w.string("status", status)
                w.optional("settled_on", settledOn?.description)
                return (w.finish(), w.moneyFen)
            }
            let (d1, m1) = render("performing", nil)
            items.append(
                SimItem(
                    recordId: id,
                    version: 1,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(signed),
                    data: d1,
                    valid: true,
                    moneyFen: m1
                )
            )
            if finalStatus != "performing" {
                let when = min(settled ?? due, asOf)
                let (d2, m2) = render(finalStatus, settled)
                items.append(
                    SimItem(
                        recordId: id,
                        version: 2,
                        isDelete: false,
                        uscc: e.uscc,
                        updatedAt: timestamp(max(when, signed)),
                        data: d2,
                        valid: true,
                        moneyFen: m2
                    )
                )
            }
        }
        return items
    }

    func licenceItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .licence)
        var items: [SimItem] = []
        let titles = ["食品经营许可", "排污许可", "危险化学品经营许可", "建筑业企业资质", "取水许可", "道路运输经营许可"]
        for k in 0..<r.int(0...3) {
            let decided = max(e.established, firstMonth.adding(-24).day(1)).addingDays(r.int(0...900))
            guard decided <= asOf else { continue }
            var w = DataWriter()
            w.string("licence_no", "XK-\(e.districtCode)-\(e.index)-\(k)")
            w.string("authority", "南通市行政审批局")
            w.string("title", r.pick(titles))
            w.string("decided_on", decided.description)
            w.optional("valid_until", r.chance(0.8) ? decided.addingDays(365 * r.int(1...5)).description : nil)
            items.append(
                SimItem(
                    recordId: "\(e.uscc)-XK\(k)",
                    version: 1,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(decided),
                    data: w.finish(),
                    valid: true,
                    moneyFen: 0
                )
            )
        }
        return items
    }

    func penaltyItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .penalty)
        var items: [SimItem] = []
        let n = r.chance(0.04 + 0.5 * e.risk * e.risk) ? r.int(1...3) : 0
        let kinds: [(String, String, Bool)] = [
            ("南通市市场监督管理局", "销售不合格产品", true), ("南通市生态环境局", "超标排放污染物", false),
            ("南通市应急管理局", "安全生产管理不到位", true), ("国家税务总局南通市税务局", "未按期申报", false),
            ("南通市消防救援支队", "消防设施未保持完好", true),
        ]
        for k in 0..<n {
            let decided = lastMonth.adding(-r.int(0...(months - 1))).day(r.int(1...28))
            guard decided >= e.established, decided <= asOf else { continue }
            let kind = r.pick(kinds)
            let severity = r.weighted([("minor", 0.5), ("general", 0.38), ("serious", 0.12 + e.risk * 0.2)])
            let fine = Int64(r.int(1...200)) * (severity == "serious" ? 1_000_000 : 100_000)
            // Publicity: at least 3 months (1 year for food, safety and fire), at most 3 years.
            let minimumDays = kind.2 ? 365 : 92
            let days = severity == "serious" ? 3 * 365 : max(minimumDays, severity == "general" ? 365 : 183)
            var w = DataWriter()
            w.string("decision_no", "通\(kind.0.prefix(4))罚〔\(decided.year)〕\(e.index % 1000)-\(k)号")
            w.string("authority", kind.0)
            w.string("decided_on", decided.description)
            w.string("violation", kind.1)
            w.string("severity", severity)
            w.money("fine_amount", fine)
            w.string("publicity_ends_on", decided.addingDays(days).description)
            items.append(
                SimItem(
                    recordId: "\(e.uscc)-CF\(k)",
                    version: 1,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(decided),
                    data: w.finish(),
                    valid: true,
                    moneyFen: w.moneyFen
                )
            )
        }
        return items
    }

    func listingItems(_ e: SimEnterprise) -> [SimItem] {
        var r = rng(e, .listing)
        guard r.chance(0.002 + 0.25 * pow(e.risk, 3)) else { return [] }
        let listed = lastMonth.adding(-r.int(0...(months - 1))).day(r.int(1...28))
        guard listed >= e.established, listed <= asOf else { return [] }
        let type =
            e.wouldDefault
            ? r.pick(["judgment_defaulter", "major_tax_violation", "wage_arrears"])
            : r.pick(["judgment_defaulter", "procurement_serious_dishonesty", "safety_production"])
        let removed: Day? = r.chance(0.3) ? min(listed.addingDays(r.int(60...400)), asOf) : nil
        func render(_ removedOn: Day?) -> (String, Int64) {
            var w = DataWriter()
            w.string("list_type", type)
            w.string("case_no", "(\(listed.year))苏06执\(e.index % 10_000)号")
            w.string("authority", type == "major_tax_violation" ? "国家税务总局南通市税务局" : "南通市中级人民法院")
            w.string("listed_on", listed.description)
            w.optional("removed_on", removedOn?.description)
            w.optionalMoney("amount_involved", r.chance(0.7) ? Int64(r.int(1...500)) * 1_000_000 : nil)
            return (w.finish(), w.moneyFen)
        }
        let id = "\(e.uscc)-SX"
        let (d1, m1) = render(nil)
        var items = [
            SimItem(
                recordId: id,
                version: 1,
                isDelete: false,
                uscc: e.uscc,
                updatedAt: timestamp(listed),
                data: d1,
                valid: true,
                moneyFen: m1
            )
        ]
        if let removed {
            let (d2, m2) = render(removed)
            items.append(
                SimItem(
                    recordId: id,
                    version: 2,
                    isDelete: false,
                    uscc: e.uscc,
                    updatedAt: timestamp(removed),
                    data: d2,
                    valid: true,
                    moneyFen: m2
                )
            )
        }
        return items
    }
}
