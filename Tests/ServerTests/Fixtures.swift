import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Server
import Store
import TestSupport
import Testing

/// One organisation of each kind with a live key, plus a revoked and an expired key.
struct Keys: Sendable {
    var byKind: [OrgKind: String] = [:]
    var orgIds: [OrgKind: UUID] = [:]
    var revoked = ""
    var expired = ""

    static func make(_ db: TestDatabase) async throws -> Keys {
        let l = db.app.logger
        var keys = Keys()
        for kind in OrgKind.allCases {
            let uscc: String? = kind == .enterprise ? "91320602MA1NTX016C" : nil
            let (org, issued) = try await db.app.withTransaction { c in
                let org = try await Register.createOrganisation(on: c, logger: l, kind: kind, name: "Test \(kind.rawValue)", uscc: uscc)
                let issued = try await Register.issueKey(on: c, logger: l, orgId: org.id, label: "test", expiresAt: nil, issuedBy: nil)
                return (org, issued)
            }
            keys.byKind[kind] = issued.secret
            keys.orgIds[kind] = org.id
        }
        let bank = keys.orgIds[.bank]!
        let revoked = try await db.app.withConnection { c in
            let k = try await Register.issueKey(on: c, logger: l, orgId: bank, label: "revoked", expiresAt: nil, issuedBy: nil)
            _ = try await Register.revokeKey(on: c, logger: l, id: k.info.id)
            return k.secret
        }
        keys.revoked = revoked
        let expiring = try await db.app.withConnection { c in
            try await Register.issueKey(
                on: c,
                logger: l,
                orgId: bank,
                label: "expired",
                expiresAt: Date().addingTimeInterval(3600),
                issuedBy: nil
            )
        }
        try await db.owner.execute("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = '\(expiring.info.id)'")
        keys.expired = expiring.secret
        return keys
    }
}

func testConfig(_ db: TestDatabase, _ extra: [String: String] = [:]) throws -> AppConfig {
    try AppConfig.load(
        environment: [
            "XYD_DATABASE_URL": db.appURL.urlString,
            "XYD_MIGRATIONS_DIR": TestEnvironment.migrationsDirectory,
            "XYD_HTTP_PORT": "0",
            "XYD_LOG_LEVEL": "error",
            "XYD_DB_POOL_SIZE": "4",
            // A liveness bound for the start-up check (three of these): generous, for a loaded machine.
            "XYD_DB_CONNECT_TIMEOUT_MS": "20000",
            // Tests make many refused calls from one address on purpose; the throttle's own test sets
            // it low (SecurityTests).
            "XYD_AUTH_FAILURE_BURST": "100000",
            "XYD_AUDIT_KEY": TestEnvironment.auditKeyBase64,
            "XYD_DB_ACQUIRE_TIMEOUT_MS": String(TestEnvironment.acquireTimeoutMilliseconds),
            // scrypt at 2^10 rather than 2^17: the same code, a thousandth of the work per hash
            // (CredentialsTests hashes at today's cost). Each hash carries its own cost.
            "XYD_PASSWORD_SCRYPT_LOG_N": "10",
        ].merging(extra) { _, new in new }
    )
}

func bearer(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }

func jsonBody(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

extension HTTPFields {
    static let json: HTTPFields = [.contentType: "application/json"]
    func merging(_ other: HTTPFields) -> HTTPFields {
        var copy = self
        for field in other { copy.append(field) }
        return copy
    }
}

/// A decoded problem+json body.
struct ProblemBody: Decodable, Equatable {
    let type: String
    let title: String
    let status: Int
    let detail: String?
    let instance: String
    let request_id: String
    let errors: [Problem.FieldError]?
}

func decodeProblem(_ response: TestResponse) throws -> ProblemBody {
    try JSONDecoder().decode(ProblemBody.self, from: Data(buffer: response.body))
}

func decodeJSON<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(T.self, from: Data(buffer: response.body))
}

/// The concrete path for a template, with each `:param` replaced by a random id.
func concrete(_ template: String) -> String {
    template.split(separator: "/").map { $0.hasPrefix(":") ? UUID().uuidString : String($0) }
        .reduce("") { $0 + "/" + $1 }
}

/// The repository's root folder (for contracts/).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A sign-in form's anti-forgery pair, as a browser gets it from the sign-in page: the cookie
/// (`name=value`) and the form field's value.
func loginForm(_ client: some TestClientProtocol, _ uri: String) async throws -> (cookie: String, token: String) {
    let page = try await client.execute(uri: uri, method: .get)
    let cookie = try #require(page.headers[.setCookie].flatMap { $0.split(separator: ";").first.map(String.init) })
    let html = String(buffer: page.body)
    let marker = "name=\"login_csrf\" value=\""
    let start = try #require(html.range(of: marker)).upperBound
    return (cookie, String(html[start...].prefix { $0 != "\"" }))
}

/// People in tests (issue 22): pages are signed in by a person, never a key.
enum People {
    struct Made: Decodable {
        struct U: Decodable {
            let id: UUID
            let login: String
        }
        let user: U
        let password: String
        let totpSecret: String?
    }

    struct Me: Decodable {
        struct O: Decodable { let kind: OrgKind }
        let organisation: O
    }

