import CreditCore
import Foundation
import Logging
import PostgresNIO

public enum ProductStatus: String, Codable, CaseIterable, Sendable { case draft, published, paused, retired }

/// A bank's product as stored and shown.
public struct Product: Sendable, Encodable {
    public let id: UUID
    public let bankOrgId: UUID
    public let name: String
    public let kind: ProductKind
    public let amountMinFen: Int64
    public let amountMaxFen: Int64
    public let termMinMonths: Int
    public let termMaxMonths: Int
    public let rateMinBp: Int
    public let rateMaxBp: Int
    public let rules: JSONValue
    /// The indicative amount rule, as stored (nil: none).
    public let quota: JSONValue?
    public let status: ProductStatus
    public let revision: Int
    public let createdAt: Date
    public let updatedAt: Date

}

public enum ProductError: Error, CustomStringConvertible {
    case notFound(UUID)
    /// A transition or change not allowed from the current state.
    case state(current: ProductStatus, wanted: String)
    /// More changes to a bank's products in the last hour than allowed.
    case tooManyChanges(Int)
    public var description: String {
        switch self {
        case .tooManyChanges(let n): "at most \(n) changes to a bank's products an hour (each re-matches every open demand)"
        case .notFound(let id): "no product \(id) of yours"
        case .state(let current, let wanted): "the product is \(current.rawValue): it cannot be \(wanted)"
        }
    }
}

/// Banks' products: created as drafts, published, paused, retired (final); each change recorded
/// with who and when in product_event. A bank sees and changes only its own.
public enum Products {
    public static let listLimit = 500
    /// A product's name, in characters.
    public static let maxNameLength = 100
    /// Changes (create, update, publish, pause, retire) a bank may make in an hour.
    public static let maxChangesPerHour = 60

    /// Refuses a change past the bank's hourly bound.
    public static func checkChangeRate(_ c: PostgresConnection, logger: Logger, bank: UUID) async throws {
        let n = try await c.query(
            "SELECT count(*)::int FROM product_event WHERE actor_org_id = \(bank) AND at > now() - interval '1 hour'",
            logger: logger
        ).collect()[0].decode(Int.self)
        if n >= maxChangesPerHour { throw ProductError.tooManyChanges(maxChangesPerHour) }
    }

    /// Allowed moves: to → the states it may come from.
    static let transitions: [ProductStatus: Set<ProductStatus>] = [
        .published: [.draft, .paused],
        .paused: [.published],
        .retired: [.draft, .published, .paused],
    ]

