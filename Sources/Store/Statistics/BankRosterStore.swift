import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The roster of the city's licensed bank branches (`xyd banks roster import`), replaced whole.
public enum BankRosterStore {
    public struct Imported: Sendable {
        public let branches: Int
        /// The banks named in the roster that are registered here, and those that are not.
        public let registered: [String]
        public let unregistered: [String]
    }

    /// Replaces the roster in one transaction.
    public static func replace(_ db: Database, _ branches: [BankRoster.Branch]) async throws -> Imported {
        try await db.withTransaction { c in
            let logger = db.logger
            try await c.query("DELETE FROM bank_roster", logger: logger)
            try await c.query(
                """
                INSERT INTO bank_roster (licence_no, branch_name, bank_name, district_code)
                SELECT * FROM unnest(\(branches.map(\.licenceNo))::text[], \(branches.map(\.branchName))::text[],
                                     \(branches.map(\.bankName))::text[], \(branches.map(\.districtCode))::text[])
                """,
                logger: logger
            )
            var registered: [String] = []
            var unregistered: [String] = []
            for try await (name, known) in try await c.query(
                """
                SELECT DISTINCT r.bank_name, EXISTS (SELECT 1 FROM organisations o WHERE o.kind = 'bank' AND o.name = r.bank_name)
                FROM bank_roster r ORDER BY 1
                """,
                logger: logger
            ).decode((String, Bool).self) {
                if known { registered.append(name) } else { unregistered.append(name) }
            }
            return Imported(branches: branches.count, registered: registered, unregistered: unregistered)
        }
    }

    /// The roster's size and how many of its branches belong to a connected bank (nil: no roster).
    static func coverage(_ c: PostgresConnection, logger: Logger) async throws -> (branches: Int, connected: Int, importedAt: Date)? {
        let row = try await c.query(
            """
            SELECT count(*)::int,
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM stat_bank b WHERE b.name = r.bank_name AND b.has_key AND b.has_product))::int,
                   max(r.imported_at)
            FROM bank_roster r
            """,
            logger: logger
        ).collect().first?.decode((Int, Int, Date?).self)
        guard let row, row.0 > 0, let at = row.2 else { return nil }
        return (row.0, row.1, at)
    }
}
