import ArgumentParser
import CreditCore
import Foundation
import Server
import Store

struct ScorecardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorecard", abstract: "Scorecards: publish a version, list them.", subcommands: [Publish.self, List.self])

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a scorecard file, store it, and make it the active version (every profile is then recomputed by the profile service or `xyd rescore`).")
        @OptionGroup var settings: SettingOptions
        @Argument(help: "The scorecard file (JSON, see contracts/scorecards/).") var file: String
        @Flag(help: "Store it without making it active.") var noActivate = false

        func run() async throws {
            let config = try settings.load()
            guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
            let card: Scorecard
            do { card = try Scorecard.decode(data) } catch { fail("\(file): \(error)", status: ExitStatus.configuration) }
            let activate = !noActivate
            let result = await withDatabase(config) { db in
                do {
                    return try await Scorecards.publish(db, card: card, file: data, activate: activate)
                } catch let e as Scorecards.PublishError {
                    fail(e.description)
                }
            }
            print("scorecard \(card.version): \(result.new ? "published" : "already published")"
                + (activate ? ", active; \(result.queued) enterprises queued for rescoring" : ""))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The published scorecards, the active one marked.")
        @OptionGroup var settings: SettingOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let config = try settings.load()
            let cards = await withDatabase(config) { db in try await Scorecards.list(db) }
            if json { printJSON(cards); return }
            if cards.isEmpty { print("no scorecard published yet (xyd scorecard publish FILE)") }
            for c in cards { print("\(c.active ? "*" : " ") \(c.version)  published \(c.publishedAt)  sha256 \(c.sha256.prefix(16))…") }
        }
    }
}

struct Rescore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every enterprise's profile with the active scorecard, showing progress.")
    @OptionGroup var settings: SettingOptions
    @Option(help: "Transactions working at once, 1–16.") var workers = 2
    @Option(help: "Enterprises per transaction, 1–\(ProfileStore.maxBatch).") var batch = 500
    @Option(help: "End the feature windows on this day (YYYY-MM-DD) instead of today in China.") var day: String?
    @Flag(help: "Print a JSON summary as the last line.") var json = false

    func validate() throws {
        guard (1...16).contains(workers) else { throw ValidationError("--workers: 1 to 16") }
        guard (1...ProfileStore.maxBatch).contains(batch) else { throw ValidationError("--batch: 1 to \(ProfileStore.maxBatch)") }
        if let day, Day(day) == nil { throw ValidationError("--day: a date YYYY-MM-DD") }
    }

    struct Summary: Encodable {
        let enterprises: Int
        let seconds: Double
        let perSecond: Int
        let grades: [String: Int]
        enum CodingKeys: String, CodingKey {
            case enterprises, seconds, grades
            case perSecond = "per_second"
        }
    }

    func run() async throws {
        let config = try settings.load()
        let (workers, batch) = (self.workers, self.batch)
        let windowDay = day.flatMap(Day.init)
        let tty = isatty(2) == 1
        let summary = await withDatabase(config) { db in
            let cache = ScorecardCache()
            let total = try await db.withConnection { c in
                guard try await cache.active(c, logger: db.logger) != nil else {
                    fail("no scorecard is active: xyd scorecard publish contracts/scorecards/FILE")
                }
                try await ProfileStore.enqueueAll(c, logger: db.logger)
                return try await c.query("SELECT count(*)::int FROM profile_queue", logger: db.logger).collect()[0].decode(Int.self)
            }
            let done = Locked(0)
            let started = Date()
            // Progress while the workers run; every worker runs until the queue is empty (a
            // cancelled batch would roll back and stay queued).
            let progress = Task {
                var last = Date.distantPast
                while !Task.isCancelled {
                    let n = done.withLock { $0 }
                    let elapsed = Date().timeIntervalSince(started)
                    if tty || Date().timeIntervalSince(last) >= 10 {
                        let rate = elapsed > 0 ? Double(n) / elapsed : 0
                        let eta = rate > 0 ? Int(Double(max(0, total - n)) / rate) : 0
                        let line = "rescoring: \(n)/\(total) enterprises, \(Int(rate))/s, about \(eta) s left"
                        FileHandle.standardError.write(Data((tty ? "\r\u{1B}[K" + line : line + "\n").utf8))
                        last = Date()
                    }
                    try? await Task.sleep(for: .milliseconds(tty ? 250 : 1000))
                }
            }
            defer { progress.cancel() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask {
                        while true {
                            let n = try await ProfileStore.workQueue(db, batch: batch, cache: cache, day: windowDay)
                            if n == 0 { return }
                            done.withLock { $0 += n }
                        }
                    }
                }
                try await group.waitForAll()
            }
            progress.cancel()
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            let seconds = Date().timeIntervalSince(started)
            let grades = try await db.withConnection { c in
                var g: [String: Int] = [:]
                for try await (grade, n) in try await c.query(
                    "SELECT coalesce(grade, 'thin_file'), count(*)::int FROM profile GROUP BY 1", logger: db.logger
                ).decode((String, Int).self) { g[grade] = n }
                return g
            }
            let n = done.withLock { $0 }
            return Summary(enterprises: n, seconds: (seconds * 100).rounded() / 100, perSecond: seconds > 0 ? Int(Double(n) / seconds) : n, grades: grades)
        }
        let shown = ["A", "B", "C", "D", "thin_file"].map { "\($0) \(summary.grades[$0] ?? 0)" }.joined(separator: ", ")
        FileHandle.standardError.write(Data("rescored \(summary.enterprises) enterprises in \(summary.seconds) s (\(summary.perSecond)/s): \(shown)\n".utf8))
        if json { printJSON(summary, pretty: false) }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Signed credit reports: check one offline.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a downloaded report against the service's public key (GET /v1/signing-key). Exit 0 when valid, 1 when not.")
        @Argument(help: "The report file, as downloaded ({\"report\": …, \"signature\": …}).") var file: String
        @Option(help: "The public key: base64 of the 32-byte Ed25519 key, or a file holding it.") var publicKey: String

        func run() async throws {
            guard let bytes = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
            var key = publicKey
            if let fromFile = FileManager.default.contents(atPath: publicKey) {
                key = String(decoding: fromFile, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let (valid, reason) = ReportSigner.verifyDocument(Array(bytes), publicKeyBase64: key)
            if valid {
                print("valid: \(reason)")
            } else {
                fail("NOT valid: \(reason)")
            }
        }
    }
}
