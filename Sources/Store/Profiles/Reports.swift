import CreditCore
import Foundation
import Logging
import PostgresNIO

public enum ReportError: Error, CustomStringConvertible {
    case noScorecard(Date)
    case noRecords(String)
    case future
    public var description: String {
        switch self {
        case .noScorecard(let at): "no scorecard was active at \(Reports.timestamp(at))"
        case .noRecords(let uscc): "no records of \(uscc) were held at that moment"
        case .future: "as_of is in the future"
        }
    }
}

/// A signed report as kept and as handed out: `{"report": {...}, "signature": {...}}`.
public struct SignedReport: Sendable {
    public let number: String
    public let uscc: String
    /// The canonical JSON (RFC 8785) of the report, exactly as signed.
    public let canonical: String
    public let signature: String
    public let keyId: String
    public let createdAt: Date
    /// Printed on the report; with it the verification address shows the report's key facts.
    /// Nil for reports made before codes existed.
    public let verifyCode: String?

    public init(
        number: String,
        uscc: String,
        canonical: String,
        signature: String,
        keyId: String,
        createdAt: Date,
        verifyCode: String? = nil
    ) {
        self.number = number
        self.uscc = uscc
        self.canonical = canonical
        self.signature = signature
        self.keyId = keyId
        self.createdAt = createdAt
        self.verifyCode = verifyCode
    }

    /// A new verification code: 10 characters that cannot be misread (no 0/O, 1/I/L).
    public static func newVerifyCode() -> String {
        let alphabet = Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
        var g = SystemRandomNumberGenerator()
        return String((0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] })
    }

    /// The document to download: the report and its signature.
    public var document: String {
        "{\"report\":\(canonical),\"signature\":{\"alg\":\"Ed25519\",\"key_id\":\"\(keyId)\",\"value\":\"\(signature)\"}}"
    }
}

/// Credit reports: computed from the record versions known at `as_of` with the scorecard
/// active then, numbered `XYD-YYYYMMDD-NNNNNN` (the day in China), signed over their
/// canonical JSON, and kept exactly as signed.
public enum Reports {
    public static let queryHistoryLimit = 100
    public static let penaltiesLimit = 200
    /// Records listed behind one feature in a report.
    public static let lineageLimit = 60

