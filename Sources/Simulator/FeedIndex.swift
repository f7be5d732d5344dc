import CreditCore

/// Where each enterprise's items start in each dataset's feed (enterprise-major change
/// order), so that any page can be generated on demand without holding the city in memory.
public final class FeedIndex: Sendable {
    public let city: City
    public let faultRate: Double
    /// Per dataset: `starts[e]` is the feed position of enterprise e's first item; the last
    /// element is the total.
    let starts: [Dataset: [Int]]
    /// With `cache`, each dataset's items rendered once: the JSON of item k is
    /// `rendered.bytes[rendered.offsets[k] ..< rendered.offsets[k + 1] - 1]` (each is followed by a comma).
    let rendered: [Dataset: Rendered]

    struct Rendered: Sendable {
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
    }

    /// Cities up to this size keep their rendered feed in memory by default (about 70 MB per
    /// thousand enterprises), so that serving a page costs the provider almost nothing.
    public static let defaultCacheLimit = 50_000

    public init(city: City, faultRate: Double, cache: Bool? = nil) async {
        self.city = city
        self.faultRate = faultRate
        let keep = cache ?? (city.enterpriseCount <= Self.defaultCacheLimit)
        let built = await withTaskGroup(of: (Dataset, [Int], Rendered?).self) { group in
            for dataset in Dataset.allCases {
                group.addTask {
                    var starts = [0]
                    starts.reserveCapacity(city.enterpriseCount + 1)
                    var rendered = Rendered()
                    for i in 0..<city.enterpriseCount {
                        let items = city.items(city.enterprise(i), dataset, faultRate: faultRate)
                        starts.append(starts[starts.count - 1] + items.count)
                        if keep {
                            for item in items {
                                rendered.bytes.append(contentsOf: item.json.utf8)
                                rendered.bytes.append(0x2C)
                                rendered.offsets.append(rendered.bytes.count)
                            }
                        }
                    }
                    return (dataset, starts, keep ? rendered : nil)
                }
            }
            var s: [Dataset: [Int]] = [:]
            var r: [Dataset: Rendered] = [:]
            for await (d, starts, rendered) in group {
                s[d] = starts
                r[d] = rendered
            }
            return (s, r)
        }
        self.starts = built.0
        self.rendered = built.1
    }

    /// The JSON array body of items `from ..< from + limit` (without brackets), from the cache
    /// when there is one.
    public func pageJSON(_ dataset: Dataset, from: Int, limit: Int) -> (json: [UInt8], count: Int) {
        let end = min(from + limit, total(dataset))
        guard from < end else { return ([], 0) }
        if let r = rendered[dataset] {
            return (Array(r.bytes[r.offsets[from]..<(r.offsets[end] - 1)]), end - from)
        }
        let items = page(dataset, from: from, limit: limit)
        var out: [UInt8] = []
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(0x2C) }
            out.append(contentsOf: item.json.utf8)
        }
        return (out, items.count)
    }

    public func total(_ dataset: Dataset) -> Int { starts[dataset]!.last! }

    /// Items at positions `from ..< from + limit` of a dataset's feed.
    public func page(_ dataset: Dataset, from: Int, limit: Int) -> [SimItem] {
        let s = starts[dataset]!
        let end = min(from + limit, s[s.count - 1])
        guard from < end else { return [] }
        // The enterprise holding position `from`: the last start ≤ from.
        var lo = 0
        var hi = city.enterpriseCount - 1
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
