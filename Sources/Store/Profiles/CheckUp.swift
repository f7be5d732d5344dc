import CreditCore
import Foundation
import Logging
import PostgresNIO

/// What a business's credit check-up shows, read in one transaction: the stored profile and the
/// card that made it (never scored again), the advice CreditCore gives on that stored outcome,
/// the current records, and each penalty's publicity as the repair rules read it — the same
/// history and window `Repairs.apply` checks, so the page offers repair exactly when it would be
/// accepted.
public enum CheckUp {
    /// A penalty's publicity today.
    public struct Penalty: Sendable, Equatable {
        /// Approved repair: publication ended that day.
        public let repairedOn: Day?
        public let published: Bool
        public let publishedUntil: Day
        /// An application for it is open (being decided).
        public let pending: Bool
        /// A repair application would be accepted now (`Repairs.refusal` is nil).
        public let repairable: Bool
        /// Not published at all (a minor penalty the authority did not ask to publish).
        public var neverPublished = false
        public init(repairedOn: Day?, published: Bool, publishedUntil: Day, pending: Bool = false, repairable: Bool) {
            self.repairedOn = repairedOn
            self.published = published
            self.publishedUntil = publishedUntil
            self.pending = pending
            self.repairable = repairable
        }
    }

    public struct View: Sendable {
        public let profile: StoredProfile
        public let card: Scorecard
        /// The stored features, as CreditCore reads them.
        public let features: FeatureSet
        /// The stored outcome (score, grade, reasons, points).
        public let outcome: Scorecard.Outcome
        public let advice: Improvement.Advice
        public let records: [Records.Current]
        /// By record id, for the penalties among the records.
        public let penalties: [String: Penalty]
        /// The records behind each feature: the lineage of the stored profile (the records held
        /// when it was computed, as the card's penalty policy counts them).
        public let lineage: [Feature: [RecordRef]]
    }

    /// Nil when the business has no profile yet (or its card is gone).
    public static func load(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        cards: ScorecardCache,
        maxRecords: Int,
        today: Day
    ) async throws -> View? {
        guard let profile = try await ProfileStore.profile(c, uscc: uscc, logger: logger),
            let card = try await cards.card(c, version: profile.scorecardVersion, logger: logger)
        else { return nil }
        let records = try await Records.current(c, logger: logger, uscc: uscc, dataset: nil, after: nil, limit: maxRecords)
        var penalties: [String: Penalty] = [:]
        if let history = try await ProfileStore.histories(c, usccs: [uscc], upTo: nil, logger: logger)[uscc] {
            let pending = try await Repairs.pending(c, logger: logger, uscc: uscc)
            for p in history.penalties {
                let w = p.window
                var shown = Penalty(
                    repairedOn: p.repairedOn,
                    published: Publicity.isPublished(w, decidedOn: p.decidedOn, repairedOn: p.repairedOn, today: today),
                    publishedUntil: w.endsOn,
                    pending: pending.contains(p.id),
                    repairable: Repairs.refusal(p, today: today, pending: pending.contains(p.id)) == nil
                )
                shown.neverPublished = !w.published
                penalties[p.id] = shown
            }
        }
        let features = profile.featureSet(today: today)
        let outcome = profile.outcome
        return View(
            profile: profile,
            card: card,
            features: features,
            outcome: outcome,
            advice: Improvement.advise(card: card, features: features, outcome: outcome),
            records: records,
            penalties: penalties,
            lineage: try await lineage(c, logger: logger, profile: profile, card: card)
        )
    }
}

extension CheckUp {
    /// The records behind each feature of a stored profile: its history up to the moment its
    /// data was taken, reduced as of its day under its card's penalty policy.
    public static func lineage(
        _ c: PostgresConnection,
        logger: Logger,
        profile: StoredProfile,
        card known: Scorecard? = nil
    ) async throws -> [Feature: [RecordRef]] {
        let history = try await ProfileStore.histories(c, usccs: [profile.uscc], upTo: profile.dataAsOf, logger: logger)[profile.uscc]
        guard let history, let day = Day(profile.asOfDay) else { return [:] }
        var card = known
        if card == nil { card = try await Scorecards.card(c, version: profile.scorecardVersion, logger: logger) }
        return Features.compute(history, asOf: day, policy: card?.policy ?? .fullWindow, lineage: true).lineage
    }

    /// The advice alone (for the API): the stored profile, the card that scored it, and what
    /// CreditCore advises on that stored outcome. Nil: no profile yet.
    public static func advice(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        cards: ScorecardCache,
        today: Day
    ) async throws -> (profile: StoredProfile, advice: Improvement.Advice)? {
        guard let profile = try await ProfileStore.profile(c, uscc: uscc, logger: logger),
            let card = try await cards.card(c, version: profile.scorecardVersion, logger: logger)
        else { return nil }
        return (profile, Improvement.advise(card: card, features: profile.featureSet(today: today), outcome: profile.outcome))
    }
}

extension StoredProfile {
    /// The stored features as a feature set (a feature not stored is missing).
    public func featureSet(today: Day) -> FeatureSet {
        var f = FeatureSet(asOf: Day(asOfDay) ?? today)
        for feature in Feature.allCases { f.values[feature] = features[feature.rawValue] ?? .missing }
        f.dataMonths = dataMonths
        return f
    }

    /// The stored outcome: what the card gave when the profile was computed.
    public var outcome: Scorecard.Outcome {
        Scorecard.Outcome(
            scorecardVersion: scorecardVersion,
            score: score,
            grade: grade,
            thinFile: thinFile,
            knockouts: knockouts,
            reasons: reasons,
            points: Dictionary(uniqueKeysWithValues: points.compactMap { k, v in Feature(rawValue: k).map { ($0, v) } })
        )
    }
}
