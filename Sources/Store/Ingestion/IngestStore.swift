import CreditCore
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// One valid item, ready to stage: `data` is final JSON text (nil on delete).
public struct StageRow: Sendable {
    public let recordId: String
    public let version: Int64
    public let op: ValidItem.Op
    public let uscc: String
    public let updatedAt: String
    public let data: String?

    public init(recordId: String, version: Int64, op: ValidItem.Op, uscc: String, updatedAt: String, data: String?) {
        self.recordId = recordId
        self.version = version
        self.op = op
        self.uscc = uscc
        self.updatedAt = updatedAt
        self.data = data
    }
}

/// One item that broke the rules, kept with its reason.
public struct QuarantineRow: Sendable {
    public let recordId: String?
    public let rejection: Rejection
    public let raw: String

    public init(recordId: String?, rejection: Rejection, raw: String) {
        self.recordId = recordId
        self.rejection = rejection
        self.raw = raw
    }
}

/// What storing one page did.
public struct PageCounts: Sendable, Equatable {
    public var received = 0
    public var stored = 0
    public var stale = 0
    public var withdrawn = 0
    public var quarantined = 0

    public init() {}

    public static func += (a: inout PageCounts, b: PageCounts) {
        a.received += b.received
        a.stored += b.stored
        a.stale += b.stale
        a.withdrawn += b.withdrawn
        a.quarantined += b.quarantined
    }
}

public enum IngestError: Error, CustomStringConvertible {
    /// Another worker moved this dataset's cursor since we read it: nothing was stored.
    case cursorMoved(dataset: String)
    /// This worker's lease on the dataset ran out (another may hold it now): nothing was stored.
    case leaseLost(dataset: String, holder: String?)

    public var description: String {
        switch self {
        case .cursorMoved(let d): "the cursor of \(d) moved under us (another ingestion worker?); the page was not stored"
        case .leaseLost(let d, let holder):
            "the lease on \(d) ran out\(holder.map { " and worker \($0) holds it now" } ?? ""); the page was not stored"
        }
    }
}

/// Stores provider pages: all of a page, its quarantine rows and the new cursor in one
/// transaction; COPY into a per-connection staging table, then one set-based merge.
public enum IngestStore {
    /// How many records of `dataset` are live (stored and not deleted), as its feed state counts them.
    public static func live(_ c: PostgresConnection, logger: Logger, dataset: Dataset) async throws -> Int {
        try await c.query(
            "SELECT coalesce((SELECT live::int FROM feed_state WHERE dataset = \(dataset.rawValue)), 0)",
            logger: logger
        ).collect()[0].decode(Int.self)
    }

    public static let maxPageItems = 1_000

    /// The dataset's feed_state row, made on first use.
    static func ensureState(_ c: PostgresConnection, dataset: Dataset, logger: Logger) async throws {
        try await c.query(
            """
            INSERT INTO feed_state (dataset, provider) VALUES (\(dataset.rawValue), \(dataset.provider.rawValue))
            ON CONFLICT (dataset) DO NOTHING
            """,
            logger: logger
        )
    }

    /// The dataset's saved cursor (creating its row on first use).
    public static func position(_ db: Database, dataset: Dataset) async throws -> String? {
        try await db.withConnection { c in
            try await ensureState(c, dataset: dataset, logger: db.logger)
            let rows = try await c.query(
                "SELECT cursor FROM feed_state WHERE dataset = \(dataset.rawValue)",
                logger: db.logger
            ).collect()
            return try rows[0].decode(String?.self)
        }
    }

    /// Who holds a dataset's lease, when the caller could not take it.
    public struct LeaseHolder: Sendable, Equatable {
        public let worker: String
        public let until: Date
    }

    /// Takes the dataset's lease for `seconds` (or renews it, when this worker holds it):
    /// nil when taken, else who holds it. A lease that ran out is free to take, and so is one
    /// held by `takeOverFrom` (a worker known to be dead).
    public static func claim(
        _ db: Database,
        dataset: Dataset,
        worker: String,
        seconds: Int,
        takeOverFrom dead: String? = nil
    ) async throws -> LeaseHolder? {
        try await db.withConnection { c in
            try await ensureState(c, dataset: dataset, logger: db.logger)
            let rows = try await c.query(
                """
                UPDATE feed_state SET leased_by = \(worker), lease_until = now() + make_interval(secs => \(seconds)),
                    status = 'running', last_attempt_at = now()
                WHERE dataset = \(dataset.rawValue)
                  AND (leased_by IS NULL OR leased_by = \(worker) OR leased_by = \(dead) OR lease_until < now())
                RETURNING 1
                """,
                logger: db.logger
            ).collect()
            if !rows.isEmpty { return nil }
            let held = try await c.query(
                "SELECT leased_by, lease_until FROM feed_state WHERE dataset = \(dataset.rawValue)",
                logger: db.logger
            ).collect()
            let (holder, until) = try held[0].decode((String?, Date?).self)
            // Given back between the two statements: say so rather than claim it was taken.
            return LeaseHolder(worker: holder ?? "(given back just now)", until: until ?? Date())
        }
    }

