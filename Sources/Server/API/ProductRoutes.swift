import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// Banks' products (their own only): create as a draft, change, publish, pause, retire. Terms
/// and rules are checked when saved; each bad one gets its own entry in a 422.
struct ProductRoutes {
    let db: Database
    /// Open demands are matched again in the background after a change.
    let rematch: RematchRequests

    struct ProductBody: Decodable {
        let name: String
        let kind: ProductKind
        let amountMinFen: Int64
        let amountMaxFen: Int64
        let termMinMonths: Int
        let termMaxMonths: Int
        let rateMinBp: Int
        let rateMaxBp: Int
        let rules: [RuleInput]
        /// The indicative amount rule (optional; see Quota).
        let quota: RawJSON?

        /// The checked name and terms, or a 422 naming every bad field.
        func checked() throws -> (String, ProductTerms) {
            var checks = FieldChecks()
            let trimmed = checks.text(name, "name", max: Products.maxNameLength) ?? ""
            var errors = checks.errors
            let result = ProductValidation.check(
                kind: kind,
                amountMinFen: amountMinFen,
                amountMaxFen: amountMaxFen,
                termMinMonths: termMinMonths,
                termMaxMonths: termMaxMonths,
                rateMinBp: rateMinBp,
                rateMaxBp: rateMaxBp,
                rules: rules
            )
            var quotaRule: Quota? = nil
            if let q = quota?.value, q != .null {
                switch Quota.parse(q, maxAmountFen: max(amountMaxFen, 1)) {
                case .success(let parsed): quotaRule = parsed
                case .failure(let p): errors += p.problems.map { Problem.FieldError(field: $0.field, reason: $0.reason) }
                }
            }
            switch result {
            case .success(var terms) where errors.isEmpty:
                terms.quota = quotaRule
                return (trimmed, terms)
            case .success: break
            case .failure(let p): errors += p.problems.map { Problem.FieldError(field: $0.field, reason: $0.reason) }
            }
            throw Problem.invalid(errors)
        }
    }

    static func mapped(_ e: ProductError) -> Problem {
        switch e {
        case .notFound: Problem(.notFound, e.description)
        case .state: Problem(.conflict, e.description)
        case .tooManyChanges: Problem(.tooManyRequests, e.description, headers: [.retryAfter: "600"])
        }
    }

    func change(_ call: Call, action: String, _ body: @Sendable (PostgresConnection) async throws -> Product) async throws -> Product {
        do {
            let p = try await call.audited(
                db,
                action: action,
                subject: {
                    .init(id: $0.id.uuidString.lowercased(), detail: ["status": $0.status.rawValue, "revision": String($0.revision)])
                },
                do: { c in
                    try await Products.checkChangeRate(c, logger: call.logger, bank: call.caller.orgId)
                    return try await body(c)
                }
            )
            // Open demands are matched again in the background, within a second (and by the
            // market sweep every minute): never in this request.
            if action != "product.create" { rematch.request() }
            return p
        } catch let e as ProductError {
            throw Self.mapped(e)
        }
    }

    func register(_ api: API) {
        api.on(.post, "/v1/products") { call in
            let (name, terms) = try await call.decode(ProductBody.self).checked()
            let p = try await change(call, action: "product.create") { c in
                try await Products.create(
                    c,
                    logger: call.logger,
                    bank: call.caller.orgId,
                    keyId: call.caller.keyId,
                    name: name,
                    terms: terms
                )
            }
            return try JSON.response(p, status: .created)
        }
        api.on(.get, "/v1/products") { call in
            let status = try call.request.uri.queryParameters.get("status").map { text in
                guard let s = ProductStatus(rawValue: text) else {
                    throw Problem.invalid("status", "one of \(ProductStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return s
            }
            let items = try await db.withConnection { c in
                try await Products.list(c, logger: call.logger, bank: call.caller.orgId, status: status)
            }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.get, "/v1/products/:productId") { call in
            let id = try call.uuidParameter("productId")
            do {
                let p = try await db.withConnection { c in try await Products.find(c, logger: call.logger, id: id, bank: call.caller.orgId)
                }
                return try JSON.response(p)
            } catch let e as ProductError { throw Self.mapped(e) }
        }
        api.on(.put, "/v1/products/:productId") { call in
            let id = try call.uuidParameter("productId")
            let (name, terms) = try await call.decode(ProductBody.self).checked()
            let p = try await change(call, action: "product.update") { c in
                try await Products.update(
                    c,
                    logger: call.logger,
                    id: id,
                    bank: call.caller.orgId,
                    keyId: call.caller.keyId,
                    name: name,
                    terms: terms
                )
            }
            return try JSON.response(p)
        }
        for (verb, target) in [("publish", ProductStatus.published), ("pause", .paused), ("retire", .retired)] {
            api.on(.post, "/v1/products/:productId/\(verb)") { call in
                let id = try call.uuidParameter("productId")
                let p = try await change(call, action: "product.\(verb)") { c in
                    try await Products.move(c, logger: call.logger, id: id, bank: call.caller.orgId, keyId: call.caller.keyId, to: target)
                }
                return try JSON.response(p)
            }
        }
    }
}
