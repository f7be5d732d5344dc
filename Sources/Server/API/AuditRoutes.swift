import CreditCore
import Foundation
import Hummingbird
import Store

/// The audit log for operators: recent rows, and a verification of the whole chain.
struct AuditRoutes {
    let db: Database
    /// The anchor file the sealer writes, checked by the verification.
    let anchors: AuditAnchors?

    struct VerificationBody: Encodable {
        let ok: Bool
        let verified: Int64
        let unsealed: Int64
        let firstBreak: String?
    }

    func register(_ api: API) {
        api.on(.get, "/v1/audit") { call in
            let query = call.request.uri.queryParameters
            let before = try query.get("before").map { text in
                guard let id = Int64(text), id > 0 else { throw Problem.invalid("before", "a positive audit row id") }
                return id
            }
            let uscc = try query.get("uscc").map { text in
                guard let code = USCC(text) else { throw Problem.invalid("uscc", "a valid USCC") }
                return code.value
            }
            let limit = try PageLimits.size(call.request)
            let rows = try await db.withConnection { c in
                try await Audit.recent(on: c, logger: call.logger, before: before, subjectUSCC: uscc, limit: limit)
            }
            return try JSON.response(Page(items: rows, next: rows.count == limit ? rows.last.map { String($0.id) } : nil))
        }
        api.on(.get, "/v1/audit/verification") { _ in
            let v = try await Audit.verify(db, anchors: anchors)
            return try JSON.response(
                VerificationBody(ok: v.ok, verified: v.verified, unsealed: v.unsealed, firstBreak: v.firstBreak?.description)
            )
        }
    }
}
