import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// What objection operations do — checks, one transaction, the audit row — whichever face
/// asks: the API's routes (ObjectionRoutes) and the portal's forms call these same functions.
struct ObjectionActions {
    let db: Database

    struct Raise: Decodable {
        let dataset: String
        let recordId: String
        let reason: String
        let evidence: String?
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
            return try await call.audited(
                db,
                action: "objection.raise",
                subject: { .init(uscc: uscc, id: $0.id.uuidString.lowercased()) },
                do: { c in
                    try await Objections.raise(
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
                }
            )
        } catch let e as Objections.Failure { throw Self.mapped(e) }
    }

}
