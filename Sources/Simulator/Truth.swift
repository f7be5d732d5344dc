import CreditCore

/// What a consumer that ingests a dataset without loss must end up holding.
public struct DatasetTruth: Sendable, Equatable, Codable {
    public var dataset: String
    /// Items the feed sends (including faults), once each.
    public var items: Int
    /// Items that break the rules (to be quarantined).
    public var invalid: Int
    /// Records whose highest valid version is an upsert.
    public var live: Int
    /// Sum of every money field of the live records, in fen.
    public var liveMoneyFen: Int64
}

extension City {
    /// The truth of one dataset, from the same generation as the feed.
    public func truth(_ dataset: Dataset, faultRate: Double) -> DatasetTruth {
        var t = DatasetTruth(dataset: dataset.rawValue, items: 0, invalid: 0, live: 0, liveMoneyFen: 0)
        for i in 0..<enterpriseCount {
            let e = enterprise(i)
            var latest: [String: SimItem] = [:]
            for item in items(e, dataset, faultRate: faultRate) {
                t.items += 1
                guard item.valid else {
                    t.invalid += 1
                    continue
                }
                if let held = latest[item.recordId], held.version >= item.version { continue }
                latest[item.recordId] = item
            }
            for item in latest.values where !item.isDelete {
                t.live += 1
                t.liveMoneyFen += item.moneyFen
            }
        }
        return t
    }
}
