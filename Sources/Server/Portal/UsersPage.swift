import CreditCore
import Foundation
import Store

/// `/portal/users`: an organisation's admin manages its people — who they are, their role,
/// second factor and state; add one (the one-time password and TOTP secret shown once), reset or
/// disable one. The same actions as `/v1/users`.
enum UsersPage {
    static func state(_ u: Users.User, _ lang: Lang) -> String {
        if u.disabledAt != nil { return PortalHtml.badge("declined", lang.t("已停用", "Disabled")) }
        if u.lockedUntil != nil { return PortalHtml.badge("overdue", lang.t("暂时锁定", "Locked for now")) }
        return PortalHtml.badge("live", lang.t("正常", "Enabled"))
    }

    /// `base`: where the forms post (`/portal/users`, or an organisation's in the console).
    static func render(
        _ users: [Users.User],
        kind: OrgKind,
        me: UUID?,
        lang: Lang,
        session: Sessions.Session?,
        base: String = "/portal/users"
    ) -> String {
        let e = Html.escape
        var rows: [[String]] = []
        for u in users {
            var actions = ""
            // Both act at once and cannot be undone here: each asks first. A reset's form carries a
            // one-time token, so a reload of its answer makes no second password.
            if u.disabledAt == nil {
                actions +=
                    "<details><summary>\(lang.t("重置密码", "Reset password"))</summary><p class=\"hint\">\(lang.t("原密码立即失效，此人的会话随之结束；新的一次性密码只显示一次。", "The old password stops at once and the person's sessions end; the new one-time password is shown once."))</p>"
                    + PortalHtml.button(
                        "\(base)/\(u.id.uuidString.lowercased())/reset",
                        lang.t("确认重置", "Reset it"),
                        session: session,
                        style: "btn secondary",
                        fields: ["once": PortalRoutes.onceToken()]
                    ) + "</details>"
                if u.id != me {
                    actions +=
                        "<details><summary>\(lang.t("停用", "Disable"))</summary><p class=\"hint\">\(lang.t("此人的会话和密钥立即失效。停用不能撤销；如需恢复，请重新添加此人。", "The person's sessions and keys stop at once. This cannot be undone; to restore them, add the person again."))</p>"
                        + PortalHtml.button(
                            "\(base)/\(u.id.uuidString.lowercased())/disable",
                            lang.t("确认停用", "Disable them"),
                            session: session,
                            style: "btn danger"
                        ) + "</details>"
                }
            }
            rows.append([
                e(u.name), e(u.login), e(lang.t(u.role.words.zh, u.role.words.en)), e(u.staffNumber ?? "–"),
                u.secondFactor ? lang.t("动态验证码", "Authenticator") : lang.t("无", "None"), state(u, lang),
                u.lastSignInAt.map(PortalHtml.day) ?? lang.t("从未登录", "Never"), actions,
            ])
        }
        let roleOptions = OrgRole.roles(of: kind).map { "<option value=\"\($0.rawValue)\">\(e(lang.t($0.words.zh, $0.words.en)))</option>" }
            .joined()
        let totpNote =
            OrgRole.secondFactorRequired(for: kind)
            ? lang.t(
                "本机构人员登录时须输入动态验证码（创建后显示密钥，一次）。",
                "People here always sign in with an authenticator code (its secret is shown once, after creating)."
            )
            : "<input type=\"checkbox\" id=\"sf\" name=\"second_factor\" value=\"true\"><label class=\"inl\" for=\"sf\">\(lang.t("要求动态验证码", "Require an authenticator code"))</label>"
        return PortalHtml.table(
            base == "/portal/users" ? lang.t("本机构的人员", "This organisation's people") : lang.t("该机构的人员", "The organisation's people"),
            [
                lang.t("姓名", "Name"), lang.t("账号", "Login"), lang.t("角色", "Role"), lang.t("工号", "Staff no."),
                lang.t("第二因素", "Second factor"), lang.t("状态", "State"), lang.t("最近登录", "Last sign-in"), lang.t("操作", "Actions"),
            ],
            rows,
            empty: lang.t("还没有人员。", "No one yet.")
        )
            + """
            <details class="card"><summary>\(lang.t("添加人员", "Add a person"))</summary>
            <form class="stack" method="post" action="\(base)">\(PortalHtml.csrf(session))\(PortalRoutes.onceField)
            <label for="ulogin">\(lang.t("账号", "Login"))</label><p class="hint">\(lang.t("3 至 \(Login.maxCharacters) 个小写字母、数字、“.”“_”“-”", "3 to \(Login.maxCharacters) lower-case letters, digits, '.', '_', '-'"))</p>
            <input id="ulogin" name="login" type="text" required maxlength="\(Login.maxCharacters)" pattern="[a-z0-9][a-z0-9._-]{2,39}" autocapitalize="none">
            <label for="uname">\(lang.t("姓名", "Name"))</label><input id="uname" name="name" type="text" required maxlength="\(Users.nameMaxCharacters)">
            <label for="ustaff">\(lang.t("工号（可选）", "Staff number (optional)"))</label><input id="ustaff" name="staff_number" type="text" maxlength="\(Users.staffNumberMaxCharacters)">
            <label for="urole">\(lang.t("角色", "Role"))</label><select id="urole" name="role">\(roleOptions)</select>
            <p class="hint">\(totpNote)</p>
            <button class="btn" type="submit">\(lang.t("添加", "Add"))</button></form>
            <p class="hint">\(lang.t("系统生成一次性密码，只显示一次；此人首次登录时须改为自己的密码。", "A one-time password is generated and shown once; the person chooses their own at the first sign-in."))</p></details>
            """
    }

    /// The add form's fields as the action takes them (the portal's and the console's form alike).
    static func newUser(_ f: [String: String]) -> UserActions.NewUser {
        UserActions.NewUser(
            login: f["login"] ?? "",
            name: f["name"] ?? "",
            role: f["role"] ?? "",
            staffNumber: (f["staff_number"] ?? "").isEmpty ? nil : f["staff_number"],
            secondFactor: f["second_factor"] == "true"
        )
    }

    /// What to hand to the person, once.
    static func credentials(_ c: UserActions.Credentials, lang: Lang, back: String = "/portal/users") -> String {
        let e = Html.escape
        return """
            <section class="card" role="status"><h2>\(e(c.user.name))（\(e(c.user.login))）</h2>
            <p>\(lang.t("请将以下信息当面或通过安全渠道交给本人。此页关闭后不再显示。", "Hand this to the person in person or by a safe channel. It is not shown again once this page is closed."))</p>
            <dl class="facts"><dt>\(lang.t("一次性密码", "One-time password"))</dt><dd><code>\(e(c.password))</code></dd>
            \(c.totpSecret.map { "<dt>\(lang.t("动态验证码密钥", "Authenticator secret"))</dt><dd><code>\(e($0))</code></dd>" } ?? "")
            \(c.totpUri.flatMap { uri in (try? QRCode.encode(uri)).map { (uri, $0) } }.map { uri, qr in
                "<dt>\(lang.t("用验证器应用扫描", "Scan with the authenticator app"))</dt><dd>\(qr.svg(pixels: 200, label: lang.t("验证器二维码", "Authenticator QR code")))</dd>"
                    + "<dt>\(lang.t("验证器链接", "Authenticator link"))</dt><dd><code class=\"wrap\">\(e(uri))</code></dd>"
            } ?? "")</dl>
            <p><a class="btn secondary" href="\(back)">\(lang.t("返回人员列表", "Back to the people"))</a></p></section>
            """
    }
}
