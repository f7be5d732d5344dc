import CreditCore
import Foundation
import Hummingbird
import Store

/// What commitment operations do — checks, one transaction, the audit row — whichever face
/// asks: the API's routes (CommitmentRoutes) and the portal's forms call these same functions.
struct CommitmentActions {
    let db: Database

    struct Make: Decodable {
        let kind: String
        let months: Int
    }

    /// A business makes a commitment (the API's and the portal's way alike).
    func make(_ call: Call, _ body: Make) async throws -> CommitmentStore.Commitment {
        let uscc = try call.ownUSCC()
        var errors: [Problem.FieldError] = []
        let kind = Commitments.Kind(rawValue: body.kind)
        if kind == nil {
            errors.append(
                .init(field: "kind", reason: "one of \(Commitments.Kind.allCases.map(\.rawValue).joined(separator: ", "))", zh: "请选择承诺内容")
            )
        }
        if !Commitments.periods.contains(body.months) {
            errors.append(
                .init(
                    field: "months",
                    reason: "one of \(Commitments.periods.sorted().map(String.init).joined(separator: ", "))",
                    zh: "承诺期限须为 \(Commitments.periods.sorted().map(String.init).joined(separator: "、")) 个月之一"
                )
            )
        }
        guard errors.isEmpty, let kind else { throw Problem.invalid(errors) }
        do {
            return try await call.audited(
                db,
                action: "commitment.make",
                subject: { .init(uscc: uscc, id: $0.id.uuidString.lowercased()) },
                do: { c in
                    try await CommitmentStore.make(
                        c,
                        logger: call.logger,
                        uscc: uscc,
                        org: call.caller.orgId,
                        kind: kind,
                        months: body.months,
                        today: Day.todayInChina()
                    )
                }
            )
        } catch let e as CommitmentStore.Failure { throw Problem(.conflict, e.description, zh: e.zh) }
    }
}