    static func form(_ fields: [(String, String)]) -> ByteBuffer {
        ByteBuffer(
            string: fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(
                separator: "&"
            )
        )
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// Makes a person of the key's organisation over the API (the key acts as its admin), with
    /// `role` or the organisation's highest; nil when the key makes nothing (unknown, revoked).
    static func make(
        _ client: some TestClientProtocol,
        key: String,
        role: OrgRole? = nil,
        name: String = "测试人员"
    ) async throws -> (
        Made, OrgKind
    )? {
        let me = try await client.execute(uri: "/v1/me", method: .get, headers: bearer(key))
        guard me.status == .ok else { return nil }
        let kind = try JSONDecoder().decode(Me.self, from: Data(buffer: me.body)).organisation.kind
        let login = "p" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let made = try await client.execute(
            uri: "/v1/users",
            method: .post,
            headers: bearer(key).merging(.json),
            body: jsonBody(#"{"login": "\#(login)", "name": "\#(name)", "role": "\#((role ?? OrgRole.highest(of: kind)).rawValue)"}"#)
        )
        #expect(made.status == .created, "\(String(buffer: made.body))")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return (try decoder.decode(Made.self, from: Data(buffer: made.body)), kind)
    }

    /// The code an authenticator shows, for a step later than `after`.
    static func code(_ secret: String?, after used: Int64?) -> (String, Int64?) {
        guard let secret, let bytes = Base32.decode(secret) else { return ("", nil) }
        let step = max(TOTP.step(at: Date()), (used ?? 0) + 1)
        return (TOTP.code(secret: bytes, step: step), step)
    }

    /// Posts the sign-in form of `area` (`/portal` or `/dashboard`).
    static func postLogin(
        _ client: some TestClientProtocol,
        area: String,
        login: String,
        password: String,
        code: String,
        next: String
    ) async throws -> TestResponse {
        let (cookie, token) = try await loginForm(client, "\(area)/login")
        return try await client.execute(
            uri: "\(area)/login",
            method: .post,
            headers: formHeaders.merging([.cookie: cookie]),
            body: form([("login", login), ("password", password), ("code", code), ("next", next), ("login_csrf", token)])
        )
    }

    /// A person of the key's organisation signs in at `area`, having chosen their own password
    /// at the first sign-in: the sign-in's response (303 with the session cookie). An unknown
    /// key signs in as nobody (401).
    static func signIn(
        _ client: some TestClientProtocol,
        key: String,
        area: String,
        next: String = "",
        role: OrgRole? = nil
    ) async throws -> TestResponse {
        guard let (made, _) = try await make(client, key: key, role: role) else {
            return try await postLogin(client, area: area, login: "nobody", password: "not-a-password-1", code: "", next: next)
        }
        var (code, step) = Self.code(made.totpSecret, after: nil)
        let first = try await postLogin(client, area: area, login: made.user.login, password: made.password, code: code, next: next)
        guard first.status == .seeOther, let cookie = DashboardTests.cookie(first) else { return first }
        #expect(first.headers[.location]?.hasPrefix("\(area)/password") == true)
        let chosen = try await choosePassword(client, area: area, cookie: cookie, current: made.password)
        (code, step) = Self.code(made.totpSecret, after: step)
        return try await postLogin(client, area: area, login: made.user.login, password: chosen, code: code, next: next)
    }
}

extension People {
    /// A person who has signed in once and chosen their own password: what a browser walk
    /// signs in with (`steps`).
    struct Ready: Sendable {
        let login: String
        let password: String
        let totpSecret: String?
        let usedStep: Int64?
        /// Where the person signs in: `/portal`, `/dashboard` or `/console`.
        var area = "/portal"

        /// The sign-in form filled in and sent, as the person would (the TOTP code typed at that
        /// moment by ops/browser.py).
        func steps(go: Bool = true) -> [[String: Any]] {
            var steps: [[String: Any]] = go ? [["go": "\(area)/login"]] : []
            steps += [["fill": "#login", "value": login], ["fill": "#password", "value": password]]
            if let totpSecret { steps.append(["fill": "#code", "totp": totpSecret, "after": usedStep ?? -1]) }
            steps.append(["click": "button[type=submit]"])
            return steps
        }
    }

    static func ready(_ client: some TestClientProtocol, key: String, area: String = "/portal", role: OrgRole? = nil) async throws -> Ready
    {
        let (made, _) = try #require(try await make(client, key: key, role: role))
        let (code, step) = Self.code(made.totpSecret, after: nil)
        let first = try await postLogin(client, area: area, login: made.user.login, password: made.password, code: code, next: "")
        let cookie = try #require(DashboardTests.cookie(first))
        let chosen = try await choosePassword(client, area: area, cookie: cookie, current: made.password)
        return Ready(login: made.user.login, password: chosen, totpSecret: made.totpSecret, usedStep: step, area: area)
    }

    /// The CSRF token a session's page carries in its forms.
    static func csrf(_ client: some TestClientProtocol, cookie: String, page: String) async throws -> String {
        let html = String(buffer: try await client.execute(uri: page, method: .get, headers: [.cookie: cookie]).body)
        let marker = "name=\"csrf\" value=\""
        return try #require(html.range(of: marker).map { String(html[$0.upperBound...].prefix { $0 != "\"" }) })
    }

    /// At the first sign-in the person chooses their own password (the session goes on).
    static func choosePassword(_ client: some TestClientProtocol, area: String, cookie: String, current: String) async throws -> String {
        let csrf = try await csrf(client, cookie: cookie, page: "\(area)/password")
        let chosen = "river-stone-" + String(UUID().uuidString.prefix(8))
        let changed = try await client.execute(
            uri: "\(area)/password",
            method: .post,
            headers: formHeaders.merging([.cookie: cookie]),
            body: form([("csrf", csrf), ("current", current), ("new", chosen), ("again", chosen), ("next", area)])
        )
        #expect(changed.status == .seeOther, "\(String(buffer: changed.body))")
        return chosen
    }
}
