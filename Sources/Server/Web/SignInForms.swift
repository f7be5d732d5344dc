import CreditCore
import Foundation
import Hummingbird
import Store

/// The sign-in and password forms the portal and the dashboard share (issue 22): a person's
/// login, password and TOTP code; a password an admin set is changed before anything else.
enum SignInForms {
    /// The form's inputs (the page puts its own heading and notes around them).
    static func inputs(_ lang: Lang) -> String {
        """
        <label for="login">\(lang.t("账号", "Login"))</label>
        <input id="login" name="login" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="\(Login.maxCharacters)" required>
        <label for="password">\(lang.t("密码", "Password"))</label>
        <input id="password" name="password" type="password" autocomplete="current-password" maxlength="\(PasswordPolicy.maxCharacters)" required>
        <label for="code">\(lang.t("动态验证码（6 位，银行和运营人员必填）", "Code from the authenticator app (6 digits; required at banks and for operators)"))</label>
        <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7">
        """
    }

    static func note(_ lang: Lang) -> String {
        "<p class=\"note\">"
            + lang.t(
                "会话 8 小时后失效；账号停用即刻失效。连续输错 \(Users.lockAfterFailures) 次，账号锁定 \(Users.lockSeconds / 60) 分钟。忘记密码请联系本机构管理员。",
                "The session lasts 8 hours and ends at once if the user is disabled. \(Users.lockAfterFailures) failures in a row lock the user for \(Users.lockSeconds / 60) minutes. Forgot the password? Ask your organisation's administrator."
            ) + "</p>"
    }

    /// A posted sign-in: the session and where to go, or the form again with why not.
    static func post(
        _ db: Database,
        _ call: Call,
        passwords: Passwords,
        limit: Int,
        allowed: Set<OrgKind>,
        target: (Principal, String?) -> String,
        passwordPage: String,
        page: @escaping (Lang, String, String?, String) -> String
    ) async throws -> Response {
        let form = try await WebSession.form(call.request, limit: limit)
        try WebSession.checkLogin(form, call.request)
        let token = WebSession.loginToken(call.request)
        let lang = Lang(call.request)
        let next = form["next"].flatMap { $0.isEmpty ? nil : $0 }
        let login = form["login"] ?? ""
        let password = form["password"] ?? ""
        guard !login.isEmpty, !password.isEmpty else {
            return WebSession.loginHTML(
                page(lang, next ?? "", lang.t("请输入账号和密码。", "Enter the login and the password."), token),
                token: token,
                status: .unprocessableContent
            )
        }
        switch try await WebSession.signIn(
            db,
            call,
            passwords: passwords,
            login: login,
            password: password,
            code: form["code"] ?? "",
            allowed: allowed
        ) {
        case .success(let (cookie, session)):
            let to = target(session.principal, next)
            let location = session.mustChangePassword ? passwordPage + "?next=" + PortalHtml.percent(to) : to
            return WebSession.redirect(location, cookie: WebSession.setCookie(cookie, maxAge: Sessions.lifetimeSeconds))
        case .failure(let refused):
            return WebSession.loginHTML(page(lang, next ?? "", refused.why(lang), token), token: token, status: .unauthorized)
        }
    }

    /// The password form of a signed-in person (`forced`: an admin set the password); the page
    /// around it carries the heading.
    static func passwordForm(_ lang: Lang, action: String, csrf: String, next: String, forced: Bool, error: String?) -> String {
        """
        <div class="login">
        \(forced ? "<p role=\"status\">\(lang.t("密码由管理员设置：请先设置您自己的密码。", "An administrator set this password: choose your own before going on."))</p>" : "")
        \(error.map { "<p class=\"error\" role=\"alert\">\(Html.escape($0))</p>" } ?? "")
        <form method="post" action="\(Html.escape(action))">
        <input type="hidden" name="csrf" value="\(Html.escape(csrf))">
        <input type="hidden" name="next" value="\(Html.escape(next))">
        <label for="current">\(lang.t("当前密码", "Current password"))</label>
        <input id="current" name="current" type="password" autocomplete="current-password" maxlength="\(PasswordPolicy.maxCharacters)" required>
        <label for="new">\(lang.t("新密码（至少 \(PasswordPolicy.minCharacters) 个字符）", "New password (at least \(PasswordPolicy.minCharacters) characters)"))</label>
        <input id="new" name="new" type="password" autocomplete="new-password" minlength="\(PasswordPolicy.minCharacters)" maxlength="\(PasswordPolicy.maxCharacters)" required>
        <label for="again">\(lang.t("再次输入新密码", "The new password again"))</label>
        <input id="again" name="again" type="password" autocomplete="new-password" maxlength="\(PasswordPolicy.maxCharacters)" required>
        <button type="submit">\(lang.t("保存", "Save"))</button></form>
        <p class="note">\(lang.t("保存后，您在其他设备上的会话将失效。", "Saving ends your sessions on other devices."))</p></div>
        """
    }

