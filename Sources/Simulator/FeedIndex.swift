import CreditCore

/// Where each enterprise's items start in each dataset's feed (enterprise-major change
/// order), so that any page can be generated on demand without holding the city in memory.
public final class FeedIndex: Sendable {
    public let city: City
    public let faultRate: Double
    /// Per dataset: `starts[e]` is the feed position of enterprise e's first item; the last
    /// element is the total.
    let starts: [Dataset: [Int]]

    public init(city: City, faultRate: Double) async {
        self.city = city
        self.faultRate = faultRate
        self.starts = await withTaskGroup(of: (Dataset, [Int]).self) { group in
            for dataset in Dataset.allCases {
                group.addTask {
                    var starts = [0]
                    starts.reserveCapacity(city.enterpriseCount + 1)
                    for i in 0..<city.enterpriseCount {
                        let n = city.items(city.enterprise(i), dataset, faultRate: faultRate).count
                        starts.append(starts[starts.count - 1] + n)
                    }
                    return (dataset, starts)
                }
            }
            var result: [Dataset: [Int]] = [:]
            for await (d, s) in group { result[d] = s }
            return result
        }
    }

    public func total(_ dataset: Dataset) -> Int { starts[dataset]!.last! }

    /// Items at positions `from ..< from + limit` of a dataset's feed.
    public func page(_ dataset: Dataset, from: Int, limit: Int) -> [SimItem] {
        let s = starts[dataset]!
        let end = min(from + limit, s[s.count - 1])
        guard from < end else { return [] }
        // The enterprise holding position `from`: the last start ≤ from.
        var lo = 0, hi = city.enterpriseCount - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if s[mid] <= from { lo = mid } else { hi = mid - 1 }
        }
        var out: [SimItem] = []
        out.reserveCapacity(end - from)
        var e = lo
        var position = from
        while position < end, e < city.enterpriseCount {
            if s[e + 1] > s[e] {
                let items = city.items(city.enterprise(e), dataset, faultRate: faultRate)
                let offset = position - s[e]
                let take = min(items.count - offset, end - position)
                out.append(contentsOf: items[offset..<(offset + take)])
                position += take
            }
            e += 1
        }
        return out
    }
}
