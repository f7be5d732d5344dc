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

    /// One answer for every refused key — unknown, revoked, expired, or of a kind the page is not
    /// for — so that a sign-in form tells nothing about a key.
    /// One message for every refused key (which of the reasons is not told).
    static let refusedKey = SignInRefused(
        zh: "这个密钥不能登录此页面：密钥无效、已吊销、已过期，或不属于本页面的用户。",
        en: "The key cannot sign in here: it is unknown, revoked, expired, or not for this page."
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

    /// The sign-in page of the area a path belongs to (the portal's or the dashboard's).
    static func toSignIn(next: String) -> Response {
        let area = next.hasPrefix("/portal") ? "/portal" : "/dashboard"
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

    /// Starts a session for a key of one of these kinds, audited; the cookie's token, or why not.
    /// A refused key is audited (`session.sign_in`, denied) and counted by the throttle: past its
    /// budget the form answers 429 before looking the key up.
    static func signIn(
        _ db: Database,
        _ call: Call,
        key: String,
        allowed: Set<OrgKind>
    ) async throws -> Result<(String, Principal), SignInRefused> {
        try call.throttle?.check(address: call.context.clientAddress)
        let result = try await db.withTransaction { c -> Result<(String, Principal), SignInRefused> in
            // Every sign-in is audited, refused or not, with who tried (when the key was known).
            func audit(_ p: Principal?, _ result: AuditEntry.Result, why: String? = nil) async throws {
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    AuditEntry(
                        requestId: call.context.requestId,
                        actorOrgId: p?.orgId,
                        actorKeyId: p?.keyId,
                        actorUserId: p?.user?.id,
                        actorKind: p?.kind.rawValue ?? "anonymous",
                        action: "session.sign_in",
                        route: call.route,
                        result: result,
                        detail: why.map { ["why": $0] } ?? [:]
                    )
                )
            }
            switch try await Register.authenticate(on: c, logger: call.logger, key: key) {
            case .failure(let why):
                try await audit(nil, .denied, why: why.rawValue)
                return .failure(refusedKey)
            case .success(let p) where !allowed.contains(p.kind):
                try await audit(p, .denied, why: "kind_not_allowed")
                return .failure(refusedKey)
            case .success(let p):
                let (token, _) = try await Sessions.create(c, logger: call.logger, principal: p)
                try await audit(p, .allowed)
                return .success((token, p))
            }
        }
        if case .failure = result, let slowed = call.throttle?.failed(address: call.context.clientAddress, key: key) { throw slowed }
        return result
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
            throw Problem(.forbidden, "the form's CSRF token does not match the session: reload the page and try again")
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
