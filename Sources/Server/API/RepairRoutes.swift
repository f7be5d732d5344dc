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
            try JSON.response(try await actions.approve(call, id: try call.uuidParameter("repairId")))
        }
        api.on(.post, "/v1/repairs/:repairId/reject") { call in
            let id = try call.uuidParameter("repairId")
            let body = try await call.decode(RepairActions.Reject.self)
            return try JSON.response(try await actions.reject(call, id: id, reason: body.reason))
        }
    }
}
