import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import Store

/// The session cookie of the browser pages.
enum WebSession {
    static let cookie = "xyd_session"

    /// The session token from the `Cookie` header.
    static func token(_ request: Request) -> String? { cookieValue(request, cookie) }

    static func cookieValue(_ request: Request, _ name: String) -> String? {
        for field in request.headers[values: .cookie] {
            for part in field.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == name { return String(kv[1]) }
            }
        }
        return nil
    }

    // MARK: Sign-in forms: login CSRF (double-submit)

    /// A sign-in form carries a token that must equal the one in this cookie, which only the
    /// sign-in page itself sets (SameSite=Strict): another site cannot sign a browser in under
    /// the attacker's key.
    static let loginCookie = "xyd_login"

    /// The browser's sign-in token, or a new one.
    static func loginToken(_ request: Request) -> String {
        if let t = cookieValue(request, loginCookie), t.count >= 32, t.count <= 64,
            t.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        {
            return t
        }
        return secureRandomBytes(24).base64URLString
    }

    /// The sign-in page with its token's cookie.
    static func loginHTML(_ text: String, token: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = html(text, status: status)
        response.headers[.setCookie] = "\(loginCookie)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=3600"
        return response
    }

    /// Refuses (403) a sign-in form whose token is missing or is not the browser's.
    static func checkLogin(_ form: [String: String], _ request: Request) throws {
        guard let field = form["login_csrf"], !field.isEmpty, let cookie = cookieValue(request, loginCookie), cookie == field else {
            throw Problem(.forbidden, "the sign-in form has expired or did not come from this site: reload the page and sign in again")
        }
    }

    /// One answer for every refused sign-in — unknown login, wrong password or code, a code
    /// used before, a disabled or locked-out user, a user of another kind of organisation — so
    /// that the form tells nothing about who exists.
    static let refused = SignInRefused(
        zh: "账号、密码或动态验证码不正确，或账号已停用、暂时锁定（连续输错 \(Users.lockAfterFailures) 次锁定 \(Users.lockSeconds / 60) 分钟），或不能登录此页面。",
        en:
            "The login, password or code is wrong, or the user is disabled, locked for a while (\(Users.lockAfterFailures) failures in a row lock it for \(Users.lockSeconds / 60) minutes) or not for this page."
    )

    static func setCookie(_ token: String, maxAge: Int) -> String {
        "\(cookie)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)"
    }

    static let clearCookie = "\(cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"

    /// Only a local path under the area may be a `next` (no open redirects).
    static func safeNext(_ next: String?, area: String = "/dashboard") -> String {
        guard let next, next.hasPrefix(area), !next.hasPrefix("//"), !next.contains("\\"), next.count < 200 else { return area }
        return next
    }

    /// The area of pages a path belongs to: the regulators' dashboard, the operators' console or
    /// the portal.
    static func area(of path: String) -> String {
        for area in ["/dashboard", "/console"] where path == area || path.hasPrefix(area + "/") { return area }
        return "/portal"
    }

    /// The sign-in page of the area a path belongs to (the portal's, the dashboard's or the console's).
    static func toSignIn(next: String) -> Response {
        let area = area(of: next)
        let target =
            "\(area)/login?next="
            + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "/-_"))) ?? "")
        return Response(status: .seeOther, headers: [.location: target])
    }

    struct SignInRefused: Error {
        let zh: String
        let en: String
        func why(_ lang: Lang) -> String { lang.t(zh, en) }
    }

    /// A user's password, checked against a hash of the same cost when the login is unknown, so
    /// that the time taken tells nothing either.
    static let standIns = Locked<[Int: String]>([:])

    static func standIn(_ passwords: Passwords) throws -> String {
        let logN = passwords.parameters.logN
        if let h = standIns.withLock({ $0[logN] }) { return h }
        let h = try PasswordHash.make(secureRandomBytes(16).base64URLString, parameters: passwords.parameters)
        standIns.withLock { $0[logN] = h }
        return h
    }

    /// A person signs in with login, password and — when they have one, always at banks and
    /// the operator — a TOTP code. Every attempt is audited (`session.sign_in`, with the user
    /// when the login is known); failures count towards the user's lock-out (5 in a row: 15
    /// minutes) and the throttle per address and per login (past its budget, 429 before any
    /// look-up). Returns the session's cookie token, or why not.
    static func signIn(
        _ db: Database,
        _ call: Call,
        passwords: Passwords,
        login: String,
        password: String,
        code: String,
        allowed: Set<OrgKind>,
        now: Date = Date()
    ) async throws -> Result<(String, Sessions.Session), SignInRefused> {
        try call.throttle?.check(address: call.context.clientAddress)
        // Attempts already under way from one address count too: past a few at once, 429.
        try call.throttle?.enter(address: call.context.clientAddress)
        defer { call.throttle?.leave(address: call.context.clientAddress) }
        let login = login.trimmingCharacters(in: .whitespaces).lowercased()
        guard password.count <= PasswordPolicy.maxCharacters, login.count <= Login.maxCharacters else { return .failure(refused) }
        let candidate = try await db.withConnection { c in try await Users.candidate(on: c, logger: call.logger, login: login) }
        var why: String?
        if let candidate {
            if candidate.user.disabledAt != nil {
                why = "disabled"
            } else if !allowed.contains(candidate.orgKind) {
                why = "kind_not_allowed"
            } else if !(try await db.withConnection { c in try await Users.reserveAttempt(on: c, logger: call.logger, id: candidate.user.id)
            }) {
                // Counted before the password is checked, so that attempts made at once count
                // each other; a locked user's attempt is refused unheard.
                why = "locked"
            }
        } else {
            why = "unknown_login"
        }
        // The password is checked whatever else is wrong (the same work every time).
        let passwordOK: Bool
        do {
            passwordOK = try await passwords.verify(password, stored: candidate?.passwordHash ?? (try standIn(passwords)))
        } catch let busy as Passwords.Busy {
            throw Problem(.notReady, busy.description, headers: [.retryAfter: "2"])
        }
        var step: Int64?
        if why == nil, let candidate {
            if !passwordOK {
                why = "wrong_password"
            } else if let secret = candidate.totpSecret {
                step = TOTP.verify(code, secret: secret, at: now, after: candidate.totpLastStep)
                if step == nil { why = "wrong_code" }
            } else if OrgRole.secondFactorRequired(for: candidate.orgKind) {
                why = "no_second_factor"
            }
        }
        let outcome = try await db.withTransaction { c -> Result<(String, Sessions.Session), SignInRefused> in
            func audit(_ result: AuditEntry.Result, _ why: String?) async throws {
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    AuditEntry(
                        requestId: call.context.requestId,
                        actorOrgId: candidate?.user.orgId,
                        actorUserId: candidate?.user.id,
                        actorKind: candidate?.orgKind.rawValue ?? "anonymous",
                        action: "session.sign_in",
                        route: call.route,
                        result: result,
                        detail: why.map { ["why": $0] } ?? [:]
                    )
                )
            }
            guard let candidate, why == nil else {
                // A wrong password or code was counted before it was checked (`reserveAttempt`);
                // a refusal for another reason (kind, disabled, locked) counts nothing.
                try await audit(.denied, why)
                return .failure(refused)
            }
            // A code is taken once, by whichever sign-in records it first.
            guard try await Users.succeeded(on: c, logger: call.logger, id: candidate.user.id, totpStep: step) else {
                try await audit(.denied, "code_reused")
                return .failure(refused)
            }
            let principal = Principal(
                orgId: candidate.user.orgId,
                kind: candidate.orgKind,
                orgName: candidate.orgName,
                uscc: candidate.uscc,
                keyId: nil,
                user: candidate.user.ref,
                role: candidate.user.role
            )
            let (token, session) = try await Sessions.create(
                c,
                logger: call.logger,
                principal: principal,
                mustChangePassword: candidate.mustChangePassword
            )
            try await audit(.allowed, nil)
            return .success((token, session))
        }
        if case .failure = outcome,
            let slowed = call.throttle?.failed(address: call.context.clientAddress, key: nil, login: login)
        {
            throw slowed
        }
        return outcome
    }

    /// The password form's fields checked and the new password set (hashed off the loops); the
    /// other sessions of the user end. Returns why not, in the page's words.
    static func changePassword(
        _ db: Database,
        _ call: Call,
        passwords: Passwords,
        form: [String: String],
        lang: Lang
    ) async throws -> String? {
        guard let session = call.session, let user = session.principal.user else {
            return lang.t("只有以个人账号登录时才能修改密码。", "Only a person signed in with a login has a password to change.")
        }
        let current = form["current"] ?? ""
        let new = form["new"] ?? ""
        guard new == (form["again"] ?? "") else { return lang.t("两次输入的新密码不一致。", "The new password and its repetition differ.") }
        if let why = PasswordPolicy.problem(new, login: user.login) {
            return lang.t(
                "新密码不符合要求：\(PasswordPolicy.minCharacters) 至 \(PasswordPolicy.maxCharacters) 个字符，至少 4 个不同的字符，不含账号名，不含控制字符。",
                "The new password is refused: \(why)."
            )
        }
        guard current != new else { return lang.t("新密码不能与当前密码相同。", "The new password must differ from the current one.") }
        // The current password is guessed no more freely here than at sign-in: each try counts
        // towards the lock-out before it is checked, and a wrong one is audited.
        try call.throttle?.enter(address: call.context.clientAddress)
        defer { call.throttle?.leave(address: call.context.clientAddress) }
        let logger = call.logger
        guard try await db.withConnection({ c in try await Users.reserveAttempt(on: c, logger: logger, id: user.id) }) else {
            return lang.t(
                "连续输错次数过多，账号已暂时锁定（\(Users.lockSeconds / 60) 分钟）。",
                "Too many wrong passwords in a row: the user is locked for \(Users.lockSeconds / 60) minutes."
            )
        }
        let candidate = try await db.withConnection { c in try await Users.candidate(on: c, logger: logger, login: user.login) }
        guard let candidate, try await passwords.verify(current, stored: candidate.passwordHash) else {
            try await db.withConnection { c in
                try await Audit.record(
                    on: c,
                    logger: logger,
                    call.auditEntry(
                        action: "user.password",
                        result: .denied,
                        subjectId: user.id.uuidString.lowercased(),
                        detail: ["why": "wrong_password"]
                    )
                )
            }
            return lang.t("当前密码不正确。", "The current password is wrong.")
        }
        let hash = try await passwords.hash(new)
        let token = WebSession.token(call.request)
        _ = try await call.audited(
            db,
            action: "user.password",
            subject: { _ in .init(id: user.id.uuidString.lowercased()) },
            do: { c in
                try await Users.setPassword(on: c, logger: call.logger, id: user.id, passwordHash: hash, byAdmin: false, keepSession: token)
                try await Users.clearFailures(on: c, logger: call.logger, id: user.id)
            }
        )
        return nil
    }

    /// Signs out (the form must carry the session's CSRF token): the session ends, the cookie is
    /// cleared, and the browser goes to the sign-in page.
    static func signOut(_ db: Database, _ call: Call, limit: Int, to signIn: String) async throws -> Response {
        _ = try await checkedForm(call, limit: limit)
        if let token = token(call.request) {
            try await db.withConnection { c in try await Sessions.end(c, logger: call.logger, token: token) }
        }
        return redirect(signIn, cookie: clearCookie)
    }

    /// The fields of a form posted in a session, refused (403) unless it carries the session's CSRF token.
    static func checkedForm(_ call: Call, limit: Int) async throws -> [String: String] {
        let form = try await form(call.request, limit: limit)
        guard let session = call.session, let token = form["csrf"], !token.isEmpty, token == session.csrfToken else {
            throw Problem(
                .forbidden,
                "the form's CSRF token does not match the session: reload the page and try again",
                zh: "页面已过期或不是从本站打开的：请刷新页面后再试。"
            )
        }
        return form
    }

    static func redirect(_ to: String, cookie: String? = nil) -> Response {
        var headers: HTTPFields = [.location: to]
        if let cookie { headers[.setCookie] = cookie }
        return Response(status: .seeOther, headers: headers)
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .init("Content-Security-Policy")!:
                    "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                .init("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// `application/x-www-form-urlencoded` fields.
    static func form(_ request: Request, limit: Int) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: limit)
        var out: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let k = kv.first { out[k] = kv.count > 1 ? kv[1] : "" }
        }
        if out.contains(where: { $0.key.contains("\0") || $0.value.contains("\0") }) {
            throw Problem(.badRequest, "a field holds a NUL character (U+0000), which no text may contain")
        }
        return out
    }
}
