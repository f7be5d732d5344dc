import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// Credit repair: a business applies to end a penalty's publication early; operators decide.
struct RepairRoutes {
    let db: Database

    struct Apply: Decodable {
        let recordId: String
        let corrections: [String]
        let evidence: String
        enum CodingKeys: String, CodingKey {
            case corrections, evidence
            case recordId = "record_id"
        }
    }

    struct Reject: Decodable { let reason: String? }

    static func mapped(_ e: Repairs.Failure) -> Problem {
        switch e {
        case .noSuchPenalty, .notFound: Problem(.notFound, e.description)
        case .tooEarly, .notPublished, .alreadyOpen, .state: Problem(.conflict, e.description)
        }
    }

    /// A business applies for repair of one of its penalties (the API's and the portal's way alike).
    func apply(_ call: Call, _ body: Apply) async throws -> Repairs.Application {
        let uscc = try call.ownUSCC()
        var errors: [Problem.FieldError] = []
        if body.recordId.isEmpty || body.recordId.unicodeScalars.count > 200 {
            errors.append(.init(field: "record_id", reason: "the penalty's record id"))
        }
        if body.corrections.isEmpty || !Set(body.corrections).isSubset(of: Repairs.corrections) {
            errors.append(.init(field: "corrections", reason: "one or more of \(Repairs.corrections.sorted().joined(separator: ", "))"))
        }
        let evidence = body.evidence.trimmingCharacters(in: .whitespacesAndNewlines)
        if evidence.isEmpty || evidence.unicodeScalars.count > Repairs.maxEvidence {
            errors.append(.init(field: "evidence", reason: "1 to \(Repairs.maxEvidence) characters"))
        }
        guard errors.isEmpty else { throw Problem.invalid(errors) }
        do {
            return try await db.withTransaction { c in
                let a = try await Repairs.apply(
                    c,
                    logger: call.logger,
                    uscc: uscc,
                    org: call.caller.orgId,
                    recordId: body.recordId,
                    corrections: Array(Set(body.corrections)).sorted(),
                    evidence: evidence,
                    today: Day.todayInChina()
                )
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    call.auditEntry(
                        action: "repair.apply",
                        result: .allowed,
                        subjectUSCC: uscc,
                        subjectId: a.id.uuidString.lowercased()
                    )
                )
                return a
            }
        } catch let e as Repairs.Failure { throw Self.mapped(e) }
    }

    func register(_ api: API) {
        api.on(.post, "/v1/me/repairs") { call in
            let body = try await call.decode(Apply.self)
            return try JSON.response(try await apply(call, body), status: .created)
        }
        api.on(.get, "/v1/me/repairs") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await Repairs.mine(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.get, "/v1/repairs") { call in
            let state = call.request.uri.queryParameters.get("state")
            if let state, !["open", "approved", "rejected"].contains(state) {
                throw Problem.invalid("state", "open, approved or rejected")
            }
            let items = try await db.withConnection { c in try await Repairs.all(c, logger: call.logger, state: state) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.post, "/v1/repairs/:repairId/approve") { call in
            let id = try call.uuidParameter("repairId")
            return try await decide(call, id: id, action: "repair.approve") { c in
                try await Repairs.approve(c, logger: call.logger, id: id, by: call.caller.orgId, today: Day.todayInChina())
            }
        }
        api.on(.post, "/v1/repairs/:repairId/reject") { call in
            let id = try call.uuidParameter("repairId")
            let reason = try await call.decode(Reject.self).reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !reason.isEmpty, reason.unicodeScalars.count <= 500 else {
                throw Problem.invalid("reason", "why, 1 to 500 characters (the business sees it)")
            }
            return try await decide(call, id: id, action: "repair.reject") { c in
                try await Repairs.reject(c, logger: call.logger, id: id, by: call.caller.orgId, reason: reason)
            }
        }
    }

    func decide(
        _ call: Call,
        id: UUID,
        action: String,
        _ body: @Sendable (PostgresConnection) async throws -> Repairs.Application
    ) async throws -> Response {
        do {
            return try await call.auditedChange(db, action: action, subjectId: id, subjectUSCC: { $0.uscc }, body)
        } catch let e as Repairs.Failure { throw Self.mapped(e) }
    }
}
