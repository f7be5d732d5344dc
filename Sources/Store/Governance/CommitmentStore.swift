import CreditCore
import Foundation
import Logging
import PostgresNIO

/// Credit commitments as stored: made by a business, evaluated whenever its records change
/// (in the profile's transaction) and when their period ends (the market sweep).
public enum CommitmentStore {
    public static let listLimit = 200
    /// Commitments whose period ended, evaluated per sweep.
    public static let sweepBatch = 500

    public struct Commitment: Sendable, Encodable {
        public let id: UUID
        public let kind: String
        public let text: String
        public let startsOn: String
        public let endsOn: String
        public let state: String
        public let brokenBy: String?
    }

    public enum Failure: Error, CustomStringConvertible {
        case running(String)
        public var description: String {
            switch self {
            case .running(let k): "a \(k) commitment is already running"
            }
        }
        public var zh: String {
            switch self {
            case .running(let k): "“\(Commitments.Kind(rawValue: k)?.zh ?? "同类")”承诺正在履行中，期满后才能再作。"
            }
        }
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [Commitment] {
        var out: [Commitment] = []
        for try await (id, kind, starts, ends, state, broken) in rows.decode((UUID, String, String, String, String, String?).self) {
            let k = Commitments.Kind(rawValue: kind)
            out.append(
                Commitment(
                    id: id,
                    kind: kind,
                    text: k.map { "\($0.zh) \($0.en)" } ?? kind,
                    startsOn: starts,
                    endsOn: ends,
                    state: state,
                    brokenBy: broken
                )
            )
        }
        return out
    }

    static let columns = "id, kind, starts_on::text, ends_on::text, state, broken_by"

    public static func make(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        org: UUID,
        kind: Commitments.Kind,
        months: Int,
        today: Day
    ) async throws -> Commitment {
        let ends = today.addingMonths(months).addingDays(-1)
        let rows = try await c.query(
            """
            INSERT INTO commitment (uscc, enterprise_org_id, kind, starts_on, ends_on)
            VALUES (\(uscc), \(org), \(kind.rawValue), \(today.description)::date, \(ends.description)::date)
            ON CONFLICT DO NOTHING RETURNING \(unescaped: columns)
            """,
            logger: logger
        )
        guard let made = try await decode(rows).first else { throw Failure.running(kind.rawValue) }
        // Evaluated at once (records already in may break it from its first day).
        try await evaluate(c, logger: logger, usccs: [uscc], today: today)
        return try await mine(c, logger: logger, uscc: uscc).first { $0.id == made.id } ?? made
    }

