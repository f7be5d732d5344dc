import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// What objection operations do — checks, one transaction, the audit row — whichever face
/// asks: the API's routes (ObjectionRoutes) and the portal's forms call these same functions.
struct ObjectionActions {
    let db: Database

    struct Raise: Decodable {
        let dataset: String
        let recordId: String
        let reason: String
        let evidence: String?
    }

    struct Resolve: Decodable {
        let resolution: String?
        let reason: String?
    }

    static func mapped(_ e: Objections.Failure) -> Problem {
        switch e {
        case .noSuchRecord: Problem(.notFound, e.description, zh: e.zh)
        case .notFound: Problem(.notFound, e.description, zh: e.zh)
        case .alreadyOpen, .state: Problem(.conflict, e.description, zh: e.zh)
        }
    }

    /// An operator's decision on an objection.
    enum Decision: Sendable {
        /// The record was wrong: corrected (or withdrawn) by the provider; optional words for the business.
        case uphold(resolution: String?)
        /// The record stands; why (the business sees it).
        case reject(reason: String?)
        /// Neither confirmed nor refuted; what was checked (shown with the record).
        case unverifiable(account: String?)

        var action: String {
            switch self {
            case .uphold: "objection.uphold"
            case .reject: "objection.reject"
            case .unverifiable: "objection.unverifiable"
            }
        }
    }

    /// An operator decides an objection (the API's and the console's way alike): the words checked,
    /// the decision and its audit row in one transaction.
    func decide(_ call: Call, id: UUID, _ decision: Decision) async throws -> Objections.Objection {
        let operatorOrg = call.caller.orgId
        let logger = call.logger
        let work: @Sendable (PostgresConnection) async throws -> Objections.Objection
        switch decision {
        case .uphold(let resolution):
            let words = try FieldChecks.text(resolution, "resolution", max: Objections.maxReason, required: false)
            work = { c in try await Objections.uphold(c, logger: logger, id: id, by: operatorOrg, resolution: words) }
        case .reject(let reason):
            let words =
                try FieldChecks.text(
                    reason,
                    "reason",
                    max: Objections.maxReason,
                    reason: "why it is rejected, 1 to \(Objections.maxReason) characters (the business sees it)"
                ) ?? ""
            work = { c in try await Objections.reject(c, logger: logger, id: id, by: operatorOrg, reason: words) }
        case .unverifiable(let account):
            let words =
                try FieldChecks.text(
                    account,
                    "reason",
                    max: Objections.maxReason,
                    reason:
                        "what was checked and why it could not be confirmed, 1 to \(Objections.maxReason) characters (shown with the record)"
                ) ?? ""
            work = { c in try await Objections.markUnverifiable(c, logger: logger, id: id, by: operatorOrg, account: words) }
        }
        do {
            return try await call.audited(
                db,
                action: decision.action,
                subject: { Call.AuditSubject(uscc: $0.uscc, id: id.uuidString.lowercased()) },
                do: work
            )
        } catch let e as Objections.Failure { throw Self.mapped(e) }
    }

    /// A business objects to one of its own records (the API's and the portal's way alike).
    func raise(_ call: Call, _ body: Raise) async throws -> Objections.Objection {
        let uscc = try call.ownUSCC()
        var checks = FieldChecks()
        let dataset = Dataset(rawValue: body.dataset)
        if dataset == nil { checks.fail("dataset", "one of \(Dataset.allCases.map(\.rawValue).joined(separator: ", "))", zh: "请选择数据集") }
        checks.text(body.recordId, "record_id", max: TextLimits.identifier)
        let reason = checks.text(body.reason, "reason", max: Objections.maxReason) ?? ""
        let evidence = checks.text(body.evidence, "evidence", max: Objections.maxEvidence, required: false)
        guard checks.errors.isEmpty, let dataset else { throw Problem.invalid(checks.errors) }
        do {
            return try await call.audited(
                db,
                action: "objection.raise",
                subject: { .init(uscc: uscc, id: $0.id.uuidString.lowercased()) },
                do: { c in
                    try await Objections.raise(
                        c,
                        logger: call.logger,
                        uscc: uscc,
                        org: call.caller.orgId,
                        dataset: dataset,
                        recordId: body.recordId,
                        reason: reason,
                        evidence: evidence,
                        today: Day.todayInChina()
                    )
                }
            )
        } catch let e as Objections.Failure { throw Self.mapped(e) }
    }

    struct NewStatement: Decodable {
        let dataset: String
        let recordId: String
        let text: String
    }

    static func mapped(_ e: Statements.Failure) -> Problem {
        switch e {
        case .noSuchRecord, .notFound: Problem(.notFound, e.description, zh: e.zh)
        case .already, .tooMany: Problem(.conflict, e.description, zh: e.zh)
        }
    }

    /// A business adds its statement (说明) to one of its records (API and portal alike).
    func addStatement(_ call: Call, _ body: NewStatement) async throws -> Statements.Statement {
        let uscc = try call.ownUSCC()
        var checks = FieldChecks()
        let dataset = Dataset(rawValue: body.dataset)
        if dataset == nil { checks.fail("dataset", "one of \(Dataset.allCases.map(\.rawValue).joined(separator: ", "))", zh: "请选择数据集") }
        checks.text(body.recordId, "record_id", max: TextLimits.identifier)
        let text = checks.text(body.text, "text", max: Statements.maxText) ?? ""
        guard checks.errors.isEmpty, let dataset else { throw Problem.invalid(checks.errors) }
        do {
            return try await call.audited(
                db,
                action: "statement.add",
                subject: {
                    .init(uscc: uscc, id: $0.id.uuidString.lowercased(), detail: ["record": "\(dataset.rawValue)/\(body.recordId)"])
                },
                do: { c in
                    try await Statements.add(
                        c,
                        logger: call.logger,
                        uscc: uscc,
                        org: call.caller.orgId,
                        dataset: dataset,
                        recordId: body.recordId,
                        text: text
                    )
                }
            )
        } catch let e as Statements.Failure { throw Self.mapped(e) }
    }

    func withdrawStatement(_ call: Call, id: UUID) async throws -> Statements.Statement {
        let uscc = try call.ownUSCC()
        do {
            return try await call.audited(
                db,
                action: "statement.withdraw",
                subject: { _ in .init(uscc: uscc, id: id.uuidString.lowercased()) },
                do: { c in try await Statements.withdraw(c, logger: call.logger, id: id, uscc: uscc) }
            )
        } catch let e as Statements.Failure { throw Self.mapped(e) }
    }
}
