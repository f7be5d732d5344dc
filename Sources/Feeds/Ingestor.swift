import CreditCore
import Curl
import Foundation
import Logging
import Store

/// What one dataset's run did.
public struct DatasetReport: Sendable, Codable {
    /// `skipped`: another worker holds the dataset's lease (it pulls the dataset meanwhile).
    public enum Outcome: String, Sendable, Codable {
        case caughtUp = "caught_up"
        case stopped, failing, skipped
    }
    public var dataset: String
    public var received = 0
    public var stored = 0
    public var stale = 0
    public var withdrawn = 0
    public var quarantined = 0
    public var live = 0
    public var outcome: Outcome = .caughtUp
    public var reason: String?

    public init(dataset: String) { self.dataset = dataset }

    mutating func add(_ c: PageCounts) {
        received += c.received
        stored += c.stored
        stale += c.stale
        withdrawn += c.withdrawn
        quarantined += c.quarantined
    }
}

/// Pulls datasets until caught up: fetch page k+1 while page k is validated and stored; the
/// cursor moves only in the transaction that stores the page.
public struct Ingestor: Sendable {
    let db: Database
    let clients: [Dataset: ProviderClient]
    let protector: PersonalDataProtector?
    let settings: FeedSettings
    let today: @Sendable () -> Day
    let progress: @Sendable (DatasetReport) -> Void
    /// This worker's name on the datasets' leases (host, process, a random tag).
    public let worker: String

    public init(
        db: Database,
        clients: [Dataset: ProviderClient],
        protector: PersonalDataProtector?,
        settings: FeedSettings,
        today: @escaping @Sendable () -> Day,
        worker: String = Ingestor.workerName(),
        progress: @escaping @Sendable (DatasetReport) -> Void = { _ in }
    ) {
        self.db = db
        self.clients = clients
        self.protector = protector
        self.settings = settings
        self.today = today
        self.worker = worker
        self.progress = progress
    }

