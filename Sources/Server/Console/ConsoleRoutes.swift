import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// The operator's console (`/console`, issue 22): operator people sign in with their password
/// and authenticator code, and handle objections and repair applications by their deadlines,
/// organisations with their people and keys, and watch the feeds, the scorecards and the
/// statistics' rebuilds. Every change goes through the same actions, checks and audit rows as the
/// API (`ObjectionActions`, `RepairActions`, `OrgActions`, `UserActions`); the rank each needs is
/// the policy table's (`x-rank` in the spec): organisations, people and keys are an operator
/// admin's.
struct ConsoleRoutes {
    let db: Database
    let passwords: Passwords
    /// The statistics' rebuild period (a rebuild is late after `Stats.latePeriods` of them).
    let statsIntervalSeconds: Int

    /// Forms are small: a decision's reason at most.
    static let maxFormBytes = 16_384
    static let maxQuery = 40

    var objections: ObjectionActions { ObjectionActions(db: db) }
    var repairs: RepairActions { RepairActions(db: db) }
    var orgs: OrgActions { OrgActions(db: db) }
    var people: UserActions { UserActions(db: db, passwords: passwords) }

    static func page(_ call: Call, _ title: (String, String), current: String, body: String, status: HTTPResponse.Status = .ok) -> Response
    {
        let lang = Lang(call.request)
        return PortalRoutes.html(call, title: lang.t(title.0, title.1), current: current, body: body, status: status)
    }

    func register(_ api: API) {
        registerSignIn(api)
        api.on(.get, "/console") { call in
            let interval = statsIntervalSeconds
            let m = try await db.withConnection { c in
                var m = ConsolePages.Overview()
                let open = try await Objections.all(c, logger: call.logger, state: "open")
                m.objectionsOpen = open.count
                m.objectionsOverdue = open.filter(\.overdue).count
                let repairs = try await Repairs.all(c, logger: call.logger, state: "open")
                m.repairsOpen = repairs.count
                m.repairsOverdue = repairs.filter(\.overdue).count
                m.activatedAt = try await ConsoleReads.activations(c, logger: call.logger).first?.activatedAt
                m.freshness = try await Stats.freshness(c, logger: call.logger, intervalSeconds: interval)
                m.tables = try await ConsoleReads.statTables(c, logger: call.logger)
                return m
            }
            var model = m
            model.feeds = try await IngestStore.status(db)
            model.active = try await Scorecards.list(db).first(where: \.active)
            return Self.page(call, ("运营总览", "Overview"), current: "/console", body: ConsolePages.overview(model, lang: Lang(call.request)))
        }
        registerGovernance(api)
        registerOrganisations(api)
        registerPeopleAndKeys(api)
        api.on(.get, "/console/feeds") { call in
            let dataset = call.request.uri.queryParameters.get("dataset").flatMap { Dataset(rawValue: $0)?.rawValue }
            let status = try await IngestStore.status(db)
            let quarantined = try await db.withConnection { c in
                try await ConsoleReads.quarantined(c, logger: call.logger, dataset: dataset)
            }
            return Self.page(
                call,
                ("数据源", "Feeds"),
                current: "/console/feeds",
                body: ConsolePages.feeds(status, quarantined: quarantined, dataset: dataset, lang: Lang(call.request))
            )
        }
        api.on(.get, "/console/scorecards") { call in
            let cards = try await Scorecards.list(db)
            let activations = try await db.withConnection { c in try await ConsoleReads.activations(c, logger: call.logger) }
            return Self.page(
                call,
                ("评分卡", "Scorecards"),
                current: "/console/scorecards",
                body: ConsolePages.scorecards(cards, activations: activations, lang: Lang(call.request))
            )
        }
    }

    // MARK: Signing in

    func registerSignIn(_ api: API) {
        SignInForms.registerLogin(
            api,
            db: db,
            passwords: passwords,
            area: "/console",
            limit: Self.maxFormBytes,
            allowed: [.operator],
            target: { _, next in
                let n = WebSession.safeNext(next, area: "/console")
                return n == "/console/login" || n == "/console/password" ? "/console" : n
            },
            page: { lang, next, error, token in Self.loginPage(lang: lang, next: next, error: error, token: token) }
        )
        SignInForms.registerPassword(api, db: db, passwords: passwords, area: "/console", limit: Self.maxFormBytes) { call, lang, body in
            PortalHtml.page(
                title: lang.t("修改密码", "Change the password"),
                current: "/console/password",
                session: call.session,
                lang: lang,
                body: body
            )
        }
    }

    static func loginPage(lang: Lang, next: String, error: String?, token: String) -> String {
        PortalHtml.page(
            title: lang.t("运营后台登录", "Operators' console — sign in"),
            current: "/console/login",
            session: nil,
            lang: lang,
            body: SignInForms.box(
                lang,
                area: "/console",
                next: next,
                error: error,
                token: token,
                intro:
                    "<p>\(lang.t("平台运营人员用个人账号、密码和动态验证码登录。", "The service's operators sign in with their login, password and authenticator code."))</p>"
            )
        )
    }