    static let columns = """
        id, bank_org_id, name, kind, amount_min_fen, amount_max_fen, term_min_months, term_max_months, rate_min_bp, rate_max_bp,
        rules::text, status, revision, created_at, updated_at, quota::text
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Product] {
        var out: [Product] = []
        for try await (id, bank, name, kind, amin, amax, tmin, tmax, rmin, rmax, rules, status, revision, created, updated, quota)
            in rows.decode(
                (UUID, UUID, String, String, Int64, Int64, Int, Int, Int, Int, String, String, Int, Date, Date, String?).self
            )
        {
            out.append(
                Product(
                    id: id,
                    bankOrgId: bank,
                    name: name,
                    kind: ProductKind(rawValue: kind) ?? .credit,
                    amountMinFen: amin,
                    amountMaxFen: amax,
                    termMinMonths: tmin,
                    termMaxMonths: tmax,
                    rateMinBp: rmin,
                    rateMaxBp: rmax,
                    rules: (try? JSONParser.parse(Array(rules.utf8))) ?? .array([]),
                    quota: quota.flatMap { try? JSONParser.parse(Array($0.utf8)) },
                    status: ProductStatus(rawValue: status) ?? .draft,
                    revision: revision,
                    createdAt: created,
                    updatedAt: updated
                )
            )
        }
        return out
    }

    static func rulesJSON(_ t: ProductTerms) -> String { JSONValue.array(t.rules.map(\.jsonValue)).jsonText }
    static func quotaJSON(_ t: ProductTerms) -> String? { t.quota?.jsonValue.jsonText }

    public static func create(
        _ c: PostgresConnection,
        logger: Logger,
        bank: UUID,
        keyId: UUID?,
        name: String,
        terms t: ProductTerms
    ) async throws -> Product {
        let id = try await c.query(
            """
            INSERT INTO product (bank_org_id, name, kind, amount_min_fen, amount_max_fen, term_min_months, term_max_months,
                                 rate_min_bp, rate_max_bp, rules, quota)
            VALUES (\(bank), \(name), \(t.kind.rawValue), \(t.amountMinFen), \(t.amountMaxFen), \(t.termMinMonths), \(t.termMaxMonths),
                    \(t.rateMinBp), \(t.rateMaxBp), \(rulesJSON(t))::jsonb, \(quotaJSON(t))::jsonb)
            RETURNING id
            """,
            logger: logger
        ).collect()[0].decode(UUID.self)
        try await event(c, logger: logger, product: id, bank: bank, keyId: keyId, event: "created", from: nil, to: .draft, revision: 1)
        return try await find(c, logger: logger, id: id, bank: bank)
    }

    /// One of this bank's products (404 for another's: its existence is not told).
    public static func find(_ c: PostgresConnection, logger: Logger, id: UUID, bank: UUID, lock: Bool = false) async throws -> Product {
        let rows = try await c.query(
            "SELECT \(unescaped: columns) FROM product WHERE id = \(id) AND bank_org_id = \(bank) \(unescaped: lock ? "FOR UPDATE" : "")",
            logger: logger
        )
        guard let p = try await decode(rows).first else { throw ProductError.notFound(id) }
        return p
    }

    public static func list(_ c: PostgresConnection, logger: Logger, bank: UUID, status: ProductStatus?) async throws -> [Product] {
        try await decode(
            c.query(
                """
                SELECT \(unescaped: columns) FROM product
                WHERE bank_org_id = \(bank) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                ORDER BY created_at, id LIMIT \(listLimit)
                """,
                logger: logger
            )
        )
    }

    /// Replaces a product's name and terms (not once retired); the revision moves on.
    public static func update(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        keyId: UUID?,
        name: String,
        terms t: ProductTerms
    ) async throws -> Product {
        let current = try await find(c, logger: logger, id: id, bank: bank, lock: true)
        guard current.status != .retired else { throw ProductError.state(current: current.status, wanted: "changed") }
        try await c.query(
            """
            UPDATE product SET name = \(name), kind = \(t.kind.rawValue), amount_min_fen = \(t.amountMinFen),
                amount_max_fen = \(t.amountMaxFen), term_min_months = \(t.termMinMonths), term_max_months = \(t.termMaxMonths),
                rate_min_bp = \(t.rateMinBp), rate_max_bp = \(t.rateMaxBp), rules = \(rulesJSON(t))::jsonb,
                quota = \(quotaJSON(t))::jsonb, revision = revision + 1, updated_at = now()
            WHERE id = \(id)
            """,
            logger: logger
        )
        try await event(
            c,
            logger: logger,
            product: id,
            bank: bank,
            keyId: keyId,
            event: "updated",
            from: current.status,
            to: current.status,
            revision: current.revision + 1
        )
        return try await find(c, logger: logger, id: id, bank: bank)
    }

    /// Publishes, pauses or retires; 409 (ProductError.state) from a state that does not allow it.
    public static func move(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        keyId: UUID?,
        to target: ProductStatus
    ) async throws -> Product {
        let current = try await find(c, logger: logger, id: id, bank: bank, lock: true)
        guard let from = transitions[target], from.contains(current.status) else {
            throw ProductError.state(current: current.status, wanted: target.rawValue)
        }
        try await c.query("UPDATE product SET status = \(target.rawValue), updated_at = now() WHERE id = \(id)", logger: logger)
        try await event(
            c,
            logger: logger,
            product: id,
            bank: bank,
            keyId: keyId,
            event: target.rawValue,
            from: current.status,
            to: target,
            revision: current.revision
        )
        return try await find(c, logger: logger, id: id, bank: bank)
    }

    static func event(
        _ c: PostgresConnection,
        logger: Logger,
        product: UUID,
        bank: UUID,
        keyId: UUID?,
        event: String,
        from: ProductStatus?,
        to: ProductStatus,
        revision: Int
    ) async throws {
        try await c.query(
            """
            INSERT INTO product_event (product_id, actor_org_id, actor_key_id, event, from_status, to_status, revision)
            VALUES (\(product), \(bank), \(keyId), \(event), \(from?.rawValue), \(to.rawValue), \(revision))
            """,
            logger: logger
        )
    }
}
