import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// Objections: a business raises them against its own records; operators uphold or reject.
struct ObjectionRoutes {
    let db: Database

    var actions: ObjectionActions { ObjectionActions(db: db) }

    func register(_ api: API) {
        api.on(.post, "/v1/me/objections") { call in
            let body = try await call.decode(ObjectionActions.Raise.self)
            return try JSON.response(try await actions.raise(call, body), status: .created)
        }
        api.on(.get, "/v1/me/messages") { call in
            struct Answer: Encodable {
                let items: [Messages.Message]
                let unread: Int
                /// Pass as `before` for the next (older) page; null on the last.
                let next: String?
                func encode(to encoder: Encoder) throws {
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(items, forKey: .items)
                    try c.encode(unread, forKey: .unread)
                    try c.encode(next, forKey: .next)
                }
                enum CodingKeys: CodingKey { case items, unread, next }
            }
            let uscc = try call.ownUSCC()
            let (limit, before) = try MessagesPage.paging(call)
            let answer = try await call.audited(
                db,
                action: "messages.read",
                subject: { _ in .init(uscc: uscc) },
                do: { c in
                    let items = try await Messages.list(c, logger: call.logger, uscc: uscc, before: before, limit: limit)
                    return Answer(
                        items: items,
                        unread: try await Messages.unread(c, logger: call.logger, uscc: uscc),
                        next: items.count == limit ? items.last?.cursor.text : nil
                    )
                }
            )
            return try JSON.response(answer)
        }
        api.on(.post, "/v1/me/messages/seen") { call in
            let uscc = try call.ownUSCC()
            try await db.withConnection { c in try await Messages.markSeen(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(["unread": 0])
        }
        api.on(.post, "/v1/me/statements") { call in
            let body = try await call.decode(ObjectionActions.NewStatement.self)
            return try JSON.response(try await actions.addStatement(call, body), status: .created)
        }
        api.on(.get, "/v1/me/statements") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await Statements.mine(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.post, "/v1/me/statements/:statementId/withdraw") { call in
            try JSON.response(try await actions.withdrawStatement(call, id: try call.uuidParameter("statementId")))
        }
        api.on(.get, "/v1/me/objections") { call in
            let uscc = try call.ownUSCC()
            let items = try await db.withConnection { c in try await Objections.mine(c, logger: call.logger, uscc: uscc) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.get, "/v1/objections") { call in
            let state = call.request.uri.queryParameters.get("state")
            if let state, !["open", "upheld", "rejected", "unverifiable"].contains(state) {
                throw Problem.invalid("state", "open, upheld, rejected or unverifiable")
            }
            let provider = try call.request.uri.queryParameters.get("provider").map { text in
                guard let p = ProviderName(rawValue: text) else {
                    throw Problem.invalid("provider", "one of \(ProviderName.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return p
            }
            let items = try await db.withConnection { c in
                try await Objections.all(c, logger: call.logger, state: state, provider: provider)
            }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.post, "/v1/objections/:objectionId/uphold") { call in
            let id = try call.uuidParameter("objectionId")
            let body = try await call.decodeIfPresent(ObjectionActions.Resolve.self)
            return try JSON.response(try await actions.decide(call, id: id, .uphold(resolution: body?.resolution)))
        }
        api.on(.post, "/v1/objections/:objectionId/unverifiable") { call in
            let id = try call.uuidParameter("objectionId")
            let body = try await call.decode(ObjectionActions.Resolve.self)
            return try JSON.response(try await actions.decide(call, id: id, .unverifiable(account: body.reason)))
        }
        api.on(.post, "/v1/objections/:objectionId/reject") { call in
            let id = try call.uuidParameter("objectionId")
            let body = try await call.decode(ObjectionActions.Resolve.self)
            return try JSON.response(try await actions.decide(call, id: id, .reject(reason: body.reason)))
        }
    }
}