    // MARK: Objections and repairs

    /// A list's state from the link: one of `states`, the first when absent or unknown.
    static func state(_ call: Call, _ states: [String]) -> String {
        call.request.uri.queryParameters.get("state").flatMap { states.contains($0) ? $0 : nil } ?? states[0]
    }

    func registerGovernance(_ api: API) {
        api.on(.get, "/console/objections") { call in
            let state = Self.state(call, ["open", "upheld", "rejected", "unverifiable"])
            let (items, names) = try await db.withConnection { c in
                let items = try await Objections.all(c, logger: call.logger, state: state)
                return (items, try await Disclosure.names(Array(Set(items.map(\.uscc))), c, logger: call.logger))
            }
            return Self.page(
                call,
                ("异议处理", "Objections"),
                current: "/console/objections",
                body: ConsolePages.objections(
                    items,
                    names: names,
                    state: state,
                    today: Day.todayInChina(),
                    lang: Lang(call.request),
                    session: call.session
                )
            )
        }
        let decisions: [(String, String, @Sendable ([String: String]) -> ObjectionActions.Decision)] = [
            ("uphold", "upheld", { f in .uphold(resolution: (f["resolution"] ?? "").isEmpty ? nil : f["resolution"]) }),
            ("reject", "objection_rejected", { f in .reject(reason: f["reason"]) }),
            ("unverifiable", "unverifiable", { f in .unverifiable(account: f["reason"]) }),
        ]
        for (verb, done, decision) in decisions {
            api.on(.post, "/console/objections/:objectionId/\(verb)") { call in
                try await PortalRoutes.act(call, back: "/console/objections") { f in
                    _ = try await objections.decide(call, id: try call.uuidParameter("objectionId"), decision(f))
                    return "/console/objections?done=\(done)"
                }
            }
        }
        api.on(.get, "/console/repairs") { call in
            let state = Self.state(call, ["open", "approved", "rejected"])
            let (items, names) = try await db.withConnection { c in
                let items = try await Repairs.all(c, logger: call.logger, state: state)
                return (items, try await Disclosure.names(Array(Set(items.map(\.uscc))), c, logger: call.logger))
            }
            return Self.page(
                call,
                ("信用修复申请", "Repair applications"),
                current: "/console/repairs",
                body: ConsolePages.repairs(
                    items,
                    names: names,
                    state: state,
                    today: Day.todayInChina(),
                    lang: Lang(call.request),
                    session: call.session
                )
            )
        }
        api.on(.post, "/console/repairs/:repairId/approve") { call in
            try await PortalRoutes.act(call, back: "/console/repairs") { _ in
                _ = try await repairs.approve(call, id: try call.uuidParameter("repairId"))
                return "/console/repairs?done=repair_approved"
            }
        }
        api.on(.post, "/console/repairs/:repairId/reject") { call in
            try await PortalRoutes.act(call, back: "/console/repairs") { f in
                _ = try await repairs.reject(call, id: try call.uuidParameter("repairId"), reason: f["reason"])
                return "/console/repairs?done=repair_rejected"
            }
        }
    }

    // MARK: Organisations, people and keys

