import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// The web portal: businesses and bank credit officers in a browser. A second face on the same
/// code: every form calls the function the API's route calls (the same checks, transaction and
/// audit row); pages read what the API's GET routes read. Sessions as the dashboard's (key
/// sign-in, HTTP-only SameSite=Strict cookie), a CSRF token on every form, no script.
struct PortalRoutes {
    let db: Database
    /// The open catalogue reads here (a fresh replica, else `db`).
    let reads: Reads
    /// The operations the API's routes perform too (Actions/).
    let credit: CreditActions
    let demands: DemandActions
    let objections: ObjectionActions
    let repairs: RepairActions
    let commitments: CommitmentActions
    let passwords: Passwords
    /// The card of the profiles shown (read once per version).
    let cards = ScorecardCache()

    /// Forms are small: a demand's purpose, an objection's evidence.
    static let maxFormBytes = 16_384
    /// Records listed on the check-up page (a business holds a few hundred).
    static let maxRecords = 500
    /// Access-log rows and monitoring events shown.
    static let maxLogRows = 100
    /// Banks offered in the authorisation form.
    static let maxBanksListed = 200
    /// The periods an authorisation may be granted for here (the API allows any up to a year).
    static let authorisationDays = [30, 90, 180, 365]

    // MARK: Helpers

    /// A business's page: as `html`, with its unread messages counted in the header.
    static func businessHTML(
        _ call: Call,
        title: String,
        current: String,
        body: String,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        var unread = 0
        if let uscc = try? call.ownUSCC() {
            unread = try await call.db.withConnection { c in try await Messages.unread(c, logger: call.logger, uscc: uscc) }
        }
        return html(call, title: title, current: current, body: body, status: status, unread: unread)
    }

    static func html(
        _ call: Call,
        title: String,
        current: String,
        body: String,
        status: HTTPResponse.Status = .ok,
        unread: Int = 0
    ) -> Response {
        let lang = Lang(call.request)
        let q = call.request.uri.queryParameters
        let flash = q.get("done").flatMap { done[$0] }.map { lang.t($0.0, $0.1) }
        // A message in the link is ours only with this session's tag (see `back`).
        let error = q.get("error").flatMap { message in
            call.session.flatMap { q.get("tag") == Sessions.tag(message, session: $0) ? String(message.prefix(300)) : nil }
        }
        // The language switch returns to this very page (with its query, less any message).
        var here = call.request.uri.path
        if let query = call.request.uri.query, !query.isEmpty, !query.contains("done="), !query.contains("error=") { here += "?" + query }
        return WebSession.html(
            PortalHtml.page(
                title: title,
                current: current,
                session: call.session,
                lang: lang,
                body: body,
                flash: flash,
                error: error,
                here: here,
                unread: unread
            ),
            status: status
        )
    }

    /// Messages after a form worked (the redirect names one).
    static let done: [String: (String, String)] = [
        "revoked": ("授权已撤销，立即生效。", "The authorisation is revoked, effective at once."),
        "user_disabled": ("已停用：此人的会话和密钥立即失效。", "Disabled: the person's sessions and keys stop at once."),
        "granted_authorisation": ("已授权：该银行现在可以按所选用途查看。", "Authorised: the bank may now read for the purpose chosen."),
        "withdrawn": ("需求已撤回。", "The demand is withdrawn."),
        "objection": (
            "异议已提交：该记录已标记为有争议，\(Objections.deadlineDays) 天内答复。",
            "Objection raised: the record is marked disputed; an answer is due within \(Objections.deadlineDays) days."
        ),
        "repair": (
            "修复申请已提交，\(Repairs.decisionWorkingDays) 个工作日内答复。",
            "Repair application sent: an answer is due within \(Repairs.decisionWorkingDays) working days."
        ),
        "commitment": ("承诺已作出并公示。", "Commitment made and public."),
        "statement": ("说明已添加，将与该记录一同显示。", "Statement added: it is shown with the record."),
        "statement_withdrawn": ("说明已撤回。", "Statement withdrawn."),
        "taken_up": (
            "已受理该需求：请在 \(Demands.decisionWorkingDays) 个工作日内作出决定。", "Taken up: decide within \(Demands.decisionWorkingDays) working days."
        ),
        "declined": ("已拒绝，企业将看到拒绝原因。", "Declined: the business sees the reason."),
        "passed": ("已放弃该需求。", "Passed on the demand."),
        "offered": ("报价已发送：企业接受后请在此登记放款。", "Offer sent: once the business accepts it, record the disbursement here."),
        "accepted": ("已接受这份报价，其他银行的报价随之失效。请等待银行放款。", "Offer accepted; the other banks' offers have lapsed. The bank disburses next."),
        "disbursed": ("已登记放款。", "Disbursement recorded."),
        "outcome": ("已登记该月表现。", "The month's outcome is recorded."),
        "upheld": ("已确认异议成立：记录停止使用，信用画像将重新计算。", "Upheld: the record is no longer used and the profile is recomputed."),
        "objection_rejected": ("已驳回异议，企业将看到理由。", "Rejected: the business sees why."),
        "unverifiable": ("已记载为经核查无法确认。", "Recorded as could not be verified."),
        "repair_approved": ("已批准修复：该处罚今天起停止公示。", "Repair approved: the penalty stops being published today."),
        "repair_rejected": ("已不予批准，企业将看到理由。", "Rejected: the business sees why."),
        "org_created": ("机构已登记：请为其添加管理员。", "Registered: add its administrator next."),
        "key_revoked": ("密钥已吊销，立即失效。", "The key is revoked, effective at once."),
    ]