    /// `host:pid:tag`, unique to this process.
    public static func workerName() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: .min ... .max))"
    }

    /// A worker of this host whose process has ended (killed, crashed): its leases need not
    /// be waited out. (A worker of another host cannot be checked: its lease runs out.)
    public static func isDeadLocalWorker(_ name: String) -> Bool {
        let parts = name.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0,
            parts.dropLast(2).joined(separator: ":") == ProcessInfo.processInfo.hostName,
            pid != ProcessInfo.processInfo.processIdentifier
        else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

    /// The datasets this worker has a provider for.
    public var datasets: [Dataset] { Dataset.allCases.filter { clients[$0] != nil } }

    /// One dataset until caught up (or stopped): the scheduled service runs each on its own.
    public func runDataset(_ dataset: Dataset) async -> DatasetReport {
        await run(dataset, stoppedProviders: Locked(Set<String>()))
    }

    /// Every configured dataset until caught up (or stopped), a bounded number at a time.
    public func runOnce() async -> [DatasetReport] {
        let datasets = self.datasets
        let stoppedProviders = Locked(Set<String>())
        return await withTaskGroup(of: DatasetReport.self) { group in
            var pending = datasets[...]
            var reports: [DatasetReport] = []
            func launch() {
                guard let d = pending.popFirst() else { return }
                group.addTask { await self.run(d, stoppedProviders: stoppedProviders) }
            }
            for _ in 0..<settings.maxConcurrentDatasets { launch() }
            for await r in group {
                reports.append(r)
                launch()
            }
            return reports.sorted { $0.dataset < $1.dataset }
        }
    }

    func run(_ dataset: Dataset, stoppedProviders: Locked<Set<String>>) async -> DatasetReport {
        var report = DatasetReport(dataset: dataset.rawValue)
        guard let client = clients[dataset] else { return report }
        let provider = dataset.provider.rawValue
        if stoppedProviders.withLock({ $0.contains(provider) }) {
            report.outcome = .stopped
            report.reason = "provider \(provider) stopped on an authentication error"
            return report
        }
        do {
            var holder = try await IngestStore.claim(db, dataset: dataset, worker: worker, seconds: settings.leaseSeconds)
            if let dead = holder?.worker, Self.isDeadLocalWorker(dead) {
                holder = try await IngestStore.claim(
                    db,
                    dataset: dataset,
                    worker: worker,
                    seconds: settings.leaseSeconds,
                    takeOverFrom: dead
                )
            }
            if let holder {
                report.outcome = .skipped
                report.reason = "worker \(holder.worker) is pulling it (lease until \(holder.until))"
                progress(report)
                return report
            }
        } catch {
            report.outcome = .failing
            report.reason = describeDatabaseError(error)
            return report
        }
        // Renewed while this worker pulls (every error below is caught); given back when it is
        // done, however the pull ends.
        let heartbeat = Task { [db, worker, settings] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(settings.leaseSeconds / 3))
                if Task.isCancelled { return }
                // A renewal that does not answer within its third is a failed one.
                let renewed = try? await withDeadline(.seconds(settings.leaseSeconds / 3), "renewing the lease on \(dataset.rawValue)") {
                    try await IngestStore.renew(db, dataset: dataset, worker: worker, seconds: settings.leaseSeconds)
                }
                guard renewed == true else { return }
            }
        }
        do {
            try await pull(dataset, client: client, report: &report)
        } catch IngestError.leaseLost(_, let holder) {
            // Another worker took the dataset over (this one was too slow to renew): it goes on
            // from the stored cursor; nothing of this page was stored.
            report.outcome = .skipped
            report.reason = "the lease ran out" + (holder.map { "; worker \($0) took the dataset over" } ?? "")
        } catch let stop as FeedStop {
            report.outcome = .stopped
            report.reason = "\(stop.scope == .provider ? "provider \(provider)" : dataset.rawValue) stopped: \(stop.description)"
            if stop.scope == .provider { stoppedProviders.withLock { _ = $0.insert(provider) } }
            await record(dataset, status: "stopped", code: stop.code, message: stop.description)
        } catch let gaveUp as FeedGaveUp {
            report.outcome = .failing
            report.reason = gaveUp.description
            await record(dataset, status: "failing", code: "gave_up", message: gaveUp.description)
        } catch {
            report.outcome = .failing
            report.reason = describeDatabaseError(error)
            await record(dataset, status: "failing", code: "error", message: report.reason!)
        }
        heartbeat.cancel()
        // Bounded like every database call here: a dead database must not hold the worker.
        let bound = Duration.seconds(settings.leaseSeconds / 3)
        _ = try? await withDeadline(bound, "giving the lease back") { [db, worker] in
            try await IngestStore.release(db, dataset: dataset, worker: worker)
        }
        report.live = (try? await withDeadline(bound, "counting live records") { [self] in try await live(dataset) }) ?? 0
        progress(report)
        return report
    }

    /// Records how a pull ended, within a bound (a dead database must not hold the worker).
    func record(_ dataset: Dataset, status: String, code: String, message: String) async {
        _ = try? await withDeadline(.seconds(settings.leaseSeconds / 3), "recording how \(dataset.rawValue) ended") { [db] in
            try await IngestStore.markStopped(db, dataset: dataset, status: status, code: code, message: message)
        }
    }

    /// A fetched page, already validated.
    struct PreparedPage: Sendable {
        let page: FetchedPage
        let rows: [StageRow]
        let quarantine: [QuarantineRow]
    }

    func pull(_ dataset: Dataset, client: ProviderClient, report: inout DatasetReport) async throws {
        var cursor = try await IngestStore.position(db, dataset: dataset)
        var restarts = 0
        // Page k+1 is fetched and validated while page k is stored.
        let fetch = { @Sendable (cursor: String?) -> Task<PreparedPage, any Error> in
            Task { [db] in
                let page = try await client.fetch(dataset: dataset, cursor: cursor) { attempt, why in
                    _ = try? await withDeadline(.seconds(5), "recording an attempt") {
                        try await IngestStore.markAttempt(db, dataset: dataset, attempt: attempt, why: why)
                    }
                }
                let (rows, quarantine) = self.prepare(page, dataset: dataset)
                return PreparedPage(page: page, rows: rows, quarantine: quarantine)
            }
        }
        var next: Task<PreparedPage, any Error>? = fetch(cursor)
        defer { next?.cancel() }
        while let fetching = next {
            let prepared: PreparedPage
            do {
                // The fetch runs ahead in a task of its own: cancelling this pull must cancel it
                // too (awaiting a task's value does not), or a provider that hangs holds the pull
                // — and shutdown — for all its attempts.
                prepared = try await withTaskCancellationHandler {
                    try await fetching.value
                } onCancel: {
                    fetching.cancel()
                }
            } catch is CursorExpired {
                restarts += 1
                guard restarts <= 3 else {
                    throw FeedStop(scope: .dataset, status: 410, code: "cursor_expired", message: "expired again after restarting")
                }
                try await IngestStore.resetCursor(db, dataset: dataset, expected: cursor)
                cursor = nil
                next = fetch(nil)
                continue
            }
            let page = prepared.page
            next = page.hasMore ? fetch(page.nextCursor) : nil
            // Bounded: a COPY on a connection that died never answers (issue 16); past the bound
            // the pull fails, its lease is given back, and the next run resumes from the cursor.
            let (before, worker, db) = (cursor, self.worker, self.db)
            let counts = try await withDeadline(.seconds(settings.storeTimeoutSeconds), "storing a page of \(dataset.rawValue)") {
                try await IngestStore.storePage(
                    db,
                    dataset: dataset,
                    cursorBefore: before,
                    cursorAfter: page.nextCursor,
                    hasMore: page.hasMore,
                    rows: prepared.rows,
                    quarantine: prepared.quarantine,
                    received: page.items.count,
                    worker: worker
                )
            }
            report.add(counts)
            cursor = page.nextCursor
            progress(report)
        }
    }

    /// Validates every item: valid ones become staging rows (personal data protected), the
    /// rest quarantine rows with their reason.
    func prepare(_ page: FetchedPage, dataset: Dataset) -> ([StageRow], [QuarantineRow]) {
        let day = today()
        var rows: [StageRow] = []
        var quarantine: [QuarantineRow] = []
        rows.reserveCapacity(page.items.count)
        for item in page.items {
            switch ItemValidator.validate(item, dataset: dataset, today: day) {
            case .success(let v):
                do {
                    rows.append(
                        StageRow(
                            recordId: v.recordId,
                            version: v.version,
                            op: v.op,
                            uscc: v.uscc,
                            updatedAt: v.updatedAt,
                            data: v.op == .delete ? nil : try dataJSON(v)
                        )
                    )
                } catch {
                    quarantine.append(
                        QuarantineRow(
                            recordId: v.recordId,
                            rejection: Rejection("no_data_key", "\(error)"),
                            raw: redacted(item).jsonText
                        )
                    )
                }
            case .failure(let r):
                quarantine.append(QuarantineRow(recordId: item["record_id"]?.stringValue, rejection: r, raw: redacted(item).jsonText))
            }
        }
        return (rows, quarantine)
    }

    struct NoDataKey: Error, CustomStringConvertible {
        var description: String { "a resident ID number arrived but no data key is configured (XYD_DATA_KEY_FILE)" }
    }

    /// The item's data, with the resident ID number replaced by ciphertext, keyed hash and mask.
    func dataJSON(_ v: ValidItem) throws -> String {
        var json = v.dataJSON
        guard let id = v.personalID else { return json }
        guard let protector else { throw NoDataKey() }
        json.removeLast()
        json += json.count > 1 ? "," : ""
        json += "\"legal_rep_id_enc\":\"\(try protector.encrypt(id))\",\"legal_rep_id_hash\":\"\(protector.lookupHash(id))\""
        json += ",\"legal_rep_id_masked\":\"\(ResidentID.masked(id))\"}"
        return json
    }

    /// A raw item fit to keep: any resident ID number in it masked.
    func redacted(_ item: JSONValue) -> JSONValue {
        guard case .object(var o) = item, case .object(var data)? = o["data"], let id = data["legal_rep_id_no"]?.stringValue else {
            return item
        }
        data["legal_rep_id_no"] = .string(ResidentID.masked(id))
        o["data"] = .object(data)
        return .object(o)
    }

    func live(_ dataset: Dataset) async throws -> Int {
        try await db.withConnection { c in try await IngestStore.live(c, logger: db.logger, dataset: dataset) }
    }
}
