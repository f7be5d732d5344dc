import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PostgresNIO
import Store

/// What a business's authorisations and its own reports do — checks, one transaction, the audit
/// row — whichever face asks: the API's routes (CreditRoutes) and the portal's forms call these.
struct CreditActions {
    let db: Database
    let signer: ReportSigner?

    struct NewAuthorisation: Decodable {
        let bankOrgId: UUID
        let scopes: [AuthorisationScope]
        let purpose: AccessPurpose
        let expiresAt: Date
    }

    /// A business authorises a bank (the API's and the portal's way alike).
    func grant(_ call: Call, _ body: NewAuthorisation) async throws -> Authorisation {
        let uscc = try call.ownUSCC()
        guard !body.scopes.isEmpty else { throw Problem.invalid("scopes", "at least one of profile, report, records") }
        return try await db.withTransaction { c in
            do {
                let a = try await Authorisations.grant(
                    c,
                    logger: call.logger,
                    enterpriseOrgId: call.caller.orgId,
                    uscc: uscc,
                    bankOrgId: body.bankOrgId,
                    scopes: body.scopes,
                    purpose: body.purpose,
                    expiresAt: body.expiresAt
                )
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    call.auditEntry(
                        action: "authorisation.grant",
                        result: .allowed,
                        subjectUSCC: uscc,
                        subjectId: a.id.uuidString.lowercased(),
                        purpose: a.purpose.rawValue,
                        detail: ["bank_org_id": a.bankOrgId.uuidString.lowercased()]
                    )
                )
                return a
            } catch AuthorisationError.notABank {
                throw Problem.invalid("bank_org_id", "the id of a bank organisation")
            } catch let AuthorisationError.badExpiry(why) {
                throw Problem.invalid("expires_at", why)
            }
        }
    }

    /// A business revokes one of its authorisations: effective for every read that starts after.
    func revoke(_ call: Call, id: UUID) async throws -> Authorisation {
        let uscc = try call.ownUSCC()
        return try await db.withTransaction { c in
            guard let a = try await Authorisations.revoke(c, logger: call.logger, id: id, uscc: uscc) else {
                throw Problem(.notFound, "no authorisation \(id) of yours")
            }
            try await Audit.record(
                on: c,
                logger: call.logger,
                call.auditEntry(action: "authorisation.revoke", result: .allowed, subjectUSCC: uscc, subjectId: id.uuidString.lowercased())
            )
            return a
        }
    }

    /// A business's own signed report, as of now or a past moment.
    func ownReport(_ call: Call, asOf: Date?) async throws -> SignedReport {
        let uscc = try call.ownUSCC()
        let signer = try requireSigner()
        return try await db.withTransaction { c in
            do {
                let r = try await Reports.create(
                    c,
                    logger: call.logger,
                    signer: signer,
                    uscc: uscc,
                    requestedBy: call.caller.orgId,
                    requesterName: call.caller.orgName,
                    requesterKind: call.caller.kind.rawValue,
                    authorisationId: nil,
                    purpose: "self",
                    asOf: asOf
                )
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    call.auditEntry(action: "report.create", result: .allowed, subjectUSCC: uscc, subjectId: r.number, purpose: "self")
                )
                return r
            } catch let e as ReportError { throw Self.mapReportError(e) }
        }
    }

    func requireSigner() throws -> ReportSigner {
        guard let signer else { throw Problem(.notReady, "no report signing key is configured (XYD_SIGNING_KEY_FILE)") }
        return signer
    }

    static func mapReportError(_ e: ReportError) -> Problem {
        switch e {
        case .noScorecard: Problem(.conflict, e.description)
        case .noRecords: Problem(.notFound, e.description)
        case .future: Problem.invalid("as_of", "a moment not in the future")
        }
    }
}