    /// Sends the browser back to a page with the problem's message (forms whose page is elsewhere).
    static func back(_ call: Call, _ to: String, _ p: Problem) -> Response {
        let text = String(problemText(p, Lang(call.request)).prefix(300))
        let tag = call.session.map { Sessions.tag(text, session: $0) } ?? ""
        return WebSession.redirect(to + (to.contains("?") ? "&" : "?") + "error=" + PortalHtml.percent(text) + "&tag=" + tag)
    }

    /// A problem as a page says it: in English as the API does; in Chinese from the problem's
    /// own Chinese wording, each bad field by its form label.
    static func problemText(_ p: Problem, _ lang: Lang) -> String {
        guard !lang.english else {
            // Each bad field by its form label (the detail repeats them in the API's words).
            if !p.errors.isEmpty { return p.errors.map { "\(PortalHtml.fieldName($0.field, lang)): \($0.reason)" }.joined(separator: "; ") }
            return p.detail ?? p.kind.title
        }
        if !p.errors.isEmpty {
            return p.errors.map { "\(PortalHtml.fieldName($0.field, lang))：\($0.zh ?? "请检查填写的内容")" }.joined(separator: "；") + "。"
        }
        return p.zh ?? p.kind.titleZh + "。"
    }

    /// A form that carries a one-time token (`once`, from the page that showed it) runs as an
    /// idempotent request keyed by that token: a second submit replays the first answer and
    /// creates nothing twice. A form without one simply runs.
    static func once(_ call: Call, db: Database, _ handler: @escaping API.Handler) async throws -> Response {
        let (body, inner) = try await call.withBodyRead(limit: maxFormBytes)
        let token = String(buffer: body).split(separator: "&").first { $0.hasPrefix("once=") }.map { String($0.dropFirst(5)) }
        guard let token, Idempotency.isValidKey("form:" + token), let org = call.session?.principal.orgId ?? call.principal?.orgId else {
            return try await handler(inner)
        }
        return try await API.idempotent(inner, key: "form:" + token, org: org, db: db, handler: handler)
    }

    /// A fresh one-time token for a form.
    static func onceToken() -> String { UUID().uuidString.lowercased() }

    static func form(_ call: Call) async throws -> [String: String] {
        try await WebSession.checkedForm(call, limit: maxFormBytes)
    }

    /// A form's action: the CSRF-checked fields to `body`, which does the work and names the page
    /// to go to; a client problem sends the browser back to `back` with its message.
    static func act(
        _ call: Call,
        back: String,
        _ body: @escaping @Sendable ([String: String]) async throws -> String
    ) async throws -> Response {
        // A form that creates something carries a one-time token: a second submit is the first.
        try await once(call, db: call.db) { call in
            let fields = try await form(call)
            do {
                return WebSession.redirect(try await body(fields))
            } catch let p as Problem where p.status.code < 500 {
                return Self.back(call, back, p)
            }
        }
    }

    /// An organisation's admin manages its people (the same actions as `/v1/users`).
    func registerPeople(_ api: API) {
        let people = UserActions(db: db, passwords: passwords)
        @Sendable func page(_ call: Call, _ extra: String = "", status: HTTPResponse.Status = .ok) async throws -> Response {
            let lang = Lang(call.request)
            let kind = call.caller.kind
            let users = try await people.list(call, org: call.caller.orgId)
            return Self.html(
                call,
                title: lang.t("人员", "People"),
                current: "/portal/users",
                body: extra + UsersPage.render(users, kind: kind, me: call.caller.user?.id, lang: lang, session: call.session),
                status: status
            )
        }
        api.on(.get, "/portal/users") { call in try await page(call) }
        @Sendable func add(_ call: Call) async throws -> Response {
            let f = try await Self.form(call)
            let body = UsersPage.newUser(f)
            do {
                let made = try await people.create(call, org: call.caller.orgId, body)
                return try await page(call, UsersPage.credentials(made, lang: Lang(call.request)), status: .created)
            } catch let p as Problem where p.status.code < 500 {
                return Self.back(call, "/portal/users", p)
            }
        }
        api.on(.post, "/portal/users") { call in
            // Sent twice (a reload), the form adds one person; the second answer says it was done.
            try await Self.once(call, db: db) { call in try await add(call) }
        }
        @Sendable func reset(_ call: Call) async throws -> Response {
            _ = try await Self.form(call)
            do {
                let made = try await people.reset(call, id: try call.uuidParameter("userId"), secondFactor: false)
                return try await page(call, UsersPage.credentials(made, lang: Lang(call.request)))
            } catch let p as Problem where p.status.code < 500 {
                return Self.back(call, "/portal/users", p)
            }
        }
        api.on(.post, "/portal/users/:userId/reset") { call in
            try await Self.once(call, db: db) { call in try await reset(call) }
        }
        api.on(.post, "/portal/users/:userId/disable") { call in
            try await Self.act(call, back: "/portal/users") { _ in
                _ = try await people.disable(call, id: try call.uuidParameter("userId"))
                return "/portal/users?done=user_disabled"
            }
        }
    }