    /// Renews the lease while this worker holds it; false when it does not any more.
    public static func renew(_ db: Database, dataset: Dataset, worker: String, seconds: Int) async throws -> Bool {
        try await db.withConnection { c in
            try await c.query(
                """
                UPDATE feed_state SET lease_until = now() + make_interval(secs => \(seconds))
                WHERE dataset = \(dataset.rawValue) AND leased_by = \(worker) AND lease_until > now()
                RETURNING 1
                """,
                logger: db.logger
            ).collect().count == 1
        }
    }

    /// Gives the lease back (when this worker still holds it).
    public static func release(_ db: Database, dataset: Dataset, worker: String) async throws {
        try await db.withConnection { c in
            try await c.query(
                "UPDATE feed_state SET leased_by = NULL, lease_until = NULL WHERE dataset = \(dataset.rawValue) AND leased_by = \(worker)",
                logger: db.logger
            )
        }
    }

    /// Stores one page and moves the cursor from `cursorBefore` to `cursorAfter`, or changes
    /// nothing (throws) when another worker moved the cursor first — or, given `worker`, when
    /// that worker's lease on the dataset has run out.
    public static func storePage(
        _ db: Database,
        dataset: Dataset,
        cursorBefore: String?,
        cursorAfter: String,
        hasMore: Bool,
        rows: [StageRow],
        quarantine: [QuarantineRow],
        received: Int,
        worker: String? = nil
    ) async throws -> PageCounts {
        precondition(rows.count + quarantine.count <= received)
        let logger = db.logger
        let name = dataset.rawValue
        return try await db.withTransaction { c in
            // The page and its cursor commit together, so a commit lost in a crash loses both:
            // the page is fetched again from the older cursor and versions make that harmless.
            // Waiting for the WAL flush per page buys nothing here.
            try await c.query("SET LOCAL synchronous_commit = off", logger: logger)
            let current = try await c.query(
                """
                SELECT cursor, nextval('ingest_batch_id_seq'), leased_by, coalesce(lease_until > now(), false), now()::text
                FROM feed_state WHERE dataset = \(name) FOR UPDATE
                """,
                logger: logger
            ).collect()
            guard let row = current.first else { throw IngestError.cursorMoved(dataset: name) }
            let (cursorHeld, batch, holder, leaseLive, now) = try row.decode((String?, Int64, String?, Bool, String).self)
            if let worker, holder != worker || !leaseLive {
                throw IngestError.leaseLost(dataset: name, holder: holder == worker ? nil : holder)
            }
            guard cursorHeld == cursorBefore else { throw IngestError.cursorMoved(dataset: name) }
            var counts = PageCounts()
            var liveDelta = 0
            var usccs: [String] = []
            counts.received = received
            if !rows.isEmpty {
                let (stored, withdrawn, delta, touched) = try await merge(
                    c,
                    dataset: name,
                    batch: batch,
                    rows: rows,
                    now: now,
                    logger: logger
                )
                liveDelta = delta
                usccs = touched
                counts.stored = stored
                counts.withdrawn = withdrawn
                counts.stale = rows.count - stored
            }
            if !quarantine.isEmpty {
                counts.quarantined = try await insertQuarantine(c, dataset: name, batch: batch, quarantine, logger: logger)
            }
            try await c.query(
                """
                INSERT INTO ingest_batch (id, dataset, cursor_before, cursor_after, received, stored, stale, withdrawn, quarantined,
                                          usccs, profiled_at, worker)
                VALUES (\(batch), \(name), \(cursorBefore), \(cursorAfter), \(counts.received), \(counts.stored), \(counts.stale),
                        \(counts.withdrawn), \(counts.quarantined), \(usccs), CASE WHEN \(usccs.isEmpty) THEN now() END, \(worker))
                """,
                logger: logger
            )
            let newest = rows.map(\.updatedAt).max()
            try await c.query(
                """
                UPDATE feed_state SET cursor = \(cursorAfter), pages = pages + 1,
                    received = received + \(counts.received), stored = stored + \(counts.stored), stale = stale + \(counts.stale),
                    withdrawn = withdrawn + \(counts.withdrawn), quarantined = quarantined + \(counts.quarantined),
                    live = live + \(liveDelta),
                    last_success_at = now(), last_attempt_at = now(),
                    newest_item_at = greatest(newest_item_at, \(newest)::timestamptz),
                    status = CASE WHEN \(hasMore) THEN 'running' ELSE 'caught_up' END,
                    caught_up_at = CASE WHEN \(hasMore) THEN caught_up_at ELSE now() END,
                    stop_code = NULL, stop_message = NULL
                WHERE dataset = \(name)
                """,
                logger: logger
            )
            return counts
        }
    }

