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