    /// An area's sign-in box: `intro` above, the error if any, the form posting to
    /// `\(area)/login` with `next` and the double-submit token, `inForm` before its button, the note
    /// on codes and `after` below.
    static func box(
        _ lang: Lang,
        area: String,
        next: String,
        error: String?,
        token: String,
        intro: String,
        inForm: String = "",
        after: String = ""
    ) -> String {
        """
        <div class="login">\(intro)
        \(error.map { "<p class=\"error\" role=\"alert\">\(Html.escape($0))</p>" } ?? "")
        <form method="post" action="\(area)/login">
        \(inputs(lang))
        <input type="hidden" name="next" value="\(Html.escape(next))">
        <input type="hidden" name="login_csrf" value="\(Html.escape(token))">
        \(inForm)<button type="submit">\(lang.t("登录", "Sign in"))</button></form>
        \(note(lang))\(after)</div>
        """
    }

    /// An area's doors: `GET`/`POST` `\(area)/login` (the page is `page(lang, next, error,
    /// token)`, `next` kept inside the area), `POST \(area)/logout`. Who may sign in is `allowed`;
    /// where they go, `target`.
    static func registerLogin(
        _ api: API,
        db: Database,
        passwords: Passwords,
        area: String,
        limit: Int,
        allowed: Set<OrgKind>,
        target: @escaping @Sendable (Principal, String?) -> String,
        page: @escaping @Sendable (Lang, String, String?, String) -> String
    ) {
        api.on(.get, "\(area)/login") { call in
            let token = WebSession.loginToken(call.request)
            let next = WebSession.safeNext(call.request.uri.queryParameters.get("next"), area: area)
            return WebSession.loginHTML(page(Lang(call.request), next, nil, token), token: token)
        }
        api.on(.post, "\(area)/login") { call in
            try await post(
                db,
                call,
                passwords: passwords,
                limit: limit,
                allowed: allowed,
                target: target,
                passwordPage: area + "/password",
                page: { lang, next, error, token in page(lang, WebSession.safeNext(next, area: area), error, token) }
            )
        }
        api.on(.post, "\(area)/logout") { call in
            try await WebSession.signOut(db, call, limit: limit, to: "\(area)/login")
        }
    }

    /// `GET` and `POST` `\(area)/password`: the form, and a posted form; `page` puts a body in the
    /// area's chrome.
    static func registerPassword(
        _ api: API,
        db: Database,
        passwords: Passwords,
        area: String,
        limit: Int,
        page: @escaping @Sendable (Call, Lang, String) -> String
    ) {
        api.on(.get, "\(area)/password") { call in
            let lang = Lang(call.request)
            let body = passwordForm(
                lang,
                action: area + "/password",
                csrf: call.session?.csrfToken ?? "",
                next: WebSession.safeNext(call.request.uri.queryParameters.get("next"), area: area),
                forced: call.session?.mustChangePassword ?? false,
                error: nil
            )
            return WebSession.html(page(call, lang, body))
        }
        api.on(.post, "\(area)/password") { call in
            try await postPassword(db, call, passwords: passwords, limit: limit, area: area) { lang, body in page(call, lang, body) }
        }
    }

    /// A posted password form: on to `next`, or the form again with why not.
    static func postPassword(
        _ db: Database,
        _ call: Call,
        passwords: Passwords,
        limit: Int,
        area: String,
        page: (Lang, String) -> String
    ) async throws -> Response {
        let form = try await WebSession.checkedForm(call, limit: limit)
        let lang = Lang(call.request)
        let next = WebSession.safeNext(form["next"], area: area)
        if let why = try await WebSession.changePassword(db, call, passwords: passwords, form: form, lang: lang) {
            let body = passwordForm(
                lang,
                action: area + "/password",
                csrf: call.session?.csrfToken ?? "",
                next: next,
                forced: call.session?.mustChangePassword ?? false,
                error: why
            )
            return WebSession.html(page(lang, body), status: .unprocessableContent)
        }
        // On to where the person was going, or their own home (a bank's is /portal/bank).
        let home = call.session.flatMap { HomePage.home(of: $0.principal.kind) } ?? area
        return WebSession.redirect(next == area || next == area + "/password" ? home : next)
    }
}
