import CreditCore
import Foundation
import Hummingbird
import Store

/// Credit commitments: the catalogue (public), a business's own.
struct CommitmentRoutes {
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
            errors.append(.init(field: "kind", reason: "one of \(Commitments.Kind.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        if !Commitments.periods.contains(body.months) {
            errors.append(.init(field: "months", reason: "one of \(Commitments.periods.sorted().map(String.init).joined(separator: ", "))"))
        }
        guard errors.isEmpty, let kind else { throw Problem.invalid(errors) }
        do {
            return try await db.withTransaction { c in
                let m = try await CommitmentStore.make(
                    c,
                    logger: call.logger,
                    uscc: uscc,
                    org: call.caller.orgId,
                    kind: kind,
                    months: body.months,
                    today: Day.todayInChina()
                )
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    call.auditEntry(
                        action: "commitment.make",
                        result: .allowed,
                        subjectUSCC: uscc,
                        subjectId: m.id.uuidString.lowercased()
                    )
                )
                return m
            }
        } catch let e as CommitmentStore.Failure { throw Problem(.conflict, e.description) }
    }

    func register(_ api: API) {
        api.on(.get, "/v1/commitments/catalogue") { _ in
            let items: [JSONValue] = Commitments.Kind.allCases.map { k in
                [
                    "kind": .string(k.rawValue), "zh": .string(k.zh), "en": .string(k.en), "checked_against": .string(k.dataset.rawValue),
                    "months": .array(Commitments.periods.sorted().map { .number(String($0)) }),
                ]
            }
            return Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(["items": .array(items), "next": .null]).jsonText))
            )
        }
        api.on(.post, "/v1/me/commitments") { call in
            let body = try await call.decode(Make.self)
            return try JSON.response(try await make(call, body), status: .created)
        }
        api.on(.get, "/v1/me/commitments") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await CommitmentStore.mine(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
    }
}
