import CreditCore
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Monitoring events from profile changes, for the banks watching an enterprise (a live
/// `post_loan_monitoring` authorisation, or a loan they disbursed): written as webhook events
/// in the transaction that stores the new profiles. No event for a first profile.
enum MonitoringEvents {
    /// A score move at least this large is an event.
    static let scoreMoveThreshold = 50

    struct Before {
        let grade: String?
        let score: Int?
        let penalties: Int
        let listed: Int
        let siArrears: Int
        let unpaidTax: Int64
    }

    /// A business no longer on any dishonesty list: its watchers and every bank that read it in
    /// the last 90 days hear of it (`record.listing_removed`).
    static func listingsRemoved(
        _ c: PostgresConnection,
        _ profiles: [ProfileStore.Computed],
        watchers: [String: [UUID]],
        logger: Logger
    ) async throws {
        let cleared = profiles.filter { $0.features[.blacklistedNow].number == 0 }.map(\.uscc)
        guard !cleared.isEmpty else { return }
        let wasListed = try await c.query(
            "SELECT uscc FROM profile WHERE uscc = ANY(\(cleared)::text[]) AND (features->>'blacklisted_now')::int = 1",
            logger: logger
        ).collect().map { try $0.decode(String.self) }
        for uscc in wasListed {
            var banks = Set(watchers[uscc] ?? [])
            banks.formUnion(try await Objections.recentReaders(c, logger: logger, uscc: uscc))
            for bank in banks.sorted(by: { $0.uuidString < $1.uuidString }) {
                try await Webhooks.emit(
                    c,
                    logger: logger,
                    bank: bank,
                    uscc: uscc,
                    type: "record.listing_removed",
                    payload: ["uscc": .string(uscc)]
                )
            }
        }
    }

    static func emit(_ c: PostgresConnection, _ profiles: [ProfileStore.Computed], logger: Logger) async throws {
        let usccs = profiles.map(\.uscc)
        // Who watches whom, first: most enterprises are watched by nobody.
        var watchers: [String: [UUID]] = [:]
        for try await (bank, uscc) in try await c.query(
            """
            SELECT bank_org_id, uscc FROM authorisation
            WHERE uscc = ANY(\(usccs)::text[]) AND purpose = 'post_loan_monitoring' AND \(unescaped: Live.authorisation())
            UNION
            SELECT taken_up_by, uscc FROM demand WHERE uscc = ANY(\(usccs)::text[]) AND state = 'disbursed' AND taken_up_by IS NOT NULL
            """,
            logger: logger
        ).decode((UUID, String).self) { watchers[uscc, default: []].append(bank) }
        try await listingsRemoved(c, profiles, watchers: watchers, logger: logger)
        // Businesses that use the service (an organisation) hear of new negative records too.
        let users = Set(
            try await c.query(
                "SELECT uscc FROM organisations WHERE kind = 'enterprise' AND uscc = ANY(\(usccs)::text[])",
                logger: logger
            ).collect().map { try $0.decode(String.self) }
        )
        guard !watchers.isEmpty || !users.isEmpty else { return }
        let watched = Array(Set(watchers.keys).union(users))
        var before: [String: Before] = [:]
        for try await (uscc, grade, score, penalties, listed, arrears, unpaid) in try await c.query(
            """
            SELECT uscc, grade, score,
                   coalesce((features->>'serious_penalties_36m')::int, 0) + coalesce((features->>'other_penalties_36m')::int, 0),
                   coalesce((features->>'blacklisted_now')::int, 0), coalesce((features->>'social_insurance_arrears_12m')::int, 0),
                   coalesce((features->>'unpaid_tax')::bigint, 0)
            FROM profile WHERE uscc = ANY(\(watched)::text[])
            """,
            logger: logger
        ).decode((String, String?, Int?, Int, Int, Int, Int64).self) {
            before[uscc] = Before(grade: grade, score: score, penalties: penalties, listed: listed, siArrears: arrears, unpaidTax: unpaid)
        }
        for p in profiles {
            guard let old = before[p.uscc] else { continue }
            let banks = watchers[p.uscc] ?? []
            let f = p.features
            func n(_ feature: Feature) -> Int64 { f[feature].number ?? 0 }
            var events: [(String, JSONObject)] = []
            let grade = p.outcome.grade
            let score = p.outcome.score
            if grade != old.grade {
                events.append(
                    (
                        "profile.grade_changed",
                        ["from": old.grade.map(JSONValue.string) ?? .null, "to": grade.map(JSONValue.string) ?? .null]
                    )
                )
            }
            if let s = score, let o = old.score, abs(s - o) >= scoreMoveThreshold {
                events.append(("profile.score_moved", ["from": .number(String(o)), "to": .number(String(s))]))
            }
            let penalties = n(.seriousPenalties36m) + n(.otherPenalties36m)
            if penalties > Int64(old.penalties) { events.append(("record.new_penalty", ["penalties_36m": .number(String(penalties))])) }
            if n(.blacklistedNow) == 1, old.listed == 0 { events.append(("record.new_blacklisting", [:])) }
            if n(.socialInsuranceArrears12m) > 0, old.siArrears == 0 {
                events.append(("arrears.social_insurance_started", ["months_12m": .number(String(n(.socialInsuranceArrears12m)))]))
            }
            if n(.unpaidTax) > 0, old.unpaidTax == 0 {
                events.append(("arrears.tax_started", ["unpaid_tax_fen": .number(String(n(.unpaidTax)))]))
            }
            if users.contains(p.uscc) {
                for (type, detail) in events where type.hasPrefix("record.") || type.hasPrefix("arrears.") {
                    try await Messages.emit(c, logger: logger, uscc: p.uscc, kind: type, data: .object(detail))
                }
            }
            for (type, detail) in events {
                var payload = detail
                payload["uscc"] = .string(p.uscc)
                payload["score"] = score.map { .number(String($0)) } ?? .null
                payload["grade"] = grade.map(JSONValue.string) ?? .null
                for bank in banks {
                    try await Webhooks.emit(c, logger: logger, bank: bank, uscc: p.uscc, type: type, payload: .object(payload))
                }
            }
        }
    }
}
