import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// What repair operations do — checks, one transaction, the audit row — whichever face
/// asks: the API's routes (RepairRoutes) and the portal's forms call these same functions.
struct RepairActions {
    let db: Database

    struct Apply: Decodable {
        let recordId: String
        let corrections: [String]
        let evidence: String
        /// The credit commitment text signed (信用承诺书, from `GET /v1/repairs/commitments`) and
        /// the name of the person signing for the business.
        let commitmentId: String
        let signedBy: String
    }

    struct Reject: Decodable { let reason: String? }

    /// An operator approves a repair application (API and console alike), with its audit row.
    func approve(_ call: Call, id: UUID) async throws -> Repairs.Application {
        let operatorOrg = call.caller.orgId
        let logger = call.logger
        return try await decide(call, id: id, action: "repair.approve") { c in
            try await Repairs.approve(c, logger: logger, id: id, by: operatorOrg, today: Day.todayInChina())
        }
    }

    /// An operator rejects a repair application, saying why (the business sees it).
    func reject(_ call: Call, id: UUID, reason: String?) async throws -> Repairs.Application {
        let words =
            try FieldChecks.text(
                reason,
                "reason",
                max: TextLimits.decisionReason,
                reason: "why, 1 to \(TextLimits.decisionReason) characters (the business sees it)"
            ) ?? ""
        let operatorOrg = call.caller.orgId
        let logger = call.logger
        return try await decide(call, id: id, action: "repair.reject") { c in
            try await Repairs.reject(c, logger: logger, id: id, by: operatorOrg, reason: words)
        }
    }

    func decide(
        _ call: Call,
        id: UUID,
        action: String,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Repairs.Application
    ) async throws -> Repairs.Application {
        do {
            return try await call.audited(
                db,
                action: action,
                subject: { Call.AuditSubject(uscc: $0.uscc, id: id.uuidString.lowercased()) },
                do: body
            )
        } catch let e as Repairs.Failure { throw Self.mapped(e) }
    }

    static func mapped(_ e: Repairs.Failure) -> Problem {
        switch e {
        case .noSuchPenalty, .notFound: Problem(.notFound, e.description, zh: e.zh)
        case .tooEarly, .notPublished, .alreadyOpen, .state: Problem(.conflict, e.description, zh: e.zh)
        }
    }

    /// A business applies for repair of one of its penalties (the API's and the portal's way alike).
    func apply(_ call: Call, _ body: Apply) async throws -> Repairs.Application {
        let uscc = try call.ownUSCC()
        var checks = FieldChecks()
        checks.text(body.recordId, "record_id", max: TextLimits.identifier, reason: "the penalty's record id")
        if body.corrections.isEmpty || !Set(body.corrections).isSubset(of: Repairs.corrections) {
            checks.fail("corrections", "one or more of \(Repairs.corrections.sorted().joined(separator: ", "))", zh: "请至少勾选一项已完成的纠正")
        }
        let evidence = checks.text(body.evidence, "evidence", max: Repairs.maxEvidence) ?? ""
        let commitment = RepairCommitment.find(body.commitmentId)
        if commitment == nil {
            checks.fail(
                "commitment_id",
                "one of \(RepairCommitment.catalogue.map(\.id).joined(separator: ", "))",
                zh: "请阅读并签署信用承诺书"
            )
        }
        let signedBy = checks.text(body.signedBy, "signed_by", max: Repairs.maxSignerName) ?? ""
        try checks.check()
        guard let commitment else { throw Problem.invalid(checks.errors) }
        do {
            return try await call.audited(
                db,
                action: "repair.apply",
                subject: { .init(uscc: uscc, id: $0.id.uuidString.lowercased()) },
                do: {
                    c in
                    try await Repairs.apply(
                        c,
                        logger: call.logger,
                        uscc: uscc,
                        org: call.caller.orgId,
                        recordId: body.recordId,
                        // The signed commitment is itself a correction made (the catalogue's text, signed).
                        corrections: Array(Set(body.corrections).union(["commitment_made"])).sorted(),
                        evidence: evidence,
                        commitment: commitment,
                        signedBy: signedBy,
                        today: Day.todayInChina()
                    )
                }
            )
        } catch let e as Repairs.Failure { throw Self.mapped(e) }
    }

}
