import CreditCore
import Foundation
import Logging
import PostgresNIO
import Store

/// Statistics change only when the summary tables are rebuilt, so a table or a page body is
/// kept until the next rebuild: keyed by what was asked (route, breakdown, filters) and valid
/// for one generation (the latest rebuild or failed rebuild in `stat_refresh`, read in the request's own
/// transaction). Bounded: at most `capacity` entries; a new generation empties it.
final class StatCache: Sendable {
    static let capacity = 2_000

    struct State {
        var generation: Date?
        var entries: [String: String] = [:]
    }
    let state = Locked(State())

    /// The text kept for `key` in `generation`, or `make()`'s, kept.
    func text(_ key: String, generation: Date?, _ make: () async throws -> String) async throws -> String {
        if let hit = state.withLock({ s -> String? in
            if s.generation != generation { s = State(generation: generation) }
            return s.entries[key]
        }) {
            return hit
        }
        let text = try await make()
        state.withLock { s in
            guard s.generation == generation else { return }
            if s.entries.count >= Self.capacity { s.entries.removeAll() }
            s.entries[key] = text
        }
        return text
    }

    /// A statistics read — an API table or a dashboard page, the one way both faces read them:
    /// the text kept for `key` in the current generation (made now when there is none), read from
    /// `source` (a fresh replica, else the leader), and the `stats.read` audit row (with the
    /// filters and breakdown asked for) in a transaction on `db`, the leader, which commits only
    /// once the text is made.
    func read(
        _ db: Database,
        source: Reads,
        _ call: Call,
        key: String,
        detail: [String: String],
        make: @escaping @Sendable (PostgresConnection) async throws -> String
    ) async throws -> String {
        let replica = source.freshReplica
        return try await call.audited(
            db,
            action: "stats.read",
            subject: { _ in .init(detail: RegulatorRoutes.auditDetail(call, detail)) },
            do: { c in
                guard let replica else {
                    let generation = try await Stats.generation(c, logger: call.logger)
                    return try await self.text(key, generation: generation) { try await make(c) }
                }
                return try await replica.withConnection { r in
                    let generation = try await Stats.generation(r, logger: call.logger)
                    return try await self.text(key, generation: generation) { try await make(r) }
                }
            }
        )
    }

    static func key(_ parts: String..., filter: StatFilter) -> String {
        (parts + [
            filter.from ?? "", filter.to ?? "", filter.district ?? "", filter.industry ?? "", filter.size ?? "",
            filter.bank?.uuidString ?? "", filter.productKind ?? "",
        ]).joined(separator: "|")
    }
}