    /// Stores the page's fresh versions: those above the record's highest stored version (one
    /// primary-key descent per record of the page), once each, copied straight into
    /// `record_version`. Returns how many were stored, how many of those withdraw a record, and
    /// by how much the number of live records moved. The caller holds the dataset's
    /// feed_state row, so no other worker writes this dataset meanwhile.
    static func merge(
        _ c: PostgresConnection,
        dataset: String,
        batch: Int64,
        rows: [StageRow],
        now: String,
        logger: Logger
    ) async throws -> (stored: Int, withdrawn: Int, liveDelta: Int, usccs: [String]) {
        var ids: [String] = []
        var seenIds = Set<String>(minimumCapacity: rows.count)
        for k in rows.indices where seenIds.insert(rows[k].recordId).inserted { ids.append(rows[k].recordId) }
        var current: [String: (version: Int64, live: Bool, uscc: String)] = [:]
        current.reserveCapacity(ids.count)
        // A lateral subquery per id: one descent of the primary key each (with `= ANY(array)`
        // the planner may scan every index entry of the dataset).
        for try await (id, version, op, uscc) in try await c.query(
            """
            SELECT i.id, v.version, v.op, v.uscc FROM unnest(\(ids)::text[]) AS i(id)
            LEFT JOIN LATERAL (SELECT r.version, r.op, r.uscc FROM record_version r
                               WHERE r.dataset = \(dataset) AND r.record_id = i.id ORDER BY r.version DESC LIMIT 1) v ON true
            """,
            logger: logger
        ).decode((String, Int64?, String?, String?).self) {
            if let version { current[id] = (version, op == ValidItem.Op.upsert.rawValue, uscc ?? "") }
        }
        // Rows are referred to by index: a StageRow copy would retain its five strings.
        struct Key: Hashable {
            let id: String
            let version: Int64
        }
        var fresh: [Int] = []
        fresh.reserveCapacity(rows.count)
        var taken = Set<Key>(minimumCapacity: rows.count)
        var top: [String: Int] = [:]
        for k in rows.indices {
            let id = rows[k].recordId
            let version = rows[k].version
            guard version > current[id]?.version ?? 0, taken.insert(Key(id: id, version: version)).inserted else { continue }
            fresh.append(k)
            if let t = top[id], rows[t].version >= version { continue }
            top[id] = k
        }
        guard !fresh.isEmpty else { return (0, 0, 0, []) }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(fresh.count * 400)
        let prefix = dataset + "\t"
        // The last two columns, batch_id and superseded_at: a fresh version overtaken within
        // this page is written superseded already (at the transaction's moment, as the UPDATE
        // below marks the previous tops), so it needs no update.
        let topSuffix = "\t" + String(batch) + "\t\\N\n"
        let superseded = "\t" + String(batch) + "\t" + now + "\n"
        for k in fresh {
            writeKeyColumns(rows[k], prefix: prefix, into: &buffer)
            buffer.writeInteger(UInt8(9))
            if let data = rows[k].data { writeCopyText(data, into: &buffer) } else { buffer.writeString("\\N") }
            buffer.writeString(top[rows[k].recordId] == k ? topSuffix : superseded)
        }
        try await c.copyFrom(
            table: "record_version",
            columns: ["dataset", "record_id", "version", "op", "uscc", "updated_at", "data", "batch_id", "superseded_at"],
            logger: logger
        ) { writer in
            try await writer.write(buffer)
        }
        // The previous top of every record with a fresh top is superseded now.
        var supersededIds: [String] = []
        var supersededVersions: [Int64] = []
        var touched = Set<String>()
        var liveDelta = 0
        for (id, head) in top {
            let before = current[id]?.live ?? false
            let after = rows[head].op == .upsert
            if before != after { liveDelta += after ? 1 : -1 }
            if let previous = current[id] {
                supersededIds.append(id)
                supersededVersions.append(previous.version)
                // A record that moved to another enterprise changes the old one's profile too.
                if previous.uscc != rows[head].uscc, !previous.uscc.isEmpty { touched.insert(previous.uscc) }
            }
        }
        if !supersededIds.isEmpty {
            try await c.query(
                """
                UPDATE record_version SET superseded_at = now()
                FROM unnest(\(supersededIds)::text[], \(supersededVersions)::bigint[]) AS s(id, v)
                WHERE record_version.dataset = \(dataset) AND record_version.record_id = s.id AND record_version.version = s.v
                  AND record_version.superseded_at IS NULL
                """,
                logger: logger
            )
        }
        for k in fresh { touched.insert(rows[k].uscc) }
        return (fresh.count, fresh.count { rows[$0].op == .delete }, liveDelta, touched.sorted())
    }

