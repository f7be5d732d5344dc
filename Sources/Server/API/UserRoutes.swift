import CreditCore
import Foundation
import Hummingbird
import Store

/// People of an organisation (issue 22): its admin (or an operator) adds, lists, disables and
/// resets them; a bank's admin sets the amount above which an offer needs a manager.
struct UserRoutes {
    let db: Database
    let users: UserActions

    struct Reset: Decodable { let secondFactor: Bool? }

    struct BankSettings: Codable {
        let officerOfferLimitFen: Int64?
        enum CodingKeys: String, CodingKey { case officerOfferLimitFen }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(officerOfferLimitFen, forKey: .officerOfferLimitFen)  // null when none, not absent
        }
    }

    static let maxOfferLimitFen: Int64 = 100_000_000_000

    func register(_ api: API) {
        struct Page: Encodable { let items: [Users.User] }
        api.on(.get, "/v1/users") { call in
            try JSON.response(Page(items: try await users.list(call, org: call.caller.orgId)))
        }
        api.on(.post, "/v1/users") { call in
            let body = try await call.decode(UserActions.NewUser.self)
            return try JSON.response(try await users.create(call, org: call.caller.orgId, body), status: .created)
        }
        api.on(.get, "/v1/orgs/:orgId/users") { call in
            try JSON.response(Page(items: try await users.list(call, org: try call.uuidParameter("orgId"))))
        }
        api.on(.post, "/v1/orgs/:orgId/users") { call in
            let org = try call.uuidParameter("orgId")
            let body = try await call.decode(UserActions.NewUser.self)
            return try JSON.response(try await users.create(call, org: org, body), status: .created)
        }
        api.on(.post, "/v1/orgs/:orgId/users/:userId/disable") { call in
            let org = try call.uuidParameter("orgId")
            return try JSON.response(try await users.disable(call, id: try call.uuidParameter("userId"), org: org))
        }
        api.on(.post, "/v1/orgs/:orgId/users/:userId/reset") { call in
            let org = try call.uuidParameter("orgId")
            let id = try call.uuidParameter("userId")
            let body = try await call.decodeIfPresent(Reset.self)
            return try JSON.response(try await users.reset(call, id: id, secondFactor: body?.secondFactor == true, org: org))
        }
        api.on(.post, "/v1/users/:userId/disable") { call in
            try JSON.response(try await users.disable(call, id: try call.uuidParameter("userId")))
        }
        api.on(.post, "/v1/users/:userId/reset") { call in
            let id = try call.uuidParameter("userId")
            let body = try await call.decodeIfPresent(Reset.self)
            return try JSON.response(try await users.reset(call, id: id, secondFactor: body?.secondFactor == true))
        }
        api.on(.get, "/v1/bank/settings") { call in
            let org = call.caller.orgId
            let limit = try await db.withConnection { c in try await Register.officerOfferLimit(on: c, logger: call.logger, bank: org) }
            return try JSON.response(BankSettings(officerOfferLimitFen: limit))
        }
        api.on(.put, "/v1/bank/settings") { call in
            // A limit is only ever removed on purpose: the field must be there (null for none),
            // and nothing else may be (a misspelt field must not read as "no limit").
            let (raw, inner) = try await call.withBodyRead(limit: call.context.bodyLimit)
            // Malformed JSON, or a number the field cannot hold, is said as such first.
            let body = try await inner.decode(BankSettings.self)
            let fields = (try? JSONSerialization.jsonObject(with: Data(buffer: raw))) as? [String: Any]
            guard let fields, fields.keys.contains("officer_offer_limit_fen") else {
                throw Problem.invalid(
                    "officer_offer_limit_fen",
                    "required: an amount in fen from 1 to \(Self.maxOfferLimitFen), or null for no limit"
                )
            }
            if let other = fields.keys.sorted().first(where: { $0 != "officer_offer_limit_fen" }) {
                throw Problem.invalid(other, "not a setting (the only one is officer_offer_limit_fen)")
            }
            if let limit = body.officerOfferLimitFen, !(1...Self.maxOfferLimitFen).contains(limit) {
                throw Problem.invalid("officer_offer_limit_fen", "from 1 to \(Self.maxOfferLimitFen) fen, or null for no limit")
            }
            let org = call.caller.orgId
            let saved = try await call.audited(
                db,
                action: "bank.settings",
                subject: { _ in
                    .init(
                        id: org.uuidString.lowercased(),
                        detail: ["officer_offer_limit_fen": body.officerOfferLimitFen.map(String.init) ?? "none"]
                    )
                },
                do: { c in
                    try await Register.setOfficerOfferLimit(on: c, logger: call.logger, bank: org, limit: body.officerOfferLimitFen)
                    return BankSettings(officerOfferLimitFen: body.officerOfferLimitFen)
                }
            )
            return try JSON.response(saved)
        }
    }
}
