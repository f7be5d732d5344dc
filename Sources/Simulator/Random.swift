/// SplitMix64: a small, fast, deterministic generator. The city is a pure function of the
/// seed: every enterprise and dataset draws from its own stream.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A stream derived from a seed and labels.
    public init(seed: UInt64, _ labels: UInt64...) {
        var s = seed ^ 0x9E37_79B9_7F4A_7C15
        for l in labels { s = SplitMix64.mix(s ^ (l &* 0xBF58_476D_1CE4_E5B9)) }
        state = s
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return SplitMix64.mix(state)
    }

    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    public mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    public mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }

    /// Picks by weight.
    public mutating func weighted<T>(_ items: [(T, Double)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var x = unit() * total
        for (item, w) in items {
            if x < w { return item }
            x -= w
        }
        return items[items.count - 1].0
    }
}

/// Labels for random streams.
enum Stream: UInt64 {
    case enterprise = 1
    case registry, tax, rating, social, utility, contracts, licence, penalty, listing, faults, names
}
