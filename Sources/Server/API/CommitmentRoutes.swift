import CreditCore
import Foundation
import Hummingbird
import Store

/// Credit commitments: the catalogue (public), a business's own.
struct CommitmentRoutes {
    let db: Database

    var actions: CommitmentActions { CommitmentActions(db: db) }

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
            let body = try await call.decode(CommitmentActions.Make.self)
            return try JSON.response(try await actions.make(call, body), status: .created)
        }
        api.on(.get, "/v1/me/commitments") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await CommitmentStore.mine(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
    }
}