    public static func mine(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> [Commitment] {
        try await decode(
            c.query(
                "SELECT \(unescaped: columns) FROM commitment WHERE uscc = \(uscc) ORDER BY created_at DESC LIMIT \(listLimit)",
                logger: logger
            )
        )
    }

    /// Evaluates every commitment of these businesses against their histories (loaded here
    /// unless given), writing the states that changed; returns the businesses whose changed.
    @discardableResult
    public static func evaluate(
        _ c: PostgresConnection,
        logger: Logger,
        usccs: [String],
        today: Day,
        histories given: [String: History]? = nil
    ) async throws -> Set<String> {
        let rows = try await c.query(
            "SELECT id, uscc, kind, starts_on::text, ends_on::text, state, broken_by FROM commitment WHERE uscc = ANY(\(usccs)::text[])",
            logger: logger
        ).collect()
        guard !rows.isEmpty else { return [] }
        var changed: Set<String> = []
        let owners = try Set(rows.map { try $0.decode((UUID, String, String, String, String, String, String?).self).1 })
        var histories = given ?? [:]
        let missing = owners.filter { histories[$0] == nil }
        if !missing.isEmpty {
            for (k, v) in try await ProfileStore.histories(c, usccs: Array(missing), upTo: nil, logger: logger) { histories[k] = v }
        }
        for row in rows {
            let (id, uscc, kind, starts, ends, state, broken) = try row.decode((UUID, String, String, String, String, String, String?).self)
            guard let k = Commitments.Kind(rawValue: kind), let s = Day(starts), let e = Day(ends), let h = histories[uscc] else {
                continue
            }
            let result = Commitments.evaluate(k, startsOn: s, endsOn: e, history: h, today: today)
            // At risk before it breaks: the business is told once per obligation, with its due day.
            for risk in Commitments.atRisk(k, startsOn: s, endsOn: e, history: h, today: today) {
                try await Messages.emit(
                    c,
                    logger: logger,
                    uscc: uscc,
                    kind: "commitment.at_risk",
                    data: [
                        "kind": .string(kind), "ends_on": .string(ends), "record_id": .string(risk.recordId),
                        "due_on": .string(risk.dueOn.description),
                    ],
                    dedupe: "commitment:\(id.uuidString.lowercased()):at_risk:\(risk.recordId)"
                )
            }
            guard result.state.rawValue != state || result.brokenBy != broken else { continue }
            changed.insert(uscc)
            try await c.query(
                "UPDATE commitment SET state = \(result.state.rawValue), broken_by = \(result.brokenBy), evaluated_at = now() WHERE id = \(id)",
                logger: logger
            )
            // The business is told when its commitment is kept or broken (once per outcome).
            if result.state == .kept || result.state == .broken {
                try await Messages.emit(
                    c,
                    logger: logger,
                    uscc: uscc,
                    kind: "commitment.\(result.state.rawValue)",
                    data: ["kind": .string(kind), "ends_on": .string(ends), "broken_by": result.brokenBy.map(JSONValue.string) ?? .null],
                    dedupe: "commitment:\(id.uuidString.lowercased()):\(result.state.rawValue)"
                )
            }
        }
        return changed
    }

    /// Every running commitment evaluated on the day (before a full rescore), a batch of
    /// businesses per transaction. Returns the businesses evaluated.
    @discardableResult
    public static func evaluateRunning(_ db: Database, today: Day) async throws -> Int {
        let usccs = try await db.withConnection { c in
            try await c.query("SELECT DISTINCT uscc FROM commitment WHERE state = 'in_progress' ORDER BY uscc", logger: db.logger)
                .collect().map { try $0.decode(String.self) }
        }
        for start in stride(from: 0, to: usccs.count, by: sweepBatch) {
            let batch = Array(usccs[start..<min(start + sweepBatch, usccs.count)])
            try await db.withTransaction { c in try await evaluate(c, logger: db.logger, usccs: batch, today: today) }
        }
        return usccs.count
    }

    /// Commitments whose period has ended but are still in progress: evaluated now, and
    /// their businesses' profiles queued (a kept or broken commitment is a feature). Then running
    /// commitments not yet looked at today, for what puts them at risk (a batch per sweep).
    @discardableResult
    public static func sweep(_ db: Database, today: Day = Day.todayInChina()) async throws -> Int {
        let ended = try await db.withTransaction { c in
            let usccs = try await c.query(
                """
                SELECT DISTINCT uscc FROM commitment WHERE state = 'in_progress' AND ends_on < \(today.description)::date LIMIT \(sweepBatch)
                """,
                logger: db.logger
            ).collect().map { try $0.decode(String.self) }
            if !usccs.isEmpty {
                try await evaluate(c, logger: db.logger, usccs: usccs, today: today)
                try await c.query(
                    "INSERT INTO profile_queue (uscc) SELECT unnest(\(usccs)::text[]) ON CONFLICT DO NOTHING",
                    logger: db.logger
                )
            }
            return usccs.count
        }
        let looked = try await db.withTransaction { c in
            let usccs = try await c.query(
                """
                SELECT DISTINCT uscc FROM commitment WHERE state = 'in_progress' AND ends_on >= \(today.description)::date
                  AND risk_checked_on IS DISTINCT FROM \(today.description)::date LIMIT \(sweepBatch)
                """,
                logger: db.logger
            ).collect().map { try $0.decode(String.self) }
            // One broken by the passing of a due day changes a feature: its profile is queued.
            let changed = usccs.isEmpty ? [] : try await evaluate(c, logger: db.logger, usccs: usccs, today: today)
            try await c.query(
                """
                UPDATE commitment SET risk_checked_on = \(today.description)::date
                WHERE uscc = ANY(\(usccs)::text[]) AND state = 'in_progress' AND ends_on >= \(today.description)::date
                """,
                logger: db.logger
            )
            if !changed.isEmpty {
                try await c.query(
                    "INSERT INTO profile_queue (uscc) SELECT unnest(\(Array(changed))::text[]) ON CONFLICT DO NOTHING",
                    logger: db.logger
                )
            }
            return usccs.count
        }
        return ended + looked
    }
}
