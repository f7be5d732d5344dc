import CreditCore
import Foundation
import Hummingbird
import Store

/// People of an organisation (issue 22): its admin (or an operator) adds, lists, disables and
/// resets them; a bank's admin sets the amount above which an offer needs a manager.
struct UserRoutes {
    let db: Database
    let passwords: Passwords

    struct NewUser: Decodable {
        let login: String
        let name: String
        let role: String
        let staffNumber: String?
        let secondFactor: Bool?
    }

    struct Credentials: Encodable {
        let user: Users.User
        let password: String
        let totpSecret: String?
        let totpUri: String?
    }

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

    static func problem(_ e: Users.Refusal) -> Problem {
        switch e {
        case .invalid(let field, let why): .invalid(field, why)
        case .loginTaken, .tooManyUsers, .lastAdmin: Problem(.conflict, e.description)
        case .notFound: Problem(.notFound, e.description)
        }
    }

    func register(_ api: API) {
        api.on(.get, "/v1/users") { call in
            try await list(call, org: call.caller.orgId)
        }
        api.on(.post, "/v1/users") { call in
            try await create(call, org: call.caller.orgId)
        }
        api.on(.get, "/v1/orgs/:orgId/users") { call in
            try await list(call, org: try call.uuidParameter("orgId"))
        }
        api.on(.post, "/v1/orgs/:orgId/users") { call in
            try await create(call, org: try call.uuidParameter("orgId"))
        }
        api.on(.post, "/v1/users/:userId/disable") { call in
            let id = try call.uuidParameter("userId")
            let org = call.caller.orgId
            do {
                return try await call.auditedChange(db, action: "user.disable", subjectId: id, subjectUSCC: { _ in nil }) { c in
                    try await Users.disable(on: c, logger: call.logger, orgId: org, id: id)
                }
            } catch let e as Users.Refusal {
                throw Self.problem(e)
            }
        }
        api.on(.post, "/v1/users/:userId/reset") { call in
            let id = try call.uuidParameter("userId")
            let body = try await call.decodeIfPresent(Reset.self)
            let org = call.caller.orgId
            guard let user = try await db.withConnection({ c in try await Users.find(on: c, logger: call.logger, orgId: org, id: id) })
            else { throw Problem(.notFound, Users.Refusal.notFound.description) }
            let password = Passwords.generate()
            let hash = try await hashed(password)
            let secret = body?.secondFactor == true ? TOTP.newSecret() : nil
            let made = try await call.audited(
                db,
                action: "user.reset",
                subject: { _ in .init(id: id.uuidString.lowercased(), detail: ["second_factor": secret == nil ? "kept" : "new"]) },
                do: { c in
                    try await Users.setPassword(on: c, logger: call.logger, id: user.id, passwordHash: hash, byAdmin: true)
                    if let secret { try await Users.resetSecondFactor(on: c, logger: call.logger, id: user.id, secret: secret) }
                    return Credentials(
                        user: try await Users.find(on: c, logger: call.logger, orgId: org, id: id)!,
                        password: password,
                        totpSecret: secret.map(Base32.encode),
                        totpUri: secret.map { TOTP.uri(secret: $0, login: user.login) }
                    )
                }
            )
            return try JSON.response(made)
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
            let body = try await inner.decode(BankSettings.self)
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

    /// A password hashed off the event loops; 503 when too many are being hashed at once.
    func hashed(_ password: String) async throws -> String {
        do { return try await passwords.hash(password) } catch let busy as Passwords.Busy {
            throw Problem(.notReady, busy.description, headers: [.retryAfter: "2"])
        }
    }

    func list(_ call: Call, org: UUID) async throws -> Response {
        struct Page: Encodable { let items: [Users.User] }
        let users = try await db.withConnection { c -> [Users.User]? in
            guard try await Register.organisation(on: c, logger: call.logger, id: org) != nil else { return nil }
            return try await Users.list(on: c, logger: call.logger, orgId: org)
        }
        guard let users else { throw Problem(.notFound, "no organisation \(org)") }
        return try JSON.response(Page(items: users))
    }

    func create(_ call: Call, org: UUID) async throws -> Response {
        let body = try await call.decode(NewUser.self)
        let kind = try await db.withConnection { c in try await Register.organisation(on: c, logger: call.logger, id: org)?.kind }
        guard let kind else { throw Problem(.notFound, "no organisation \(org)") }
        guard let role = OrgRole(rawValue: body.role) else {
            throw Problem.invalid("role", "one of \(OrgRole.roles(of: kind).map(\.rawValue).joined(separator: ", "))")
        }
        do {
            try Users.check(login: body.login, name: body.name, staffNumber: body.staffNumber, role: role, kind: kind)
        } catch let e as Users.Refusal {
            throw Self.problem(e)
        }
        _ = try FieldChecks.text(body.name, "name", max: Users.nameMaxCharacters)
        _ = try FieldChecks.text(body.staffNumber, "staff_number", max: Users.staffNumberMaxCharacters, required: false)
        let password = Passwords.generate()
        let hash = try await hashed(password)
        let secret = (body.secondFactor == true || OrgRole.secondFactorRequired(for: kind)) ? TOTP.newSecret() : nil
        let creator = call.caller.user?.id
        do {
            let made = try await call.audited(
                db,
                action: "user.create",
                subject: { (m: Credentials) in
                    .init(id: m.user.id.uuidString.lowercased(), detail: ["org_id": org.uuidString.lowercased(), "role": role.rawValue])
                },
                do: { c in
                    let user = try await Users.create(
                        on: c,
                        logger: call.logger,
                        orgId: org,
                        login: body.login,
                        name: body.name,
                        staffNumber: body.staffNumber,
                        role: role,
                        passwordHash: hash,
                        totpSecret: secret,
                        createdBy: creator
                    )
                    return Credentials(
                        user: user,
                        password: password,
                        totpSecret: secret.map(Base32.encode),
                        totpUri: secret.map { TOTP.uri(secret: $0, login: user.login) }
                    )
                }
            )
            return try JSON.response(made, status: .created)
        } catch let e as Users.Refusal {
            throw Self.problem(e)
        }
    }
}
