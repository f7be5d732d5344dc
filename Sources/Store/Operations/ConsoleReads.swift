import CreditCore
import Foundation
import Logging
import PostgresNIO

/// What the operator's console reads besides what the API already lists: quarantined provider
/// records (without their raw text), the scorecards' activations, and each statistics table's
/// last rebuild.
public enum ConsoleReads {
    /// Quarantined records listed at most.
    public static let quarantineLimit = 50

    public struct Quarantined: Sendable, Equatable {
        public let id: Int64
        public let dataset: String
        public let recordId: String?
        public let reasonCode: String
        public let reason: String
        public let receivedAt: Date
    }

    /// The newest quarantined records (of one dataset, or all), at most `limit`.
    public static func quarantined(
        _ c: PostgresConnection,
        logger: Logger,
        dataset: String?,
        limit: Int = quarantineLimit
    ) async throws -> [Quarantined] {
        var out: [Quarantined] = []
        for try await (id, d, record, code, reason, at) in try await c.query(
            """
            SELECT id, dataset, record_id, reason_code, reason, received_at FROM quarantine
            WHERE \(dataset)::text IS NULL OR dataset = \(dataset)
            ORDER BY received_at DESC, id DESC LIMIT \(min(max(limit, 1), quarantineLimit))
            """,
            logger: logger
        ).decode((Int64, String, String?, String, String, Date).self) {
            out.append(Quarantined(id: id, dataset: d, recordId: record, reasonCode: code, reason: reason, receivedAt: at))
        }
        return out
    }

    public struct Activation: Sendable, Equatable {
        public let version: String
        public let activatedAt: Date
    }

    /// Every activation of a scorecard, newest first.
    public static func activations(_ c: PostgresConnection, logger: Logger) async throws -> [Activation] {
        var out: [Activation] = []
        for try await (v, at) in try await c.query(
            "SELECT version, activated_at FROM scorecard_activation ORDER BY activated_at DESC LIMIT 100",
            logger: logger
        ).decode((String, Date).self) {
            out.append(Activation(version: v, activatedAt: at))
        }
        return out
    }

    public struct StatTableState: Sendable, Equatable {
        public let name: String
        public let refreshedAt: Date?
        public let tookMs: Int?
        public let failedAt: Date?
        /// Failing now: its latest rebuild failed after its last success.
        public var failing: Bool { failedAt.map { $0 > (refreshedAt ?? .distantPast) } ?? false }
    }

    /// Each statistics table's last rebuild, and its latest failure.
    public static func statTables(_ c: PostgresConnection, logger: Logger) async throws -> [StatTableState] {
        var out: [StatTableState] = []
        for try await (name, at, took, failed) in try await c.query(
            "SELECT name, refreshed_at, took_ms, failed_at FROM stat_refresh ORDER BY name",
            logger: logger
        ).decode((String, Date?, Int?, Date?).self) {
            out.append(StatTableState(name: name, refreshedAt: at, tookMs: took, failedAt: failed))
        }
        return out
    }
}
