import CreditCore
import Foundation
import Logging
import PostgresNIO

/// What is public about an enterprise (双公示, and the tender's silent query): published
/// licences and penalties, current blacklistings. Never a person, a profile or a score.
public enum Disclosure {
    /// At most this many codes in one silent query.
    public static let maxSilentQuery = 1_000
    /// At most this many enterprises found by one exact name.
    public static let maxByName = 20

    public struct ListingFact: Sendable, Equatable {
        public let listType: String
        public let listedOn: Day
        public let authority: String

        /// What is disclosed of a listing: its type, since when, by which authority.
        public var json: JSONValue {
            ["list_type": .string(listType), "listed_on": .string(listedOn.description), "authority": .string(authority)]
        }
    }

    /// Current listings (listed by `today`, not removed by it) of each code.
    public static func currentListings(
        _ c: PostgresConnection,
        logger: Logger,
        usccs: [String],
        today: Day
    ) async throws -> [String: [ListingFact]] {
        var out: [String: [ListingFact]] = [:]
        for try await (uscc, type, listed, authority, removed) in try await c.query(
            """
            SELECT uscc, data->>'list_type', data->>'listed_on', data->>'authority', data->>'removed_on' FROM current_record
            WHERE dataset = 'dishonesty_listing' AND op = 'upsert' AND uscc = ANY(\(usccs)::text[])
            """,
            logger: logger
        ).decode((String, String, String, String, String?).self) {
            guard let listedOn = Day(listed), listedOn <= today else { continue }
            if let removed, let removedOn = Day(removed), removedOn <= today { continue }
            out[uscc, default: []].append(ListingFact(listType: type, listedOn: listedOn, authority: authority))
        }
        for k in out.keys { out[k]!.sort { ($0.listedOn, $0.listType) < ($1.listedOn, $1.listType) } }
        return out
    }

    /// A silent query's answer for each code, in the order asked: invalid codes as invalid.
    public static func silentQuery(_ c: PostgresConnection, logger: Logger, codes: [String], today: Day) async throws -> [JSONValue] {
        var valid: [String] = []
        // Each code with its checked form, or why it is invalid.
        var parsed: [(code: String, valid: String?, why: String?)] = []
        for code in codes {
            switch USCC.parse(code) {
            case .success(let u):
                valid.append(u.value)
                parsed.append((code, u.value, nil))
            case .failure(let p): parsed.append((code, nil, p.code))
            }
        }
        let listings = try await currentListings(c, logger: logger, usccs: Array(Set(valid)), today: today)
        return parsed.map { p -> JSONValue in
            switch (p.valid, p.why) {
            case (nil, let why):
                return ["uscc": .string(p.code), "valid": .bool(false), "invalid_reason": .string(why ?? "invalid")]
            case (let u?, _):
                let l = listings[u] ?? []
                return ["uscc": .string(u), "valid": .bool(true), "listed": .bool(!l.isEmpty), "listings": .array(l.map(\.json))]
            }
        }
    }

    /// The public record of one enterprise by code or exact registered name: name, code, and
    /// its published licences and penalties and current listings. Nil when none matches.
    public static func publicRecord(_ c: PostgresConnection, logger: Logger, uscc: String, today: Day) async throws -> JSONValue? {
        let histories = try await ProfileStore.histories(c, usccs: [uscc], upTo: nil, logger: logger)
        guard let h = histories[uscc], let registry = h.registry else { return nil }
        let licences = h.licences.filter { $0.decidedOn <= today && ($0.validUntil.map { $0 >= today } ?? true) }
            .sorted { ($0.decidedOn, $0.id) > ($1.decidedOn, $1.id) }
            .map { l -> JSONValue in
                [
                    "title": .string(l.title), "decided_on": .string(l.decidedOn.description),
                    "valid_until": l.validUntil.map { .string($0.description) } ?? .null,
                ]
            }
        let penalties = h.publishedPenalties(on: today)
            .map { p -> JSONValue in
                [
                    "decision_no": .string(p.decisionNo), "authority": .string(p.authority), "decided_on": .string(p.decidedOn.description),
                    "violation": .string(p.violation), "severity": .string(p.severity), "fine_amount_fen": .number(String(p.fineFen)),
                    "published_until": .string(p.window.endsOn.description),
                ]
            }
        let listings = (try await currentListings(c, logger: logger, usccs: [uscc], today: today))[uscc] ?? []
        // Commitments are public once made.
        let commitments = try await CommitmentStore.mine(c, logger: logger, uscc: uscc).map { m -> JSONValue in
            [
                "kind": .string(m.kind), "text": .string(m.text), "starts_on": .string(m.startsOn), "ends_on": .string(m.endsOn),
                "state": .string(m.state),
            ]
        }
        // The public credit commitments (信用承诺书) signed with approved repair applications: the
        // text as signed and the day — not the signer, nor the penalty (its publication ended).
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyy-MM-dd"
        stamp.timeZone = TimeZone(identifier: "Asia/Shanghai")
        let repairCommitments = try await Repairs.mine(c, logger: logger, uscc: uscc)
            .filter { $0.state == "approved" && $0.commitmentText != nil }
            .map { a -> JSONValue in
                [
                    "commitment_id": .string(a.commitmentId ?? ""), "text": .string(a.commitmentText ?? ""),
                    "signed_on": a.signedAt.map { .string(stamp.string(from: $0)) } ?? .null,
                ]
            }
        return [
            "uscc": .string(uscc), "name": .string(registry.name), "status": .string(registry.status),
            "commitments": .array(commitments), "repair_commitments": .array(repairCommitments),
            "as_of": .string(today.description),
            "licences": .array(licences), "penalties": .array(penalties),
            "listings": .array(listings.map(\.json)),
        ]
    }

