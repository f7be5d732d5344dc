import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// A business's financing demands (its own only): post, list, see the matching products and
/// the near misses with every check explained, withdraw.
struct DemandRoutes {
    let db: Database
    var maxBanks: Int = Demands.defaultMaxBanks
    var actions: DemandActions { DemandActions(db: db, maxBanks: maxBanks) }

    func registerBank(_ api: API) {
        api.on(.get, "/v1/demands") { call in
            let items = try await db.withConnection { c in try await Demands.bankQueue(c, logger: call.logger, bank: call.caller.orgId) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.post, "/v1/demands/:demandId/take-up") { call in
            try JSON.response(try await actions.takeUp(call, id: try call.uuidParameter("demandId")))
        }
        api.on(.post, "/v1/demands/:demandId/pass") { call in
            try JSON.response(
                try await actions.pass(
                    call,
                    id: try call.uuidParameter("demandId"),
                    try await call.decodeIfPresent(DemandActions.Pass.self)
                )
            )
        }
        api.on(.post, "/v1/demands/:demandId/offer") { call in
            let g = try await call.decode(DemandActions.OfferBody.self)
            return try JSON.response(try await actions.offer(call, id: try call.uuidParameter("demandId"), g))
        }
        api.on(.post, "/v1/demands/:demandId/decline") { call in
            let d = try await call.decode(DemandActions.Decline.self)
            return try JSON.response(try await actions.decline(call, id: try call.uuidParameter("demandId"), d))
        }
        api.on(.post, "/v1/demands/:demandId/disburse") { call in
            let b = try await call.decode(DemandActions.Disbursement.self)
            return try JSON.response(try await actions.disburse(call, id: try call.uuidParameter("demandId"), b))
        }
    }

    func registerOutcomes(_ api: API) {
        api.on(.post, "/v1/demands/:demandId/outcomes") { call in
            let id = try call.uuidParameter("demandId")
            let body = try await call.decode(DemandActions.OutcomeBody.self)
            return try JSON.response(DemandActions.Outcomes(items: try await actions.reportOutcome(call, id: id, body)))
        }
        api.on(.get, "/v1/demands/:demandId/outcomes") { call in
            let id = try call.uuidParameter("demandId")
            do {
                // The lender's own loan only, and every read audited with the business it concerns.
                let (_, items) = try await call.audited(
                    db,
                    action: "loan.outcomes_read",
                    subject: { .init(uscc: $0.0.uscc, id: id.uuidString.lowercased()) },
                    do: { c in
                        try await Demands.outcomesForLender(c, logger: call.logger, id: id, bank: call.caller.orgId)
                    }
                )
                return try JSON.response(DemandActions.Outcomes(items: items))
            } catch let e as DemandError { throw DemandActions.mapped(e) }
        }
    }

    func register(_ api: API) {
        registerBank(api)
        registerOutcomes(api)
        api.on(.post, "/v1/me/demands") { call in
            let body = try await call.decode(DemandActions.NewDemand.self)
            return try JSON.response(try await actions.post(call, body), status: .created)
        }
        api.on(.get, "/v1/me/demands") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await Demands.list(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.get, "/v1/me/demands/:demandId") { call in
            try JSON.response(try await actions.mine(call, id: try call.uuidParameter("demandId")))
        }
        api.on(.post, "/v1/me/demands/:demandId/offers/:offerId/accept") { call in
            try JSON.response(
                try await actions.accept(call, id: try call.uuidParameter("demandId"), offer: try call.uuidParameter("offerId"))
            )
        }
        api.on(.post, "/v1/me/demands/:demandId/withdraw") { call in
            try JSON.response(try await actions.withdraw(call, id: try call.uuidParameter("demandId")))
        }
    }
}