    /// The hidden field of a form's one-time token.
    static var onceField: String { "<input type=\"hidden\" name=\"once\" value=\"\(onceToken())\">" }

    func register(_ api: API) {
        api.on(.get, "/static/portal.css") { _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: Html.css + PortalHtml.css))
            )
        }
        api.on(.get, "/portal/lang") { call in
            let to = call.request.uri.queryParameters.get("to") ?? "zh"
            guard to == "en" || to == "zh" else { throw Problem.invalid("to", "zh or en") }
            // Back to the page it was asked from, in the portal or the dashboard.
            let asked = call.request.uri.queryParameters.get("next")
            let next = asked == "/" ? "/" : WebSession.safeNext(asked, area: WebSession.area(of: asked ?? "/portal"))
            return WebSession.redirect(next, cookie: "\(Lang.cookie)=\(to); Path=/; SameSite=Strict; Max-Age=31536000")
        }
        api.on(.get, "/") { call in
            // A signed-in person goes straight to their place; anyone else chooses a door.
            if let token = WebSession.token(call.request),
                let s = try await db.withConnection({ c in try await Sessions.find(c, logger: call.logger, token: token) }),
                let home = HomePage.home(of: s.principal.kind)
            {
                return WebSession.redirect(home)
            }
            let lang = Lang(call.request)
            return WebSession.html(
                PortalHtml.page(
                    title: lang.t("信易贷", "Xinyidai"),
                    current: "/",
                    session: nil,
                    lang: lang,
                    body: HomePage.render(lang: lang),
                    here: "/"
                )
            )
        }
        api.on(.get, "/portal/catalogue") { call in
            let items = try await reads.database.withConnection { c in try await CataloguePage.load(c, call) }
            let lang = Lang(call.request)
            return Self.html(
                call,
                title: lang.t("融资产品目录", "Product catalogue"),
                current: "/portal/catalogue",
                body: CataloguePage.render(items, lang: lang, signedIn: call.session != nil)
            )
        }
        SignInForms.registerLogin(
            api,
            db: db,
            passwords: passwords,
            area: "/portal",
            limit: Self.maxFormBytes,
            allowed: [.enterprise, .bank],
            target: { p, next in
                let home = p.kind == .bank ? "/portal/bank" : "/portal"
                // A next page of the other role would only be refused: go home instead.
                return next.map { WebSession.safeNext($0, area: "/portal") }.flatMap { n in
                    (n.hasPrefix("/portal/bank") == (p.kind == .bank)) && n != "/portal/login" && n != "/portal/password" ? n : nil
                } ?? home
            },
            page: { lang, next, error, token in Self.loginPage(lang: lang, next: next, error: error, token: token) }
        )
        SignInForms.registerPassword(api, db: db, passwords: passwords, area: "/portal", limit: Self.maxFormBytes) { call, lang, body in
            PortalHtml.page(
                title: lang.t("修改密码", "Change the password"),
                current: "/portal/password",
                session: call.session,
                lang: lang,
                body: body
            )
        }
        registerPeople(api)
        registerBusiness(api)
        registerBank(api)
    }

    /// The sign-in page: a pure function of the language, where to go next, the error and the
    /// double-submit token.
    static func loginPage(lang: Lang, next: String, error: String?, token: String) -> String {
        PortalHtml.page(
            title: lang.t("登录", "Sign in"),
            current: "/portal/login",
            session: nil,
            lang: lang,
            body: SignInForms.box(
                lang,
                area: "/portal",
                next: next,
                error: error,
                token: token,
                intro:
                    "<p>\(lang.t("企业人员和银行信贷人员用个人账号登录。", "Business staff and bank credit officers sign in with their own login."))</p>",
                inForm:
                    "<p class=\"note\">\(lang.t("监管机构请用<a href=\"/dashboard\">监管看板</a>。", "Regulators use the <a href=\"/dashboard\">dashboard</a>."))</p>",
                after:
                    "<p class=\"note\">\(lang.t("无需登录即可查看<a href=\"/portal/catalogue\">各银行的融资产品</a>。", "Anyone may browse <a href=\"/portal/catalogue\">the banks' products</a> without signing in."))</p>"
            )
        )
    }
}