    /// `dataset, record_id, version, op, uscc, updated_at` of a row in COPY text format
    /// (`prefix` is the dataset and a tab), without the line's end.
    static func writeKeyColumns(_ r: StageRow, prefix: String, into buffer: inout ByteBuffer) {
        buffer.writeString(prefix)
        writeCopyText(r.recordId, into: &buffer)
        buffer.writeInteger(UInt8(9))
        buffer.writeString(String(r.version))
        buffer.writeStaticString(r.op == .upsert ? "\tupsert\t" : "\tdelete\t")
        writeCopyText(r.uscc, into: &buffer)
        buffer.writeInteger(UInt8(9))
        writeCopyText(r.updatedAt, into: &buffer)
    }

    /// COPY text format: backslash, tab, newline and carriage return escaped.
    static func writeCopyText(_ s: String, into buffer: inout ByteBuffer) {
        var needsEscape = false
        for b in s.utf8 where b == 0x5C || b == 0x09 || b == 0x0A || b == 0x0D {
            needsEscape = true
            break
        }
        if !needsEscape {
            buffer.writeString(s)
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x5C: buffer.writeStaticString("\\\\")
            case 0x09: buffer.writeStaticString("\\t")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            default: buffer.writeInteger(b)
            }
        }
    }

    static func insertQuarantine(
        _ c: PostgresConnection,
        dataset: String,
        batch: Int64,
        _ rows: [QuarantineRow],
        logger: Logger
    ) async throws -> Int {
        let ids = rows.map { $0.recordId ?? "" }
        let codes = rows.map(\.rejection.code)
        let reasons = rows.map(\.rejection.description)
        let raws = rows.map(\.raw)
        let hashes = rows.map { ByteBuffer(bytes: SHA256.hash(data: Data($0.raw.utf8))) }
        let inserted = try await c.query(
            """
            INSERT INTO quarantine (dataset, batch_id, record_id, reason_code, reason, raw, raw_hash)
            SELECT \(dataset), \(batch), nullif(r, ''), code, reason, raw, h
            FROM unnest(\(ids)::text[], \(codes)::text[], \(reasons)::text[], \(raws)::text[], \(hashes)::bytea[]) AS t(r, code, reason, raw, h)
            ON CONFLICT (dataset, raw_hash) DO NOTHING
            RETURNING 1
            """,
            logger: logger
        ).collect()
        return inserted.count
    }

    /// Marks a dataset stopped (an error retrying cannot fix) or failing (gave up for now).
    public static func markStopped(_ db: Database, dataset: Dataset, status: String, code: String, message: String) async throws {
        try await db.withConnection { c in
            try await c.query(
                """
                INSERT INTO feed_state (dataset, provider, status, stop_code, stop_message, last_attempt_at)
                VALUES (\(dataset.rawValue), \(dataset.provider.rawValue), \(status), \(code), \(message), now())
                ON CONFLICT (dataset) DO UPDATE SET status = EXCLUDED.status, stop_code = EXCLUDED.stop_code,
                    stop_message = EXCLUDED.stop_message, last_attempt_at = now()
                """,
                logger: db.logger
            )
        }
    }

    /// What an operator should know of ingestion now, one line per dataset in trouble: stopped
    /// or failing (and why), or no page stored for `staleAfterSeconds` although pulls go on.
    public static func troubles(_ db: Database, staleAfterSeconds: Int) async throws -> [String] {
        try await db.withConnection { c in
            try await c.query(
                """
                SELECT dataset || ': ' || CASE
                    WHEN status IN ('failing', 'stopped') THEN status || coalesce(' (' || stop_message || ')', '')
                    ELSE 'no page stored since ' || coalesce(to_char(last_success_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'ever')
                         || coalesce(' (' || stop_message || ')', '') END
                FROM feed_state
                WHERE status IN ('failing', 'stopped')
                   OR (status = 'running' AND last_attempt_at IS NOT NULL
                       AND coalesce(last_success_at, '-infinity') < now() - make_interval(secs => \(staleAfterSeconds)))
                ORDER BY dataset
                """,
                logger: db.logger
            ).collect().map { try $0.decode(String.self) }
        }
    }

    /// Records a failed attempt of the pull in progress (the dataset stays `running`, its message
    /// says which attempt failed and why), so that `xyd feeds status` shows a provider that
    /// hangs or fails while it is retried.
    public static func markAttempt(_ db: Database, dataset: Dataset, attempt: Int, why: String) async throws {
        try await db.withConnection { c in
            try await c.query(
                """
                UPDATE feed_state SET last_attempt_at = now(), stop_code = 'retrying', stop_message = \("attempt \(attempt) failed: \(why)")
                WHERE dataset = \(dataset.rawValue)
                """,
                logger: db.logger
            )
        }
    }

    /// Forgets the cursor (after 410 cursor_expired): the next page starts from the beginning.
    public static func resetCursor(_ db: Database, dataset: Dataset, expected: String?) async throws {
        try await db.withConnection { c in
            try await c.query(
                "UPDATE feed_state SET cursor = NULL WHERE dataset = \(dataset.rawValue) AND cursor IS NOT DISTINCT FROM \(expected)",
                logger: db.logger
            )
        }
    }

    public struct DatasetStatus: Sendable, Codable {
        public let dataset: String
        public let provider: String
        public let status: String
        public let stopCode: String?
        public let stopMessage: String?
        public let lastSuccessAt: Date?
        public let newestItemAt: Date?
        public let received: Int64
        public let stored: Int64
        public let stale: Int64
        public let withdrawn: Int64
        public let quarantined: Int64
        public let live: Int64
        public let quarantineByReason: [String: Int64]
        /// The worker holding the dataset's lease now (pulling it), if any.
        public let pulledBy: String?

        enum CodingKeys: String, CodingKey {
            case dataset, provider, status, received, stored, stale, withdrawn, quarantined, live
            case pulledBy = "pulled_by"
            case stopCode = "stop_code"
            case stopMessage = "stop_message"
            case lastSuccessAt = "last_success_at"
            case newestItemAt = "newest_item_at"
            case quarantineByReason = "quarantine_by_reason"
        }
    }

    /// Data quality per dataset: counters, live records, quarantine by reason.
    public static func status(_ db: Database) async throws -> [DatasetStatus] {
        try await db.withConnection { c in
            var reasons: [String: [String: Int64]] = [:]
            for try await (d, code, n) in try await c.query(
                "SELECT dataset, reason_code, count(*) FROM quarantine GROUP BY 1, 2",
                logger: db.logger
            ).decode((String, String, Int64).self) {
                reasons[d, default: [:]][code] = n
            }
            var result: [DatasetStatus] = []
            for try await (d, p, s, code, msg, success, newest, r, st, sl, w, q, live, by) in try await c.query(
                """
                SELECT dataset, provider, status, stop_code, stop_message, last_success_at, newest_item_at,
                       received, stored, stale, withdrawn, quarantined, live, CASE WHEN lease_until > now() THEN leased_by END
                FROM feed_state ORDER BY dataset
                """,
                logger: db.logger
            ).decode((String, String, String, String?, String?, Date?, Date?, Int64, Int64, Int64, Int64, Int64, Int64, String?).self) {
                result.append(
                    DatasetStatus(
                        dataset: d,
                        provider: p,
                        status: s,
                        stopCode: code,
                        stopMessage: msg,
                        lastSuccessAt: success,
                        newestItemAt: newest,
                        received: r,
                        stored: st,
                        stale: sl,
                        withdrawn: w,
                        quarantined: q,
                        live: live,
                        quarantineByReason: reasons[d] ?? [:],
                        pulledBy: by
                    )
                )
            }
            return result
        }
    }
}