    /// The registered names of these enterprises (public register facts), by USCC.
    public static func names(_ usccs: [String], _ c: PostgresConnection, logger: Logger) async throws -> [String: String] {
        guard !usccs.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for try await (uscc, name) in try await c.query(
            """
            SELECT record_id, data->>'name' FROM current_record
            WHERE dataset = 'enterprise_registry' AND op = 'upsert' AND record_id = ANY(\(usccs)::text[])
            """,
            logger: logger
        ).decode((String, String?).self) {
            if let name { out[uscc] = name }
        }
        return out
    }

    /// Public register facts of an enterprise: what a bank's queue shows beside each demand.
    public struct RegistryFacts: Sendable, Equatable {
        public let name: String?
        public let districtCode: String?
        public let industryCode: String?
        public let sizeClass: String?
        public init(name: String?, districtCode: String?, industryCode: String?, sizeClass: String?) {
            self.name = name
            self.districtCode = districtCode
            self.industryCode = industryCode
            self.sizeClass = sizeClass
        }
    }

    /// The register's name, district, industry and size of these enterprises, by USCC.
    public static func registryFacts(_ usccs: [String], _ c: PostgresConnection, logger: Logger) async throws -> [String: RegistryFacts] {
        guard !usccs.isEmpty else { return [:] }
        var out: [String: RegistryFacts] = [:]
        for try await (uscc, name, district, industry, size) in try await c.query(
            """
            SELECT record_id, data->>'name', data->>'district_code', data->>'industry_code', data->>'size_class' FROM current_record
            WHERE dataset = 'enterprise_registry' AND op = 'upsert' AND record_id = ANY(\(usccs)::text[])
            """,
            logger: logger
        ).decode((String, String?, String?, String?, String?).self) {
            out[uscc] = RegistryFacts(name: name, districtCode: district, industryCode: industry, sizeClass: size)
        }
        return out
    }

    /// The codes registered under exactly this name (current register records).
    public static func codes(named name: String, _ c: PostgresConnection, logger: Logger) async throws -> [String] {
        try await c.query(
            """
            SELECT record_id FROM current_record WHERE dataset = 'enterprise_registry' AND op = 'upsert' AND data->>'name' = \(name)
            ORDER BY record_id LIMIT \(maxByName)
            """,
            logger: logger
        ).collect().map { try $0.decode(String.self) }
    }
}

/// Silent queries kept as signed: the tender file cites the id; anyone re-checks the document.
public enum SilentQueries {
    public static let maxTenderLength = 200

    public struct Signed: Sendable {
        public let id: UUID
        public let canonical: String
        public let signature: String
        public let keyId: String
        /// `{"report": {...}, "signature": {...}}`, checkable by `xyd report verify`.
        public var document: String {
            "{\"report\":\(canonical),\"signature\":{\"alg\":\"Ed25519\",\"key_id\":\"\(keyId)\",\"value\":\"\(signature)\"}}"
        }
    }

    public static func run(
        _ c: PostgresConnection,
        logger: Logger,
        signer: ReportSigner,
        org: UUID,
        orgName: String,
        codes: [String],
        tender: String?,
        now: Date = Date()
    ) async throws -> Signed {
        let id = UUID()
        let results = try await Disclosure.silentQuery(c, logger: logger, codes: codes, today: Day.inChina(now))
        var body: JSONObject = [
            "kind": .string("silent_query"), "id": .string(id.uuidString.lowercased()),
            "queried_at": .string(ISO8601DateFormatter().string(from: now)), "queried_by": .string(orgName),
            "results": .array(results),
            "scope": .string("current dishonesty listings only: list type, since when, by which authority"),
        ]
        body["tender"] = tender.map(JSONValue.string) ?? .null
        let canonical = try CanonicalJSON.encode(.object(body))
        let signature = try signer.sign(canonical)
        let listed = results.filter { $0["listed"] == .bool(true) }.count
        try await c.query(
            """
            INSERT INTO silent_query (id, org_id, queried_at, codes, listed, canonical, signature, key_id)
            VALUES (\(id), \(org), \(now), \(codes.count), \(listed), \(canonical), \(signature), \(signer.keyId))
            """,
            logger: logger
        )
        return Signed(id: id, canonical: canonical, signature: signature, keyId: signer.keyId)
    }

    /// One of the organisation's own queries.
    public static func find(_ c: PostgresConnection, logger: Logger, id: UUID, org: UUID) async throws -> Signed? {
        guard
            let row = try await c.query(
                "SELECT canonical, signature, key_id FROM silent_query WHERE id = \(id) AND org_id = \(org)",
                logger: logger
            ).collect().first
        else { return nil }
        let (canonical, signature, key) = try row.decode((String, String, String).self)
        return Signed(id: id, canonical: canonical, signature: signature, keyId: key)
    }
}