    func registerOrganisations(_ api: API) {
        api.on(.get, "/console/orgs") { call in
            let q = call.request.uri.queryParameters
            let kind = q.get("kind").flatMap(OrgKind.init(rawValue:))
            let after = q.get("after").flatMap(UUID.init(uuidString:))
            let query = String((q.get("q") ?? "").trimmingCharacters(in: .whitespaces).prefix(Self.maxQuery))
            let limit = ConsolePages.orgPageSize
            let found = try await db.withConnection { c in
                try await Register.organisations(
                    on: c,
                    logger: call.logger,
                    kind: kind,
                    after: after,
                    limit: limit + 1,
                    matching: query.isEmpty ? nil : query
                )
            }
            let shown = Array(found.prefix(limit))
            return Self.page(
                call,
                ("机构与人员", "Organisations"),
                current: "/console/orgs",
                body: ConsolePages.organisations(
                    shown,
                    kind: kind,
                    query: query,
                    next: found.count > limit ? shown.last?.id : nil,
                    lang: Lang(call.request),
                    session: call.session,
                    mayManage: call.caller.reaches(.admin)
                )
            )
        }
        api.on(.post, "/console/orgs") { call in
            try await PortalRoutes.act(call, back: "/console/orgs") { f in
                guard let kind = OrgKind(rawValue: f["kind"] ?? "") else {
                    throw Problem.invalid("org_kind", "one of \(OrgKind.allCases.map(\.rawValue).joined(separator: ", "))", zh: "请选择机构类型")
                }
                let uscc = (f["uscc"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
                let org = try await orgs.create(
                    call,
                    OrgActions.NewOrganisation(kind: kind, name: f["name"] ?? "", uscc: uscc.isEmpty ? nil : uscc)
                )
                return "/console/orgs/\(org.id.uuidString.lowercased())?done=org_created"
            }
        }
        api.on(.get, "/console/orgs/:orgId") { call in
            try await orgPage(call, org: try call.uuidParameter("orgId"))
        }
        api.on(.post, "/console/orgs/:orgId/users") { call in
            // Sent twice (a reload), the form adds one person; the second answer says it was done.
            try await PortalRoutes.once(call, db: db) { call in try await addUser(call) }
        }
        api.on(.post, "/console/orgs/:orgId/keys") { call in
            try await PortalRoutes.once(call, db: db) { call in try await issueKey(call) }
        }
    }

    func addUser(_ call: Call) async throws -> Response {
        let org = try call.uuidParameter("orgId")
        let f = try await PortalRoutes.form(call)
        let body = UsersPage.newUser(f)
        do {
            let made = try await people.create(call, org: org, body)
            return try await orgPage(call, org: org, shown: Self.credentials(made, org: org, call), status: .created)
        } catch let p as Problem where p.status.code < 500 {
            return PortalRoutes.back(call, "/console/orgs/\(org.uuidString.lowercased())", p)
        }
    }

    func registerPeopleAndKeys(_ api: API) {
        api.on(.post, "/console/orgs/:orgId/users/:userId/reset") { call in
            // A reload of the answer makes no second password (the form's one-time token).
            try await PortalRoutes.once(call, db: db) { call in try await resetUser(call) }
        }
        api.on(.post, "/console/orgs/:orgId/users/:userId/disable") { call in
            let org = try call.uuidParameter("orgId")
            let back = "/console/orgs/\(org.uuidString.lowercased())"
            return try await PortalRoutes.act(call, back: back) { _ in
                _ = try await people.disable(call, id: try call.uuidParameter("userId"), org: org)
                return back + "?done=user_disabled"
            }
        }
        api.on(.post, "/console/keys/:keyId/revoke") { call in
            try await PortalRoutes.act(call, back: "/console/orgs") { _ in
                let key = try await orgs.revoke(call, key: try call.uuidParameter("keyId"))
                return "/console/orgs/\(key.orgId.uuidString.lowercased())?done=key_revoked"
            }
        }
    }

    func resetUser(_ call: Call) async throws -> Response {
        let org = try call.uuidParameter("orgId")
        _ = try await PortalRoutes.form(call)
        do {
            let made = try await people.reset(call, id: try call.uuidParameter("userId"), secondFactor: false, org: org)
            return try await orgPage(call, org: org, shown: Self.credentials(made, org: org, call))
        } catch let p as Problem where p.status.code < 500 {
            return PortalRoutes.back(call, "/console/orgs/\(org.uuidString.lowercased())", p)
        }
    }

    func issueKey(_ call: Call) async throws -> Response {
        let org = try call.uuidParameter("orgId")
        let f = try await PortalRoutes.form(call)
        do {
            let label = (f["label"] ?? "").trimmingCharacters(in: .whitespaces)
            let issued = try await orgs.issue(
                call,
                for: org,
                OrgActions.NewKey(
                    label: label.isEmpty ? nil : label,
                    expiresAt: nil,
                    userId: nil,
                    systemName: f["system_name"] ?? "",
                    role: (f["role"] ?? "").isEmpty ? nil : f["role"]
                )
            )
            return try await orgPage(
                call,
                org: org,
                shown: ConsolePages.issuedKey(issued, org: org, lang: Lang(call.request)),
                status: .created
            )
        } catch let p as Problem where p.status.code < 500 {
            return PortalRoutes.back(call, "/console/orgs/\(org.uuidString.lowercased())", p)
        }
    }

    static func credentials(_ made: UserActions.Credentials, org: UUID, _ call: Call) -> String {
        UsersPage.credentials(made, lang: Lang(call.request), back: "/console/orgs/\(org.uuidString.lowercased())")
    }

    /// An organisation's page, with what was just made shown once above it.
    func orgPage(_ call: Call, org id: UUID, shown: String = "", status: HTTPResponse.Status = .ok) async throws -> Response {
        let found = try await db.withConnection { c -> (Organisation, [Users.User], [APIKeyInfo])? in
            guard let org = try await Register.organisation(on: c, logger: call.logger, id: id) else { return nil }
            return (
                org, try await Users.list(on: c, logger: call.logger, orgId: id),
                try await Register.keys(on: c, logger: call.logger, orgId: id)
            )
        }
        guard let (org, users, keys) = found else { throw Problem(.notFound, "no organisation \(id)", zh: "没有这个机构。") }
        let lang = Lang(call.request)
        return PortalRoutes.html(
            call,
            title: org.name,
            current: "/console/orgs",
            body: shown
                + ConsolePages.organisation(
                    org,
                    users: users,
                    keys: keys,
                    lang: lang,
                    session: call.session,
                    mayManage: call.caller.reaches(.admin)
                ),
            status: status
        )
    }
}
