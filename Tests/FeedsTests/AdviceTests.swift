import Curl
import Foundation
import Store
import TestSupport
import Testing

@testable import CreditCore

/// "What would raise my grade" and the reasons, checked over every enterprise of a simulated
/// city scored by the newest committed scorecard (the one `ops/run` publishes).
@Suite struct AdviceTests {
    static func newestCard() throws -> Scorecard {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../contracts/scorecards")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        return try Scorecard.decode(try Data(contentsOf: folder.appendingPathComponent(files.last!)))
    }

    /// A value inside a bin (its lower end, or just below its upper end, or its first category).
    static func inside(_ b: Scorecard.Bin) -> FeatureValue {
        if let vs = b.values { return .category(vs[0]) }
        if let lo = b.min { return .number(lo) }
        if let hi = b.max { return .number(hi - 1) }
        return .number(0)
    }

    @Test func adviceOnlyImprovesAndItsGainsAreExactForEveryBusinessOfACity() async throws {
        let card = try Self.newestCard()
        try await SimHarness.with(enterprises: 400, seed: 21) { sim in
            try await TestDatabase.with { db in
                let curl = CurlClient()
                defer { curl.shutdown() }
                _ = try await sim.ingestor(db.app, curl: curl).runOnce()
                let rows = try await db.app.withConnection { c in
                    try await FeatureAggregation.all(c, logger: db.app.logger, day: SimHarness.asOf, policy: card.policy)
                }
                var scored = 0
                var steps = 0
                var reaching = 0
                var reasons = 0
                for (uscc, row) in rows.sorted(by: { $0.key < $1.key }) {
                    let f = Features.compute(row.inputs, asOf: SimHarness.asOf)
                    let o = card.score(f)
                    // Every reason names the value as it is, with its sign and unit, and what
                    // full points take; never a developer's identifier.
                    for r in o.reasons {
                        reasons += 1
                        let zh = Scorecard.render(r.value, r.feature, chinese: true)
                        #expect(r.zh.hasPrefix(r.feature.definition.zh + "：" + zh), "\(uscc): \(r.zh)")
                        #expect(r.en.hasPrefix(r.feature.definition.en + ": "), "\(uscc): \(r.en)")
                        if case .number(let n) = r.value, r.feature.isChange {
                            #expect(zh.hasPrefix(n < 0 ? "-" : n > 0 ? "+" : "0"), "\(uscc): \(r.zh)")
                        }
                        #expect(!r.zh.contains("_") && !r.en.contains("_"), "\(uscc): \(r.zh)")
                        #expect(r.points < r.maxPoints)
                    }
                    guard let score = o.score else { continue }
                    scored += 1
                    let advice = Improvement.advise(card: card, features: f, outcome: o)
                    for step in advice.steps {
                        steps += 1
                        let c = try #require(card.characteristics.first { $0.feature == step.feature })
                        let from = c.bins[try #require(c.binIndex(f[step.feature]))]
                        #expect(Improvement.actionable.contains(step.feature))
                        // Only ever towards the favourable end.
                        if from.missing != true {
                            #expect(c.isBetter(step.target, than: from), "\(uscc): \(step.feature) \(from.label) → \(step.target.label)")
                        }
                        // The stated gain is exactly what that change alone does to the score.
                        var changed = f
                        changed.values[step.feature] = Self.inside(step.target)
                        #expect(card.score(changed).score! - score == step.gain, "\(uscc): \(step.feature)")
                        #expect(step.gain > 0 || score == card.minScore, "\(uscc): \(step.feature) gains nothing")
                    }
                    if advice.reaches, let next = advice.nextGrade {
                        reaching += 1
                        // All the steps together reach the grade they promise.
                        var changed = f
                        for step in advice.steps { changed.values[step.feature] = Self.inside(step.target) }
                        let after = card.score(changed)
                        let rank = card.grades.map(\.grade)
                        #expect(rank.firstIndex(of: after.grade!)! <= rank.firstIndex(of: next)!, "\(uscc): \(after.grade!) not \(next)")
                    }
                }
                // The city gives the property something to bite on.
                #expect(scored > 250 && steps > 100 && reaching > 20 && reasons > 500, "\(scored) \(steps) \(reaching) \(reasons)")
            }
        }
    }
}
