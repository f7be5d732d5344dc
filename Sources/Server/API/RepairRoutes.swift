import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// Credit repair: a business applies to end a penalty's publication early; operators decide.
struct RepairRoutes {
    let db: Database

    var actions: RepairActions { RepairActions(db: db) }

    func register(_ api: API) {
        api.on(.get, "/v1/me/repairs/commitments") { _ in
            struct Text: Encodable {
                let id: String
                let zh: String
                let en: String
            }
            return try JSON.response(Page(items: RepairCommitment.catalogue.map { Text(id: $0.id, zh: $0.zh, en: $0.en) }, next: nil))
        }
        api.on(.post, "/v1/me/repairs") { call in
            let body = try await call.decode(RepairActions.Apply.self)
            return try JSON.response(try await actions.apply(call, body), status: .created)
        }
        api.on(.get, "/v1/me/repairs") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await Repairs.mine(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.get, "/v1/repairs") { call in
            let state = call.request.uri.queryParameters.get("state")
            if let state, !["open", "approved", "rejected"].contains(state) {
                throw Problem.invalid("state", "open, approved or rejected")
            }
            let items = try await db.withConnection { c in try await Repairs.all(c, logger: call.logger, state: state) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.post, "/v1/repairs/:repairId/approve") { call in
            let id = try call.uuidParameter("repairId")
            return try await decide(call, id: id, action: "repair.approve") { c in
                try await Repairs.approve(c, logger: call.logger, id: id, by: call.caller.orgId, today: Day.todayInChina())
            }
        }
        api.on(.post, "/v1/repairs/:repairId/reject") { call in
            let id = try call.uuidParameter("repairId")
            let reason =
                try FieldChecks.text(
                    try await call.decode(RepairActions.Reject.self).reason,
                    "reason",
                    max: TextLimits.decisionReason,
                    reason: "why, 1 to \(TextLimits.decisionReason) characters (the business sees it)"
                ) ?? ""
            return try await decide(call, id: id, action: "repair.reject") { c in
                try await Repairs.reject(c, logger: call.logger, id: id, by: call.caller.orgId, reason: reason)
            }
        }
    }

    /// An operator's decision (API only), in one transaction with its audit row.
    func decide(
        _ call: Call,
        id: UUID,
        action: String,
        _ body: @Sendable (PostgresConnection) async throws -> Repairs.Application
    ) async throws -> Response {
        do {
            return try await call.auditedChange(db, action: action, subjectId: id, subjectUSCC: { $0.uscc }, body)
        } catch let e as Repairs.Failure { throw RepairActions.mapped(e) }
    }
}
