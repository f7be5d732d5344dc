import Foundation
import HTTPTypes
import Hummingbird
import CreditCore
import Store

/// The session cookie of the browser pages.
enum WebSession {
    static let cookie = "xyd_session"

    /// The session token from the `Cookie` header.
    static func token(_ request: Request) -> String? {
        for field in request.headers[values: .cookie] {
            for part in field.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == cookie { return String(kv[1]) }
            }
        }
        return nil
    }

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
        let target = "\(area)/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "/-_"))) ?? "")
        return Response(status: .seeOther, headers: [.location: target])
    }

    struct SignInRefused: Error {
        let why: String
    }

    /// Starts a session for a key of one of these kinds, audited; the cookie's token, or why not.
    static func signIn(_ db: Database, _ call: Call, key: String, allowed: Set<OrgKind>, wrongKind: String) async throws -> Result<(String, Principal), SignInRefused> {
        try await db.withTransaction { c -> Result<(String, Principal), SignInRefused> in
            switch try await Register.authenticate(on: c, logger: call.logger, key: key) {
            case .failure:
                return .failure(SignInRefused(why: "这个密钥无效、已吊销或已过期。The key is unknown, revoked or expired."))
            case .success(let p) where !allowed.contains(p.kind):
                return .failure(SignInRefused(why: wrongKind))
            case .success(let p):
                let (token, _) = try await Sessions.create(c, logger: call.logger, principal: p)
                try await Audit.record(on: c, logger: call.logger, AuditEntry(
                    requestId: call.context.requestId, actorOrgId: p.orgId, actorKeyId: p.keyId, actorKind: p.kind.rawValue,
                    action: "session.sign_in", route: call.route, result: .allowed))
                return .success((token, p))
            }
        }
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
        Response(status: status,
                 headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                           .init("Content-Security-Policy")!: "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'",
                           .init("X-Content-Type-Options")!: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `application/x-www-form-urlencoded` fields.
    static func form(_ request: Request, limit: Int) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: limit)
        var out: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if let k = kv.first { out[k] = kv.count > 1 ? kv[1] : "" }
        }
        return out
    }
}
