import CreditCore

extension City {
    /// Slips content faults into one enterprise's items: each at `rate / 4` per item.
    func withFaults(_ base: [SimItem], _ e: SimEnterprise, _ dataset: Dataset, rate: Double) -> [SimItem] {
        var r = SplitMix64(seed: seed, Stream.faults.rawValue, UInt64(e.index), UInt64(dataset.hashValueStable))
        var out: [SimItem] = []
        var pending: [SimItem] = []  // re-deliveries and stale copies, sent a little later
        let p = rate / 4
        var highest: [String: Int] = [:]
        for item in base { highest[item.recordId] = max(highest[item.recordId] ?? 0, item.version) }
        for item in base {
            out.append(item)
            if r.chance(p) { pending.append(item) }  // re-delivered later
            if item.version > 1, r.chance(p) {
                // A stale version after the newer one: a copy of this item with a lower version.
                pending.append(
                    SimItem(
                        recordId: item.recordId,
                        version: item.version - 1,
                        isDelete: item.isDelete,
                        uscc: item.uscc,
                        updatedAt: item.updatedAt,
                        data: item.data,
                        valid: true,
                        moneyFen: item.moneyFen
                    )
                )
            }
            if r.chance(p), highest[item.recordId] == item.version {
                // Withdrawn (a penalty overturned, a bill issued in error), sometimes restored.
                let v = item.version
                out.append(
                    SimItem(
                        recordId: item.recordId,
                        version: v + 1,
                        isDelete: true,
                        uscc: item.uscc,
                        updatedAt: item.updatedAt,
                        data: nil,
                        valid: true,
                        moneyFen: 0
                    )
                )
                highest[item.recordId] = v + 1
                if r.chance(0.5) {
                    out.append(
                        SimItem(
                            recordId: item.recordId,
                            version: v + 2,
                            isDelete: false,
                            uscc: item.uscc,
                            updatedAt: item.updatedAt,
                            data: item.data,
                            valid: true,
                            moneyFen: item.moneyFen
                        )
                    )
                    highest[item.recordId] = v + 2
                }
            }
            if r.chance(p) { out.append(invalidItem(from: item, dataset: dataset, &r)) }
            if !pending.isEmpty, r.chance(0.3) { out.append(pending.removeFirst()) }
        }
        return out + pending
    }

    /// A copy of a valid item broken in one of the ways providers break them.
    func invalidItem(from item: SimItem, dataset: Dataset, _ r: inout SplitMix64) -> SimItem {
        let id = "bad-" + item.recordId + "-\(r.int(0...999_999))"
        var data = item.data ?? "{}"
        var uscc = item.uscc
        switch r.int(0...4) {
        case 0:  // a wrong check character
            let last = uscc.last!
            uscc = String(uscc.dropLast()) + (last == "0" ? "1" : "0")
        case 1:  // a negative amount or a bad enumeration
            if let range = data.range(of: ":\"", options: .backwards) {
                data.replaceSubrange(range, with: ":\"-1.005")
            }
            data = data.replacingOccurrences(of: "\"active\"", with: "\"dormant\"")
        case 2:  // a missing field: the first one removed
            if let comma = data.firstIndex(of: ",") { data = "{" + data[data.index(after: comma)...] }
        case 3:  // an event date in the future (a due or end date may be; an event date may not)
            let events = ["established_on", "filed_on", "paid_on", "signed_on", "settled_on", "decided_on", "listed_on", "removed_on"]
            if let key = events.first(where: { data.contains("\"\($0)\":\"2") }),
                let range = data.range(of: "\"\(key)\":\"2")
            {
                data.replaceSubrange(range, with: "\"\(key)\":\"3")
            } else {
                data = "{}"
            }
        default:  // not a data object at all
            data = "[1,2,3]"
        }
        return SimItem(
            recordId: id,
            version: 1,
            isDelete: false,
            uscc: uscc,
            updatedAt: item.updatedAt,
            data: data,
            valid: false,
            moneyFen: 0
        )
    }
}

extension Dataset {
    /// A hash that does not change between runs (Swift's `hashValue` is seeded per process).
    var hashValueStable: Int { Dataset.allCases.firstIndex(of: self)! + 1 }
}
