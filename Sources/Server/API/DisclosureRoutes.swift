import CreditCore
import Foundation
import Hummingbird
import Store

/// Public disclosure (双公示) for anyone, and the silent blacklist query (静默查询) for
/// procurement organisations.
struct DisclosureRoutes {
    let db: Database
    /// The public routes read here (a fresh replica, else `db`); silent queries are written on `db`.
    let reads: Reads
    let signer: ReportSigner?
    let limiter: RateLimiter

    struct SilentQuery: Decodable {
        let usccs: [String]
        let tender: String?
    }

    func register(_ api: API) {
        api.on(.post, "/v1/silent-queries") { call in
            let body = try await call.decode(SilentQuery.self)
            guard (1...Disclosure.maxSilentQuery).contains(body.usccs.count) else {
                throw Problem.invalid("usccs", "1 to \(Disclosure.maxSilentQuery) codes")
            }
            if body.usccs.contains(where: { $0.utf8.count > 64 }) { throw Problem.invalid("usccs", "codes of at most 64 characters") }
            let tender = try FieldChecks.text(body.tender, "tender", max: SilentQueries.maxTenderLength, required: false)
            guard let signer else { throw Problem(.notReady, "no signing key is configured (XYD_SIGNING_KEY_FILE)") }
            let signed = try await call.audited(
                db,
                action: "silent_query",
                subject: { .init(id: $0.id.uuidString.lowercased(), detail: ["codes": String(body.usccs.count)]) },
                do: { c in
                    try await SilentQueries.run(
                        c,
                        logger: call.logger,
                        signer: signer,
                        org: call.caller.orgId,
                        orgName: call.caller.orgName,
                        codes: body.usccs,
                        tender: tender
                    )
                }
            )
            return Response(
                status: .created,
                headers: [
                    .contentType: "application/json; charset=utf-8",
                    .location: "/v1/silent-queries/\(signed.id.uuidString.lowercased())",
                ],
                body: .init(byteBuffer: ByteBuffer(string: signed.document))
            )
        }
        api.on(.get, "/v1/silent-queries/:queryId") { call in
            let id = try call.uuidParameter("queryId")
            // Reading a kept answer again is a query of the listings too: audited like the first.
            let signed = try await call.audited(db, action: "silent_query.read", subject: { _ in .init(id: id.uuidString.lowercased()) }) {
                c in
                guard let s = try await SilentQueries.find(c, logger: call.logger, id: id, org: call.caller.orgId) else {
                    throw Problem(.notFound, "no silent query \(id) of yours")
                }
                return s
            }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: signed.document))
            )
        }
        api.on(.get, "/v1/public/enterprises/:uscc") { call in
            try limit(call)
            let raw = call.context.parameters.get("uscc") ?? ""
            guard case .success(let code) = USCC.parse(raw) else { throw Problem.invalid("uscc", "a valid unified social credit code") }
            guard
                let record = try await reads.database.withConnection({ c in
                    try await Disclosure.publicRecord(c, logger: call.logger, uscc: code.value, today: Day.todayInChina())
                })
            else { throw Problem(.notFound, "no registered enterprise \(code.value)") }
            return Self.json(record)
        }
        api.on(.get, "/v1/public/products") { call in
            try limit(call)
            let items = try await reads.database.withConnection { c in try await CataloguePage.load(c, call) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.get, "/v1/public/scorecard") { call in
            try limit(call)
            guard let doc = try await reads.database.withConnection({ c in try await Scorecards.activeDocument(c, logger: call.logger) })
            else {
                throw Problem(.notFound, "no scorecard is active yet")
            }
            let card = try JSONParser.parse(Array(doc.body.utf8))
            let policy = try Scorecard.decode(Data(doc.body.utf8)).policy
            let stamp = ISO8601DateFormatter().string(from: doc.activatedAt)
            let rules: [JSONValue] = Publicity.sets.map { set in
                [
                    "id": .string(set.id), "effective_from": set.effectiveFrom.map { .string($0.description) } ?? .null,
                    "source": .string(set.source),
                ]
            }
            return Self.json([
                "version": card["version"] ?? .null, "sha256": .string(doc.sha256), "activated_at": .string(stamp),
                "penalty_policy": ["zh": .string(policy.words.zh), "en": .string(policy.words.en)],
                "publicity_rules": .array(rules), "card": card,
            ])
        }
        api.on(.get, "/v1/public/enterprises") { call in
            try limit(call)
            guard let name = call.request.uri.queryParameters.get("name")?.trimmingCharacters(in: .whitespaces), !name.isEmpty,
                name.unicodeScalars.count <= TextLimits.identifier
            else {
                throw Problem.invalid("name", "the exact registered name (1 to \(TextLimits.identifier) characters)")
            }
            let items = try await reads.database.withConnection { c in
                var out: [JSONValue] = []
                for code in try await Disclosure.codes(named: name, c, logger: call.logger) {
                    if let r = try await Disclosure.publicRecord(c, logger: call.logger, uscc: code, today: Day.todayInChina()) {
                        out.append(r)
                    }
                }
                return out
            }
            return Self.json(["items": .array(items), "next": .null])
        }
    }

    func limit(_ call: Call) throws { try limiter.check(call) }

    static func json(_ v: JSONValue) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: v.jsonText))
        )
    }
}
