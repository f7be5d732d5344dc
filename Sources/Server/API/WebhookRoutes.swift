import CreditCore
import Foundation
import Hummingbird
import Store

/// A bank's webhook endpoints and their delivery log.
struct WebhookRoutes {
    let db: Database
    let policy: WebhookPolicy

    struct NewEndpoint: Decodable { let url: String }

    struct Created: Encodable {
        let endpoint: Webhooks.Endpoint
        /// Shown once: the key of the `X-Xyd-Signature` HMAC.
        let secret: String
    }

    func register(_ api: API) {
        api.on(.post, "/v1/webhooks") { call in
            let body = try await call.decode(NewEndpoint.self)
            if let why = policy.check(body.url) { throw Problem.invalid("url", why) }
            do {
                let (endpoint, secret) = try await call.audited(
                    db,
                    action: "webhook.register",
                    subject: { .init(id: $0.0.id.uuidString.lowercased()) },
                    do: { c in
                        try await Webhooks.register(c, logger: call.logger, bank: call.caller.orgId, url: body.url)
                    }
                )
                return try JSON.response(Created(endpoint: endpoint, secret: secret), status: .created)
            } catch let e as WebhookError { throw Problem(.conflict, e.description) }
        }
        api.on(.get, "/v1/webhooks") { call in
            let items = try await db.withConnection { c in try await Webhooks.endpoints(c, logger: call.logger, bank: call.caller.orgId) }
            return try JSON.response(Page(items: items, next: nil))
        }
        api.on(.delete, "/v1/webhooks/:endpointId") { call in
            let id = try call.uuidParameter("endpointId")
            // Not the bank's endpoint: 404, and the transaction (with its audit row) rolls back.
            try await call.audited(
                db,
                action: "webhook.disable",
                subject: { .init(id: id.uuidString.lowercased()) },
                do: { c in
                    guard try await Webhooks.disable(c, logger: call.logger, bank: call.caller.orgId, id: id) else {
                        throw Problem(.notFound, "no endpoint \(id) of yours")
                    }
                }
            )
            return Response(status: .noContent)
        }
        api.on(.get, "/v1/webhooks/deliveries") { call in
            let limit = try PageLimits.size(call.request)
            let q = call.request.uri.queryParameters
            var before: Webhooks.LogCursor?
            if let text = q.get("before") {
                guard let cursor = Webhooks.LogCursor(text) else { throw Problem.invalid("before", "the `next` of a previous page") }
                before = cursor
            }
            var endpoint: UUID?
            if let text = q.get("endpoint_id") {
                guard let id = UUID(uuidString: text) else { throw Problem.invalid("endpoint_id", "an endpoint id (uuid)") }
                endpoint = id
            }
            // Another organisation's endpoint (or none): 404, as for its replay and removal.
            if let endpoint,
                try await db.withConnection({ c in
                    try await !Webhooks.owns(c, logger: call.logger, org: call.caller.orgId, endpoint: endpoint)
                })
            {
                throw Problem(.notFound, "no endpoint \(endpoint) of yours")
            }
            let items = try await db.withConnection { c in
                try await Webhooks.log(c, logger: call.logger, bank: call.caller.orgId, endpoint: endpoint, before: before, limit: limit)
            }
            let next =
                items.count == limit ? items.last.map { Webhooks.LogCursor(sequence: $0.sequence, endpoint: $0.endpointId).text } : nil
            return try JSON.response(Page(items: items, next: next))
        }
        api.on(.post, "/v1/webhooks/:endpointId/replay") { call in
            let id = try call.uuidParameter("endpointId")
            let body = try await call.decode(Replay.self)
            guard body.fromSequence >= 1 else { throw Problem.invalid("from_sequence", "a sequence from the delivery log (1 or more)") }
            let result = try await call.audited(db, action: "webhook.replay", subject: { _ in .init(id: id.uuidString.lowercased()) }) {
                c in
                guard
                    let r = try await Webhooks.replay(
                        c,
                        logger: call.logger,
                        bank: call.caller.orgId,
                        endpoint: id,
                        fromSequence: body.fromSequence
                    )
                else { throw Problem(.notFound, "no endpoint \(id) of yours") }
                return r
            }
            return try JSON.response(Replayed(queued: result.queued, nextSequence: result.next))
        }
    }

    struct Replay: Decodable {
        let fromSequence: Int64
    }

    struct Replayed: Encodable {
        let queued: Int
        /// Set when more events remain than one call re-queues: replay again from here.
        let nextSequence: Int64?
        /// Written by hand to give `next_sequence: null` rather than leave it out.
        enum CodingKeys: CodingKey {
            case queued
            case nextSequence
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(queued, forKey: .queued)
            try c.encode(nextSequence, forKey: .nextSequence)
        }
    }
}
