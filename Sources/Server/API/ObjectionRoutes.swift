import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// Objections: a business raises them against its own records; operators uphold or reject.
struct ObjectionRoutes {
    let db: Database

    struct Raise: Decodable {
        let dataset: String
        let recordId: String
        let reason: String
        let evidence: String?
        enum CodingKeys: String, CodingKey {
            case dataset, reason, evidence
            case recordId = "record_id"
        }
    }

    struct Resolve: Decodable {
        let resolution: String?
        let reason: String?
    }

    static func mapped(_ e: Objections.Failure) -> Problem {
        switch e {
        case .noSuchRecord: Problem(.notFound, e.description)
        case .notFound: Problem(.notFound, e.description)
        case .alreadyOpen, .state: Problem(.conflict, e.description)
        }
    }

    /// A business objects to one of its own records (the API's and the portal's way alike).
    func raise(_ call: Call, _ body: Raise) async throws -> Objections.Objection {
        let uscc = try call.ownUSCC()
        var errors: [Problem.FieldError] = []
        let dataset = Dataset(rawValue: body.dataset)
        if dataset == nil {
            errors.append(.init(field: "dataset", reason: "one of \(Dataset.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        if body.recordId.isEmpty || body.recordId.unicodeScalars.count > 200 {
            errors.append(.init(field: "record_id", reason: "1 to 200 characters"))
        }
        let reason = body.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty || reason.unicodeScalars.count > Objections.maxReason {
            errors.append(.init(field: "reason", reason: "1 to \(Objections.maxReason) characters"))
        }
        if let e = body.evidence, e.unicodeScalars.count > Objections.maxEvidence {
            errors.append(.init(field: "evidence", reason: "at most \(Objections.maxEvidence) characters"))
        }
        guard errors.isEmpty, let dataset else { throw Problem.invalid(errors) }
        do {
            return try await db.withTransaction { c in
                let o = try await Objections.raise(
                    c,
                    logger: call.logger,
                    uscc: uscc,
                    org: call.caller.orgId,
                    dataset: dataset,
                    recordId: body.recordId,
                    reason: reason,
                    evidence: body.evidence,
                    today: Day.todayInChina()
                )
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    call.auditEntry(
                        action: "objection.raise",
                        result: .allowed,
                        subjectUSCC: uscc,
                        subjectId: o.id.uuidString.lowercased()
                    )
                )
                return o
            }
        } catch let e as Objections.Failure { throw Self.mapped(e) }
    }

    func register(_ api: API) {
        api.on(.post, "/v1/me/objections") { call in
            let body = try await call.decode(Raise.self)
            return try JSON.response(try await raise(call, body), status: .created)
        }
        api.on(.get, "/v1/me/objections") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await Objections.mine(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.get, "/v1/objections") { call in
            let state = call.request.uri.queryParameters.get("state")
            if let state, !["open", "upheld", "rejected"].contains(state) { throw Problem.invalid("state", "open, upheld or rejected") }
            let items = try await db.withConnection { c in try await Objections.all(c, logger: call.logger, state: state) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.post, "/v1/objections/:objectionId/uphold") { call in
            let id = try call.uuidParameter("objectionId")
            let body = try await call.decodeIfPresent(Resolve.self)
            if let r = body?.resolution, r.unicodeScalars.count > Objections.maxReason {
                throw Problem.invalid("resolution", "at most \(Objections.maxReason) characters")
            }
            return try await resolve(call, id: id, action: "objection.uphold") { c in
                try await Objections.uphold(c, logger: call.logger, id: id, by: call.caller.orgId, resolution: body?.resolution)
            }
        }
        api.on(.post, "/v1/objections/:objectionId/reject") { call in
            let id = try call.uuidParameter("objectionId")
            let reason = try await call.decode(Resolve.self).reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !reason.isEmpty, reason.unicodeScalars.count <= Objections.maxReason else {
                throw Problem.invalid("reason", "why it is rejected, 1 to \(Objections.maxReason) characters (the business sees it)")
            }
            return try await resolve(call, id: id, action: "objection.reject") { c in
                try await Objections.reject(c, logger: call.logger, id: id, by: call.caller.orgId, reason: reason)
            }
        }
    }

    func resolve(
        _ call: Call,
        id: UUID,
        action: String,
        _ body: @Sendable (PostgresConnection) async throws -> Objections.Objection
    ) async throws -> Response {
        do {
            return try await call.auditedChange(db, action: action, subjectId: id, subjectUSCC: { $0.uscc }, body)
        } catch let e as Objections.Failure { throw Self.mapped(e) }
    }
}