    static func timestamp(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    /// The report's content as of a moment: the same moment gives the same content.
    public static func content(_ c: PostgresConnection, logger: Logger, uscc: String, asOf: Date) async throws -> JSONValue {
        guard let card = try await Scorecards.active(c, at: asOf, logger: logger) else { throw ReportError.noScorecard(asOf) }
        let known = try await ProfileStore.histories(c, usccs: [uscc], upTo: asOf, logger: logger)[uscc] ?? History(uscc: uscc)
        guard known.recordCount > 0 else { throw ReportError.noRecords(uscc) }
        let day = Day.inChina(asOf)
        // What may be provided on that day: negative records five years past their end left out.
        let history = known.retained(on: day)
        // The business's statements on its records, as they stood at that moment.
        let statements = try await Statements.live(c, logger: logger, uscc: uscc, at: asOf)
        func statement(_ dataset: Dataset, _ id: String) -> JSONValue {
            statements["\(dataset.rawValue)/\(id)"].map(JSONValue.string) ?? .null
        }
        let features = Features.compute(history, asOf: day, policy: card.policy, lineage: true)
        let outcome = card.score(features)

        var enterprise: JSONObject = ["uscc": .string(uscc)]
        if let r = history.registry {
            enterprise["name"] = .string(r.name)
            enterprise["entity_type"] = .string(r.entityType)
            enterprise["industry_code"] = .string(r.industryCode)
            enterprise["district_code"] = .string(r.districtCode)
            enterprise["size_class"] = .string(r.sizeClass)
            enterprise["status"] = .string(r.status)
            enterprise["established_on"] = .string(r.establishedOn.description)
            enterprise["registered_capital_fen"] = .number(String(r.registeredCapitalFen))
            enterprise["legal_rep_name"] = .string(r.legalRepName)
            enterprise["legal_rep_id_masked"] = r.legalRepMasked.map(JSONValue.string) ?? .null
        }
        var featureObject = JSONObject()
        for f in Feature.allCases {
            switch features[f] {
            case .number(let n): featureObject[f.rawValue] = .number(String(n))
            case .category(let s): featureObject[f.rawValue] = .string(s)
            case .missing: featureObject[f.rawValue] = .null
            }
        }
        let reasons: [JSONValue] = outcome.reasons.map { r in
            [
                "code": .string(r.code), "feature": .string(r.feature.rawValue), "zh": .string(r.zh), "en": .string(r.en),
                "points": .number(String(r.points)), "max_points": .number(String(r.maxPoints)),
            ]
        }
        // The records behind each feature, as `dataset/record_id` (at most `lineageLimit` each).
        var lineage = JSONObject()
        for f in Feature.allCases {
            let refs = (features.lineage[f] ?? []).prefix(lineageLimit)
            if !refs.isEmpty { lineage[f.rawValue] = .array(refs.map { .string("\($0.dataset.rawValue)/\($0.recordId)") }) }
        }
        let profile: JSONObject = [
            "lineage": .object(lineage),
            "scorecard_version": .string(card.version),
            "score": outcome.score.map { .number(String($0)) } ?? .null,
            "grade": outcome.grade.map(JSONValue.string) ?? .null,
            "thin_file": .bool(outcome.thinFile),
            "knockouts": .array(outcome.knockouts.map(JSONValue.string)),
            "reasons": .array(reasons),
            "features": .object(featureObject),
            "data_months": .number(String(features.dataMonths)),
        ]
        let counts: [(Dataset, Int)] = [
            (.enterpriseRegistry, history.registry == nil ? 0 : 1), (.taxFiling, history.taxFilings.count),
            (.taxCreditRating, history.taxRatings.count), (.socialInsurance, history.socialInsurance.count),
            (.utilityBill, history.utilityBills.count), (.contractPerformance, history.contracts.count),
            (.administrativeLicence, history.licences.count), (.administrativePenalty, history.penalties.count),
            (.dishonestyListing, history.listings.count),
        ]
        var records = JSONObject()
        for (d, n) in counts { records[d.rawValue] = .number(String(n)) }
        // Published penalties: decided by then, within their publicity window (as the rules allow)
        // and not ended early by a repair approved by then.
        let published = history.publishedPenalties(on: day)
            .prefix(penaltiesLimit)
            .map { p -> JSONValue in
                [
                    "decision_no": .string(p.decisionNo), "authority": .string(p.authority), "decided_on": .string(p.decidedOn.description),
                    "violation": .string(p.violation), "severity": .string(p.severity), "fine_amount_fen": .number(String(p.fineFen)),
                    "publicity_ends_on": .string(p.window.endsOn.description), "publicity_rules": .string(p.window.rules),
                    "statement": statement(.administrativePenalty, p.id),
                ]
            }
        let listings = history.listings
            .filter { $0.listedOn <= day }
            .sorted { ($0.listedOn, $0.id) > ($1.listedOn, $1.id) }
            .map { l -> JSONValue in
                [
                    "list_type": .string(l.listType), "case_no": .string(l.caseNo), "authority": .string(l.authority),
                    "listed_on": .string(l.listedOn.description),
                    "removed_on": l.removedOn.map { .string($0.description) } ?? .null,
                    "current": .bool(l.removedOn.map { $0 > day } ?? true), "statement": statement(.dishonestyListing, l.id),
                    "amount_involved_fen": l.amountFen.map { .number(String($0)) } ?? .null,
                ]
            }
        var queries: [JSONValue] = []
        for try await (at, bank, action, purpose) in try await c.query(
            """
            SELECT l.occurred_at, coalesce(o.name, ''), l.action, coalesce(l.purpose, '')
            FROM audit_log l LEFT JOIN organisations o ON o.id = l.actor_org_id
            WHERE l.subject_uscc = \(uscc) AND l.actor_kind = 'bank' AND l.result = 'allowed' AND l.occurred_at <= \(asOf)
            ORDER BY l.occurred_at DESC, l.id DESC LIMIT \(queryHistoryLimit)
            """,
            logger: logger
        ).decode((Date, String, String, String).self) {
            queries.append(["at": .string(timestamp(at)), "bank": .string(bank), "action": .string(action), "purpose": .string(purpose)])
        }
        // Records under objection at that moment (raised by then, not yet answered).
        var disputed: [JSONValue] = []
        for try await (ds, rid, raised) in try await c.query(
            """
            SELECT dataset, record_id, created_at FROM objection
            WHERE uscc = \(uscc) AND created_at <= \(asOf) AND (resolved_at IS NULL OR resolved_at > \(asOf))
            ORDER BY dataset, record_id
            """,
            logger: logger
        ).decode((String, String, Date).self) {
            disputed.append(["dataset": .string(ds), "record_id": .string(rid), "disputed_since": .string(timestamp(raised))])
        }
        // Commitments made by then, in the state the records of that moment give them.
        var commitments: [JSONValue] = []
        for try await (kind, starts, ends) in try await c.query(
            "SELECT kind, starts_on::text, ends_on::text FROM commitment WHERE uscc = \(uscc) AND created_at <= \(asOf) ORDER BY created_at, id",
            logger: logger
        ).decode((String, String, String).self) {
            guard let k = Commitments.Kind(rawValue: kind), let s = Day(starts), let e = Day(ends) else { continue }
            let r = Commitments.evaluate(k, startsOn: s, endsOn: e, history: history, today: day)
            commitments.append([
                "kind": .string(kind), "text": .string("\(k.zh) \(k.en)"), "starts_on": .string(starts), "ends_on": .string(ends),
                "state": .string(r.state.rawValue), "broken_by": r.brokenBy.map(JSONValue.string) ?? .null,
            ])
        }
        return [
            "as_of": .string(timestamp(asOf)),
            "as_of_day": .string(day.description),
            "disputed_records": .array(disputed),
            "commitments": .array(commitments),
            "enterprise": .object(enterprise),
            "profile": .object(profile),
            "records_by_dataset": .object(records),
            "published_penalties": .array(Array(published)),
            "dishonesty_listings": .array(listings),
            "query_history": .array(queries),
        ]
    }

    /// Numbers, signs and stores a report (in the caller's transaction).
    public static func create(
        _ c: PostgresConnection,
        logger: Logger,
        signer: ReportSigner,
        uscc: String,
        requestedBy: UUID,
        requesterName: String,
        requesterKind: String,
        authorisationId: UUID?,
        purpose: String?,
        asOf requested: Date?
    ) async throws -> SignedReport {
        let now = try await c.query("SELECT now()", logger: logger).collect()[0].decode(Date.self)
        if let requested, requested > now { throw ReportError.future }
        let asOf = requested ?? now
        let content = try await content(c, logger: logger, uscc: uscc, asOf: asOf)
        let day = Day.inChina(now)
        let n = try await c.query(
            """
            INSERT INTO report_counter (day, n) VALUES (\(day.description)::date, 1)
            ON CONFLICT (day) DO UPDATE SET n = report_counter.n + 1 RETURNING n
            """,
            logger: logger
        ).collect()[0].decode(Int.self)
        let number = "XYD-" + day.description.replacingOccurrences(of: "-", with: "") + "-" + String(n).leftPadded(6)
        var requester: JSONObject = [
            "org_id": .string(requestedBy.uuidString.lowercased()), "name": .string(requesterName),
            "kind": .string(requesterKind),
        ]
        requester["purpose"] = purpose.map(JSONValue.string) ?? .null
        requester["authorisation_id"] = authorisationId.map { .string($0.uuidString.lowercased()) } ?? .null
        let report: JSONValue = [
            "number": .string(number),
            "issued_at": .string(timestamp(now)),
            "issuer": "Xinyidai (信易贷) credit service",
            "requested_by": .object(requester),
            "content": content,
            "verification": .string("GET /v1/reports/\(number)/verification"),
        ]
        let canonical = try CanonicalJSON.encode(report)
        let signature = try signer.sign(canonical)
        let code = SignedReport.newVerifyCode()
        try await c.query(
            """
            INSERT INTO report (number, uscc, requested_by, authorisation_id, as_of, canonical, signature, key_id, verify_code)
            VALUES (\(number), \(uscc), \(requestedBy), \(authorisationId), \(asOf), \(canonical), \(signature), \(signer.keyId), \(code))
            """,
            logger: logger
        )
        return SignedReport(
            number: number,
            uscc: uscc,
            canonical: canonical,
            signature: signature,
            keyId: signer.keyId,
            createdAt: now,
            verifyCode: code
        )
    }

    /// Whether the authorisation a bank's report was produced under is still live (locked against
    /// revocation until the transaction ends): a bank fetches its report again only while it is.
    public static func authorisationLive(_ c: PostgresConnection, logger: Logger, number: String) async throws -> Bool {
        try await !c.query(
            """
            SELECT 1 FROM report r JOIN authorisation a ON a.id = r.authorisation_id
            WHERE r.number = \(number) AND \(unescaped: Live.authorisation("a"))
            FOR SHARE OF a
            """,
            logger: logger
        ).collect().isEmpty
    }

    /// A report in a business's list of its reports.
    public struct Listed: Sendable, Equatable {
        public let number: String
        public let createdAt: Date
        public let asOf: Date
        /// Who asked for it (the business itself, or a bank under an authorisation).
        public let requester: String
        public let requesterKind: String
    }

    /// Reports shown in a business's list.
    public static let listLimit = 50

    /// The reports about a business, newest first.
    public static func about(_ c: PostgresConnection, logger: Logger, uscc: String, limit: Int = listLimit) async throws -> [Listed] {
        var out: [Listed] = []
        for try await (number, created, asOf, name, kind) in try await c.query(
            """
            SELECT r.number, r.created_at, r.as_of, coalesce(o.name, ''), coalesce(o.kind::text, '')
            FROM report r LEFT JOIN organisations o ON o.id = r.requested_by
            WHERE r.uscc = \(uscc) ORDER BY r.created_at DESC, r.number DESC LIMIT \(limit)
            """,
            logger: logger
        ).decode((String, Date, Date, String, String).self) {
            out.append(Listed(number: number, createdAt: created, asOf: asOf, requester: name, requesterKind: kind))
        }
        return out
    }

    public static func find(
        _ c: PostgresConnection,
        logger: Logger,
        number: String
    ) async throws -> (report: SignedReport, requestedBy: UUID)? {
        let rows = try await c.query(
            "SELECT number, uscc, canonical, signature, key_id, created_at, requested_by, verify_code FROM report WHERE number = \(number)",
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (n, u, canonical, sig, key, at, by, code) = try row.decode((String, String, String, String, String, Date, UUID, String?).self)
        return (SignedReport(number: n, uscc: u, canonical: canonical, signature: sig, keyId: key, createdAt: at, verifyCode: code), by)
    }
}
