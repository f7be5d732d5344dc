import CreditCore
import Foundation
import Hummingbird
import Store

/// What user management does — checks, the password hashed off the loops, one transaction, the
/// audit row — whichever face asks: the API (UserRoutes) and the portal's people page.
struct UserActions {
    let db: Database
    let passwords: Passwords

    struct NewUser: Decodable {
        let login: String
        let name: String
        let role: String
        let staffNumber: String?
        let secondFactor: Bool?
    }

    /// What a new or reset person is told once.
    struct Credentials: Encodable {
        let user: Users.User
        let password: String
        let totpSecret: String?
        let totpUri: String?
    }

    /// Each field's rule in Chinese.
    static let zh: [String: String] = [
        "login": "账号为 3 至 \(Login.maxCharacters) 个小写字母、数字、“.”“_”“-”，以字母或数字开头",
        "name": "姓名为 1 至 \(Users.nameMaxCharacters) 个字符，不含控制字符",
        "staff_number": "工号为 1 至 \(Users.staffNumberMaxCharacters) 个字符，不含控制字符",
        "role": "请选择该类机构的角色",
    ]

    static func problem(_ e: Users.Refusal) -> Problem {
        switch e {
        case .invalid(let field, let why): .invalid(field, why, zh: zh[field])
        case .loginTaken: Problem(.conflict, e.description, zh: "这个账号已被使用，请换一个。")
        case .tooManyUsers: Problem(.conflict, e.description, zh: "该机构的人员已达上限（\(Users.maxUsersPerOrganisation) 人）。")
        case .lastAdmin: Problem(.conflict, e.description, zh: "这是该机构最后一位管理员，不能停用；请先指定另一位管理员。")
        case .notFound: Problem(.notFound, e.description, zh: "该机构没有这个人员。")
        }
    }

    /// A password hashed off the event loops; 503 when too many are being hashed at once.
    func hashed(_ password: String) async throws -> String {
        do { return try await passwords.hash(password) } catch let busy as Passwords.Busy {
            throw Problem(.notReady, busy.description, headers: [.retryAfter: "2"])
        }
    }

    func list(_ call: Call, org: UUID) async throws -> [Users.User] {
        let users = try await db.withConnection { c -> [Users.User]? in
            guard try await Register.organisation(on: c, logger: call.logger, id: org) != nil else { return nil }
            return try await Users.list(on: c, logger: call.logger, orgId: org)
        }
        guard let users else { throw Problem(.notFound, "no organisation \(org)") }
        return users
    }

    func create(_ call: Call, org: UUID, _ body: NewUser) async throws -> Credentials {
        let kind = try await db.withConnection { c in try await Register.organisation(on: c, logger: call.logger, id: org)?.kind }
        guard let kind else { throw Problem(.notFound, "no organisation \(org)") }
        guard let role = OrgRole(rawValue: body.role) else {
            throw Problem.invalid("role", "one of \(OrgRole.roles(of: kind).map(\.rawValue).joined(separator: ", "))", zh: Self.zh["role"])
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
            return try await call.audited(
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
        } catch let e as Users.Refusal {
            throw Self.problem(e)
        }
    }

    /// Disables a person of the caller's organisation — or, for an operator, of `org` — (not the
    /// last admin).
    func disable(_ call: Call, id: UUID, org: UUID? = nil) async throws -> Users.User {
        let org = org ?? call.caller.orgId
        do {
            return try await call.audited(
                db,
                action: "user.disable",
                subject: { _ in .init(id: id.uuidString.lowercased(), detail: ["org_id": org.uuidString.lowercased()]) },
                do: { c in try await Users.disable(on: c, logger: call.logger, orgId: org, id: id) }
            )
        } catch let e as Users.Refusal {
            throw Self.problem(e)
        }
    }

    /// A new one-time password (and with `secondFactor` a new TOTP secret) for a person of the
    /// caller's organisation (an operator: of `org`); their sessions end, a lock-out is lifted.
    func reset(_ call: Call, id: UUID, secondFactor: Bool, org: UUID? = nil) async throws -> Credentials {
        let org = org ?? call.caller.orgId
        guard let user = try await db.withConnection({ c in try await Users.find(on: c, logger: call.logger, orgId: org, id: id) })
        else { throw Problem(.notFound, Users.Refusal.notFound.description) }
        let password = Passwords.generate()
        let hash = try await hashed(password)
        let secret = secondFactor ? TOTP.newSecret() : nil
        return try await call.audited(
            db,
            action: "user.reset",
            subject: { _ in
                .init(
                    id: id.uuidString.lowercased(),
                    detail: ["second_factor": secret == nil ? "kept" : "new", "org_id": org.uuidString.lowercased()]
                )
            },
            do: { c in
                try await Users.setPassword(on: c, logger: call.logger, id: user.id, passwordHash: hash, byAdmin: true)
                if let secret { try await Users.resetSecondFactor(on: c, logger: call.logger, id: user.id, secret: secret) }
                return Credentials(
                    user: try await Users.find(on: c, logger: call.logger, orgId: org, id: id) ?? user,
                    password: password,
                    totpSecret: secret.map(Base32.encode),
                    totpUri: secret.map { TOTP.uri(secret: $0, login: user.login) }
                )
            }
        )
    }
}
